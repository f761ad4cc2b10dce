"""Schema step: incidents with their timeline and evidence (docs/design.md §17).

Outages already in the transitions become incidents, numbered per year in the order they were
confirmed: each DOWN transition opens one, the next UP or PAUSED of its monitor ends it.
"""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE incident_sequences (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    severity TEXT,
    runbook TEXT,
    started_ms INTEGER NOT NULL,
    confirmed_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    acked_ms INTEGER,
    acked_by TEXT,
    ack_note TEXT
);
CREATE INDEX incidents_by_monitor ON incidents (monitor_id, confirmed_ms);
CREATE INDEX incidents_open ON incidents (monitor_id) WHERE ended_ms IS NULL;
CREATE INDEX incidents_by_time ON incidents (confirmed_ms);
CREATE TABLE incident_events (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
) WITHOUT ROWID;
CREATE TABLE incident_evidence (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('opened', 'confirmed', 'last_good')),
    data TEXT NOT NULL,
    PRIMARY KEY (incident_id, role)
) WITHOUT ROWID;
"""

_BACKFILL = """
WITH downs AS (
    SELECT d.monitor_id, d.id AS down_id, d.at_ms, COALESCE(d.outage_start_ms, d.at_ms) AS start_ms,
        CAST(strftime('%Y', d.at_ms / 1000, 'unixepoch') AS INTEGER) AS year,
        (SELECT MIN(e.at_ms) FROM transitions e
         WHERE e.monitor_id = d.monitor_id AND e.kind IN ('up', 'paused')
           AND (e.at_ms > d.at_ms OR (e.at_ms = d.at_ms AND e.id > d.id))) AS end_ms
    FROM transitions d WHERE d.kind = 'down'
)
INSERT INTO incidents (code, monitor_id, started_ms, confirmed_ms, ended_ms)
SELECT printf('INC-%d-%03d', year,
              ROW_NUMBER() OVER (PARTITION BY year ORDER BY at_ms, down_id)),
       monitor_id, start_ms, at_ms, end_ms
FROM downs ORDER BY at_ms, down_id
"""

_TIMELINE = """
INSERT INTO incident_events (incident_id, seq, at_ms, kind, detail)
SELECT id, 1, started_ms, 'failed', '{}' FROM incidents
UNION ALL SELECT id, 2, confirmed_ms, 'down', '{}' FROM incidents
UNION ALL SELECT id, 3, ended_ms, 'ended', '{}' FROM incidents WHERE ended_ms IS NOT NULL
"""


def migrate(db: sqlite3.Connection) -> None:
    """Add the incident tables and make every stored outage an incident."""
    run_script(db, SCHEMA)
    db.execute(_BACKFILL)
    db.execute(_TIMELINE)
    db.execute(
        "INSERT INTO incident_sequences (year, last)"
        " SELECT CAST(substr(code, 5, 4) AS INTEGER), COUNT(*) FROM incidents GROUP BY 1"
    )
