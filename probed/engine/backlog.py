"""The write-behind backlog: the pipeline's records batched into few transactions, and those
the state database could not take.

While ``run`` runs (the daemon's case), a check that changed no state is not written at once: it
waits at most ``FLUSH_EVERY`` seconds or ``FLUSH_SIZE`` records and goes in one transaction with
the others, since a commit per check was most of the store's cost at thousands of monitors. A
record with transitions (or a state change) writes the waiting ones first, then itself, at once,
so records reach the database in the order they happened and alerts are not delayed. Stopping
``run`` writes what waits. Without ``run`` (tests driving the pipeline) every record is written
at once.

When a check's or a state change's transaction fails because the file cannot take it (a full
disk: ``StoreWriteError``), the exact record (its result, the state it led to and its
transitions, with their original times) waits here, in order, and every later record queues
behind it so the database receives them in the order they happened. ``flush`` writes them
oldest first, in bounded batches, and stops at the first failure; ``run`` retries until
cancelled. Memory is bounded by dropping the oldest raw check results beyond ``limit`` (counted
and logged): a transition or the last state of a monitor is never dropped.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from probed.errors import StoreWriteError
from probed.metrics import Metrics
from probed.model import CheckResult, MonitorState, Transition
from probed.store import Store

log = structlog.get_logger("probed")

LIMIT = 20_000
"""Records held before raw results are dropped: 1,000 monitors checked every minute for
20 minutes, a few MB."""
BATCH = 500
"""Records written per flush transaction: one commit for many, and the loop runs between."""
RETRY_EVERY = 5.0
FLUSH_EVERY = 0.5
"""Longest a check without a state change waits before its batch is written."""
FLUSH_SIZE = 200
"""Checks per batch transaction at most."""


@dataclass(frozen=True, slots=True)
class Record:
    """One pipeline write as it happened: a check (``result``) or a state change (None)."""

    monitor_id: int
    result: CheckResult | None
    state: MonitorState
    transitions: tuple[Transition, ...]


class Backlog:
    """Writes the pipeline's records, holding them in order while the store refuses them."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        *,
        limit: int = LIMIT,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.limit = limit
        self.on_change = on_change
        """Called when records start or stop waiting (the daemon's ``STATUS=`` line)."""
        self.error: str | None = None
        """Why the last write failed, while records wait."""
        self._queue: deque[Record] = deque()
        self._held: Counter[int] = Counter()
        """Records waiting per monitor id, so a drop need not scan the whole queue."""
        self._dropped = 0
        self._batching = False
        self._pending: list[tuple[Record, Callable[[list[int]], None] | None]] = []
        """Checks without transitions waiting for their batch (only while ``run`` runs)."""

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def write(self, record: Record, then: Callable[[list[int]], None] | None = None) -> bool:
        """Store ``record`` now (``then`` runs in its transaction, see ``Store.record_check``);
        False when it was queued instead, behind others or because the write failed."""
        if self._queue:
            self._hold(record)
            return False
        if self._batching and record.result is not None and not record.transitions:
            # Its hook runs in the batch's transaction, or outside it if that fails.
            self._pending.append((record, then))
            if len(self._pending) >= FLUSH_SIZE:
                self.write_pending()
            return True
        if self._pending and not self.write_pending():
            self._hold(record)
            return False
        try:
            self._store(record, then)
        except StoreWriteError as exc:
            self._refused("check" if record.result is not None else "state_change", exc)
            self._hold(record)
            self.on_change()
            return False
        return True

    def write_pending(self) -> bool:
        """Write the batched checks in one transaction; False when the store refused them
        (they are held then, in order, and the hooks that had not run have run outside)."""
        pending, self._pending = self._pending, []
        if not pending:
            return True
        ran = 0

        def counting(then: Callable[[list[int]], None] | None) -> Callable[[list[int]], None]:
            def run(ids: list[int]) -> None:
                nonlocal ran
                ran += 1
                if then is not None:
                    then(ids)

            return run

        try:
            with self.store.transaction():
                for record, then in pending:
                    self._store(record, counting(then))
        except StoreWriteError as exc:
            self._refused("check", exc)
            # Those that ran wrote into the failed transaction: what they wrote (alerts) the
            # outbox keeps in memory. The others run now, as for a single refused write.
            for _, then in pending[ran:]:
                if then is not None:
                    then([])
            for record, _ in pending:
                self._hold(record)
            self.on_change()
            return False
        return True

    def _refused(self, operation: str, exc: StoreWriteError) -> None:
        self.metrics.store_error(operation)
        self.error = str(exc)
        log.error("state database refused a write: held in memory", error=str(exc))

    def flush(self, batch: int | None = BATCH) -> bool:
        """Write held records oldest first, ``batch`` per transaction (None: all in one), until
        none is left or one fails; True when none is left. Batched checks go first."""
        self.write_pending()
        while self._queue:
            if not self._step(batch):
                return False
        return True

    async def run(self, every: float = RETRY_EVERY) -> None:
        """Batch checks (see the module's docstring) and retry held records every ``every``
        seconds, until cancelled; what is batched then is written (or held) before returning."""
        self._batching = True
        retried = 0.0
        try:
            while True:
                await asyncio.sleep(min(FLUSH_EVERY, every))
                self.write_pending()
                retried += min(FLUSH_EVERY, every)
                if retried >= every:
                    retried = 0.0
                    await self._drain()
        finally:
            self._batching = False
            self.write_pending()

    async def _drain(self) -> None:
        for _ in range(len(self._queue) // BATCH + 1):
            if not self._queue or not self._step(BATCH):
                return
            await asyncio.sleep(0)

    def _step(self, batch: int | None) -> bool:
        """Write the oldest ``batch`` held records in one transaction; False if it failed."""
        chunk = list(itertools.islice(self._queue, batch or len(self._queue)))
        try:
            with self.store.transaction():
                for record in chunk:
                    self._store(record, None)
        except StoreWriteError as exc:
            self.metrics.store_error("flush")
            self.error = str(exc)
            return False
        for _ in chunk:
            self._held[self._queue.popleft().monitor_id] -= 1
        self.metrics.store_waiting.set(len(self._queue))
        if not self._queue:
            log.info(
                "state database takes writes again: held records written", dropped=self._dropped
            )
            self.error, self._dropped = None, 0
            self.on_change()
        return True

    def _store(self, record: Record, then: Callable[[list[int]], None] | None) -> None:
        if record.result is not None:
            self.store.record_check(
                record.monitor_id, record.result, record.state, record.transitions, then
            )
        else:
            self.store.record_state_change(
                record.monitor_id, record.state, record.transitions, then
            )

    def _hold(self, record: Record) -> None:
        self._queue.append(record)
        self._held[record.monitor_id] += 1
        if len(self._queue) > self.limit:
            self._drop_oldest_result()
        self.metrics.store_waiting.set(len(self._queue))

    def _drop_oldest_result(self) -> None:
        """Drop the oldest raw check that caused no transition and whose monitor has a later
        record (which carries its newer state)."""
        # Runs for every record held past the bound: the scan stops at the first candidate,
        # near the front, instead of indexing the whole queue each time.
        queue, seen = self._queue, Counter[int]()
        for i, record in enumerate(queue):
            seen[record.monitor_id] += 1
            raw = record.result is not None and not record.transitions
            if raw and self._held[record.monitor_id] > seen[record.monitor_id]:
                del queue[i]
                self._held[record.monitor_id] -= 1
                self._dropped += 1
                self.metrics.store_dropped.inc()
                if self._dropped == 1 or self._dropped % 1000 == 0:
                    log.warning(
                        "held writes over their bound: oldest raw check results dropped",
                        dropped=self._dropped,
                        limit=self.limit,
                    )
                return
