"""Schema step for the alert channels (issue 11): what Alertmanager has been told is firing.

Alertmanager forgets an alert that is not re-sent before its ``endsAt``; probed re-sends every
firing alert each minute, and keeps the list here so that a restart while a monitor is down goes
on re-sending without a gap. The outbox itself needs no change: its rows already carry their
channel. An index on (channel, status) lets each channel's worker find its rows.
"""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE alertmanager_alerts (
    channel TEXT NOT NULL,
    monitor TEXT NOT NULL,
    alertname TEXT NOT NULL,
    alert TEXT NOT NULL,
    resolved_at REAL,
    sent_at REAL,
    PRIMARY KEY (channel, monitor, alertname)
);
CREATE INDEX outbox_channel_status ON outbox(channel, status, id);
"""


def migrate(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)
