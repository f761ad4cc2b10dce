"""Schema step: manual incidents and incident updates (docs/design.md §17.5).

``incidents.monitor_id`` becomes optional (a manual incident may name no monitor, or several,
in ``incident_monitors``), and incidents gain a title, whether they are manual, their impact and
their latest stage; ``incident_updates`` holds what people post. SQLite cannot drop a NOT NULL,
so the table is rebuilt with its rows and ids.
"""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE incidents_v7 (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    monitor_id INTEGER REFERENCES monitors(id) ON UPDATE CASCADE,
    severity TEXT,
    runbook TEXT,
    started_ms INTEGER NOT NULL,
    confirmed_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    acked_ms INTEGER,
    acked_by TEXT,
    ack_note TEXT,
    title TEXT,
    manual INTEGER NOT NULL DEFAULT 0,
    impact TEXT CHECK (impact IN ('minor', 'major')),
    stage TEXT CHECK (stage IN ('investigating', 'identified', 'monitoring', 'resolved'))
);
INSERT INTO incidents_v7 (id, code, monitor_id, severity, runbook, started_ms, confirmed_ms,
    ended_ms, acked_ms, acked_by, ack_note)
SELECT id, code, monitor_id, severity, runbook, started_ms, confirmed_ms, ended_ms, acked_ms,
    acked_by, ack_note FROM incidents;
CREATE TEMP TABLE events_kept AS SELECT * FROM incident_events;
CREATE TEMP TABLE evidence_kept AS SELECT * FROM incident_evidence;
DROP TABLE incident_events;
DROP TABLE incident_evidence;
DROP TABLE incidents;
ALTER TABLE incidents_v7 RENAME TO incidents;
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
INSERT INTO incident_events SELECT * FROM events_kept;
INSERT INTO incident_evidence SELECT * FROM evidence_kept;
DROP TABLE events_kept;
DROP TABLE evidence_kept;
CREATE INDEX incidents_by_monitor ON incidents (monitor_id, confirmed_ms);
CREATE INDEX incidents_open ON incidents (monitor_id) WHERE ended_ms IS NULL;
CREATE INDEX incidents_by_time ON incidents (confirmed_ms);
CREATE TABLE incident_monitors (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    PRIMARY KEY (incident_id, monitor_id)
) WITHOUT ROWID;
CREATE TABLE incident_updates (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('investigating', 'identified', 'monitoring', 'resolved')),
    text TEXT NOT NULL,
    by TEXT
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, at_ms);
CREATE INDEX incident_updates_by_time ON incident_updates (at_ms)
"""


def migrate(db: sqlite3.Connection) -> None:
    # Dropping a parent table deletes its rows first, cascading to the children: the timeline
    # and evidence are set aside and put back around the rebuild (ids unchanged).
    run_script(db, SCHEMA)
