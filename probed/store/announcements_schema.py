"""Schema step: the ``announcements`` table behind the status page's notices (docs/design.md §6)."""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER  -- NULL: until deleted
);
"""


def migrate(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)
