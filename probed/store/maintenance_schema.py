"""Schema step 8: maintenance windows added through the API or ``probed maintenance add``
(docs/design.md §18.2); monitors.toml's windows stay in the file."""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL CHECK (end_ms > start_ms),
    created_ms INTEGER NOT NULL
);
CREATE TABLE maintenance_monitors (
    window_id INTEGER NOT NULL REFERENCES maintenance_windows(id) ON DELETE CASCADE,
    -- By name, like monitors.toml's windows: a window outlives a monitor's id being pinned.
    monitor TEXT NOT NULL,
    PRIMARY KEY (window_id, monitor)
) WITHOUT ROWID
"""


def migrate(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)
