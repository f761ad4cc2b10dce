"""Schema version 2, compact history: integer milliseconds, each reason stored once, and the big
tables clustered by (monitor, time), plus daily roll-ups for what is older than 90 days.

Raw results dominate the file (a day of them at 60 s is 1,440 rows per monitor), so a row holds
only what differs from check to check: time, duration and phase timings. What repeats is stored
once: the *outcome* (ok, reason, status code) in a lookup referenced by id, and the certificate
expiry in ``certs``, one row each time a monitor's checks start seeing a different one (or
none). ``WITHOUT ROWID`` tables keyed by (monitor_id, time) keep one monitor's rows together and
need no separate index. The state tables (monitors, pauses, outbox) are small and keep 0.1.0's
form.
"""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script
from probed.store.v1 import SCHEMA as V1

TABLES = """
CREATE TABLE reasons (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY,
    ok INTEGER NOT NULL,
    reason_id INTEGER NOT NULL REFERENCES reasons(id),
    status_code INTEGER
);
CREATE INDEX outcomes_lookup ON outcomes(reason_id, status_code, ok);
CREATE TABLE checks_v2 (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    at_ms INTEGER NOT NULL,
    outcome_id INTEGER NOT NULL REFERENCES outcomes(id),
    duration_ms INTEGER NOT NULL,
    dns_ms INTEGER,
    connect_ms INTEGER,
    tls_ms INTEGER,
    after_first_byte_ms INTEGER,
    PRIMARY KEY (monitor_id, at_ms)
) WITHOUT ROWID;
CREATE TABLE certs (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    from_ms INTEGER NOT NULL,
    cert_expires_ms INTEGER,
    PRIMARY KEY (monitor_id, from_ms)
) WITHOUT ROWID;
CREATE TABLE transitions_v2 (
    id INTEGER PRIMARY KEY,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    kind TEXT NOT NULL,
    old INTEGER NOT NULL,
    new INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    reason_id INTEGER NOT NULL REFERENCES reasons(id),
    outage_start_ms INTEGER
);
CREATE TABLE hourly_v2 (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    hour_ms INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    rt_sum_ms INTEGER,
    rt_min_ms INTEGER,
    rt_max_ms INTEGER,
    PRIMARY KEY (monitor_id, hour_ms)
) WITHOUT ROWID;
CREATE TABLE daily (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    day_ms INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    rt_sum_ms INTEGER,
    rt_min_ms INTEGER,
    rt_max_ms INTEGER,
    PRIMARY KEY (monitor_id, day_ms)
) WITHOUT ROWID;
CREATE TABLE runs_v2 (
    id INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    stopped_ms INTEGER
);
CREATE TABLE history_meta_v2 (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID
"""

_MS = "CAST(ROUND({} * 1000) AS INTEGER)"

COPY = f"""
INSERT INTO reasons (text)
    SELECT reason FROM checks UNION SELECT reason FROM transitions;
INSERT INTO outcomes (ok, reason_id, status_code)
    SELECT DISTINCT c.ok, r.id, c.status_code FROM checks c JOIN reasons r ON r.text = c.reason;
CREATE TEMP TABLE converted AS
    SELECT c.monitor_id,
        -- 0.1.0 kept microseconds: checks in the same millisecond move apart by 1 ms each.
        {_MS.format("c.at")} - 1 + ROW_NUMBER() OVER (
            PARTITION BY c.monitor_id, {_MS.format("c.at")} ORDER BY c.id) AS at_ms,
        o.id AS outcome_id, {_MS.format("c.duration")} AS duration_ms,
        {_MS.format("c.dns")} AS dns_ms, {_MS.format("c.connect")} AS connect_ms,
        {_MS.format("c.tls")} AS tls_ms,
        {_MS.format("c.duration")} - {_MS.format("c.first_byte")} AS after_first_byte_ms,
        {_MS.format("c.cert_expires_at")} AS cert_ms
    FROM checks c
    JOIN reasons r ON r.text = c.reason
    JOIN outcomes o ON o.ok = c.ok AND o.reason_id = r.id AND o.status_code IS c.status_code;
INSERT INTO checks_v2
    SELECT monitor_id, at_ms, outcome_id, duration_ms, dns_ms, connect_ms, tls_ms,
        after_first_byte_ms
    FROM converted ORDER BY monitor_id, at_ms;
INSERT INTO certs
    SELECT monitor_id, at_ms, cert_ms FROM (
        SELECT monitor_id, at_ms, cert_ms,
            LAG(cert_ms) OVER (PARTITION BY monitor_id ORDER BY at_ms) AS previous
        FROM converted)
    WHERE cert_ms IS NOT previous ORDER BY monitor_id, at_ms;
DROP TABLE converted;
INSERT INTO transitions_v2
    SELECT t.id, t.monitor_id, t.kind, t.old, t.new, {_MS.format("t.at")}, r.id,
        {_MS.format("t.outage_start")}
    FROM transitions t JOIN reasons r ON r.text = t.reason;
INSERT INTO hourly_v2
    SELECT monitor_id, hour * 1000, checks, failures, rt_sum_ms, rt_min_ms, rt_max_ms
    FROM hourly ORDER BY monitor_id, hour;
INSERT INTO runs_v2
    SELECT id, {_MS.format("started_at")}, {_MS.format("last_seen_at")},
        {_MS.format("stopped_at")}
    FROM runs;
INSERT INTO history_meta_v2 SELECT key, {_MS.format("value")} FROM history_meta
"""

SWAP = """
DROP TABLE checks;
DROP TABLE transitions;
DROP TABLE hourly;
DROP TABLE runs;
DROP TABLE history_meta;
ALTER TABLE checks_v2 RENAME TO checks;
ALTER TABLE transitions_v2 RENAME TO transitions;
ALTER TABLE hourly_v2 RENAME TO hourly;
ALTER TABLE runs_v2 RENAME TO runs;
ALTER TABLE history_meta_v2 RENAME TO history_meta;
CREATE INDEX transitions_monitor_at ON transitions(monitor_id, at_ms)
"""


def migrate(db: sqlite3.Connection) -> None:
    """Version 1 → 2, converting every row: seconds → milliseconds, reason text → ids."""
    # 0.1.0 created the history, pause and outbox tables only when the daemon first ran; a
    # database it left without them is still version 1.
    run_script(db, V1)
    run_script(db, TABLES)
    run_script(db, COPY)
    run_script(db, SWAP)
