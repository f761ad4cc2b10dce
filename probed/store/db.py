"""What every table module of the store shares: the connection's transactions and DDL scripts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from probed.errors import StoreWriteError

PAGE_SIZE = 16384
"""Raw results are inserted at a thousand places (the end of each monitor's range): 16 KiB pages
end up fuller than 4 KiB ones, about 5% less file for twice the WAL written per check."""


_WRITE_FAILURES = {
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
}
"""Primary result codes that say the file cannot take a write now, as opposed to a bad
statement or a damaged database: retrying later can succeed."""


def is_write_failure(exc: BaseException | None) -> bool:
    return (
        isinstance(exc, sqlite3.OperationalError)
        and (exc.sqlite_errorcode & 0xFF) in _WRITE_FAILURES
    )


class Transaction:
    """``with``: BEGIN IMMEDIATE … COMMIT, rolled back on any exception. Inside a transaction
    that is already open it joins it, so a write hook (the alert recorder inside a check's
    transaction) commits with its caller or not at all."""

    def __init__(
        self,
        db: sqlite3.Connection,
        on_rollback: Callable[[bool], None],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._on_rollback = on_rollback
        """Told whether the rollback came from a write the file could not take."""
        self._on_commit = on_commit
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
            except sqlite3.Error as error:
                # A failed COMMIT (disk full) can leave the transaction open; the next one
                # would join it and never commit.
                self._rollback(error)
                raise
            self._on_commit()
            return
        self._rollback(exc)

    def _rollback(self, exc: object) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        failed = isinstance(exc, BaseException) and is_write_failure(exc)
        self._on_rollback(failed)
        if failed:
            assert isinstance(exc, sqlite3.OperationalError)
            raise StoreWriteError(str(exc)) from exc


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Execute DDL statements one by one: ``executescript`` would COMMIT the transaction the
    migration runs in."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
