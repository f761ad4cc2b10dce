"""Schema step: the ``pushes`` table, each push monitor's last ping (``probed.store.pushes``)."""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE pushes (
    monitor_id INTEGER PRIMARY KEY REFERENCES monitors(id) ON UPDATE CASCADE,
    at_ms INTEGER,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL,
    started_ms INTEGER
)
"""


def migrate(db: sqlite3.Connection) -> None:
    """Add the pushes table; every other table stays as it is."""
    run_script(db, SCHEMA)
