"""What every table module of the store shares: the connection's transactions and DDL scripts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

PAGE_SIZE = 16384
"""Raw results are inserted at a thousand places (the end of each monitor's range): 16 KiB pages
end up fuller than 4 KiB ones, about 5% less file for twice the WAL written per check."""


class Transaction:
    """``with``: BEGIN IMMEDIATE … COMMIT, rolled back on any exception. Inside a transaction
    that is already open it joins it, so a write hook (the alert recorder inside a check's
    transaction) commits with its caller or not at all."""

    def __init__(self, db: sqlite3.Connection, on_rollback: Callable[[], None]) -> None:
        self._db = db
        self._on_rollback = on_rollback
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._outer:
            return
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                # A failed COMMIT (disk full) can leave the transaction open; the next one
                # would join it and never commit.
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._on_rollback()


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Execute DDL statements one by one: ``executescript`` would COMMIT the transaction the
    migration runs in."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
