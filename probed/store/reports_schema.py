"""Schema step: the ``report_marks`` table, which periodic report went out, so each period's
report is sent once across restarts (docs/design.md §18.6)."""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

# IF NOT EXISTS: the step's number is settled when the branches of issue 23 are merged, and a
# database that ran this table under another number must still take it.
SCHEMA = """
CREATE TABLE IF NOT EXISTS report_marks (
    every TEXT NOT NULL,           -- '1w' or '1mo'
    period_end_ms INTEGER NOT NULL,
    decided_ms INTEGER NOT NULL,
    sent INTEGER NOT NULL,         -- 0: the baseline a first start marks, nothing was sent
    PRIMARY KEY (every, period_end_ms)
) WITHOUT ROWID;
"""


def migrate(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)
