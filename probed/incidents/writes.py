"""The incidents' writes, kept in order through a full disk (docs/design.md §17.1).

Writes are queued per incident ID while an event is decided, then written together (``write``)
in the caller's transaction, else in one of their own. When the file cannot take them, the
transaction's rollback hands them back (``Store.if_not_written``) and they wait in memory, with
every later write of the same incident behind them, until ``persist`` gets them in.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from probed.errors import StoreWriteError
from probed.store import Store

log = structlog.get_logger("probed")

Write = Callable[[], None]


class IncidentWrites:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[str, list[Write]] = {}
        """Writes the file did not take, per incident ID, in order."""
        self._batch: list[tuple[str, Write]] = []
        """Writes decided by the event being recorded, written by ``write``."""

    def queue(self, code: str, write: Write) -> None:
        self._batch.append((code, write))

    def waiting(self, code: str) -> bool:
        """Whether writes of this incident wait for the file (it may not be stored yet)."""
        return code in self._pending

    def write(self) -> None:
        """Write what was queued, in the caller's transaction (else in one of its own). The
        record hook runs it after the alert recorder: the alerts are written (or held) whatever
        happens here. When the file refuses it, the rollback hands it back and it waits for
        ``persist``, as does anything of an incident that already waits."""
        batch, self._batch = self._batch, []
        now: list[tuple[str, Write]] = []
        for code, write in batch:
            if (waiting := self._pending.get(code)) is not None:
                waiting.append(write)
            else:
                now.append((code, write))
        if not now:
            return

        def keep() -> None:
            for code, write in now:
                self._pending.setdefault(code, []).append(write)

        try:
            with self.store.transaction():
                self.store.if_not_written(keep)
                for _, write in now:
                    write()
        except StoreWriteError as exc:
            log.warning("incident kept in memory until the state database takes it", error=str(exc))

    def persist(self) -> None:
        """Write what the file refused before, if it takes it now (each dispatcher round)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            with self.store.transaction():
                for writes in pending.values():
                    for write in writes:
                        write()
        except StoreWriteError:
            for code, writes in pending.items():
                self._pending[code] = writes + self._pending.get(code, [])
            return
        log.info("incidents kept in memory written", incidents=len(pending))
