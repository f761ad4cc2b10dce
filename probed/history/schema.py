"""The history tables, next to the store's own, and a small key/value table for watermarks.

Every table that holds a monitor id references ``monitors(id) ON UPDATE CASCADE``, so pinning a
monitor to a new id in monitors.toml takes its history along.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS hourly (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    hour INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    rt_sum_ms INTEGER,
    rt_min_ms INTEGER,
    rt_max_ms INTEGER,
    PRIMARY KEY (monitor_id, hour)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE IF NOT EXISTS history_meta (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""
"""``hourly``: one row per monitor and hour (``hour`` = unix seconds at its start) with the
number of checks, how many failed, and the response times of the good ones in whole
milliseconds (integers take a third of the space of floats). ``runs``: when the daemon ran;
``last_seen_at`` is refreshed every minute so a crash loses at most that much."""


def ensure_schema(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


def get_meta(db: sqlite3.Connection, key: str) -> float | None:
    row = db.execute("SELECT value FROM history_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else float(row[0])


def set_meta(db: sqlite3.Connection, key: str, value: float) -> None:
    db.execute(
        "INSERT INTO history_meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
