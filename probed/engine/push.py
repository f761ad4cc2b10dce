"""Push monitors at run time: their tokens, what each job last sent, and what a ping does.

Push is an inbound source of results: nothing is sent, the job calls probed. ``PushBook`` holds
each push monitor's ``PushRecord`` (read from the store on first use, so a restart keeps the
deadline) and finds a monitor by token; it is the pipeline's ``InboundSource`` (a scheduled
check judges the deadline) and gives the scheduler the deadline to anchor that check at.
``PushReceiver`` is what ``/push/<token>`` calls: record the signal, deliver its result to the
pipeline right away (``Pipeline.deliver``, the door every result goes through), and move the
schedule to the new deadline.

Token lookup: the given token is hashed (SHA-256) and the digest looked up, so how long the
lookup takes depends on the digest, never on how much of a real token a guess shares; the entry
found is confirmed with ``hmac.compare_digest``. A hit then takes longer than a miss by the work
of recording the ping, which the 200 (rather than 404) answer tells anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from probed.config import Monitor, PushCheck
from probed.config.kinds import inbound
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.push_rate import PushRate
from probed.engine.scheduler import Scheduler
from probed.errors import StoreWriteError
from probed.model import CheckResult, PushRecord, Status
from probed.probes.push import Signal, Waiting, deadline, judge, receive
from probed.store import Store

log = structlog.get_logger("probed")

COALESCE = timedelta(seconds=1)
"""At most one signal per monitor is stored in this long (one that changes the state always
is); the others count in memory and the last one's record and state are stored when it ends."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class PushBook:
    """The push monitors' tokens and records; ``monitors`` is the pipeline's, by name."""

    def __init__(self, store: Store, monitors: Mapping[str, Tracked]) -> None:
        self.store = store
        self.monitors = monitors
        self._records: dict[int, PushRecord] = {}
        self._unsaved: set[int] = set()
        """Monitor ids whose record in memory is newer than the stored one."""
        self._tokens: dict[bytes, str] = {}

    def index(self, monitors: Iterable[Monitor]) -> None:
        """Take the configured push monitors' tokens (at start and on every reload)."""
        self._tokens = {
            _digest(push.token): m.name for m in monitors if (push := inbound(m.check)) is not None
        }

    def find(self, token: str) -> Tracked | None:
        """The push monitor whose token this is, or None (see the module's note on timing)."""
        name = self._tokens.get(_digest(token))
        tracked = None if name is None else self.monitors.get(name)
        if tracked is None or (check := inbound(tracked.monitor.check)) is None:
            return None
        given, real = token.encode("utf-8", "surrogatepass"), check.token.encode()
        return tracked if hmac.compare_digest(given, real) else None

    def record(self, tracked: Tracked) -> PushRecord:
        if tracked.id not in self._records:
            self._records[tracked.id] = self.store.pushes.get(tracked.id)
        return self._records[tracked.id]

    def judge(self, monitor: Monitor, now: datetime) -> CheckResult | None:
        """The scheduled check of a push monitor (``probed.probes.push.judge``): the
        pipeline's ``InboundSource``."""
        tracked = self.monitors.get(monitor.name)
        if tracked is None or (check := inbound(monitor.check)) is None:
            return None
        waiting = self.waiting(tracked, check)
        return None if waiting is None else judge(monitor, check, waiting, now)

    def deadline(self, name: str) -> datetime | None:
        """When the monitor's next ping is due; None for monitors of other kinds."""
        tracked = self.monitors.get(name)
        if tracked is None or (check := inbound(tracked.monitor.check)) is None:
            return None
        waiting = self.waiting(tracked, check)
        return None if waiting is None else deadline(tracked.monitor, check, waiting)

    def waiting(self, tracked: Tracked, check: PushCheck) -> Waiting | None:
        """What the monitor waits since; None when not known (a state without a time)."""
        record, state = self.record(tracked), tracked.state
        pending = state.status is Status.PENDING
        # While pending (new, resumed, changed), what the job sent before counts for nothing.
        if record.at is not None and not (pending and state.since and record.at < state.since):
            return Waiting(record.at, None if record.ok else record.reason)
        if not pending and state.outage_start is not None:
            # Never pinged and failing: the outage began when the first deadline was missed.
            monitor = tracked.monitor
            wait = monitor.interval + check.grace_for(monitor.interval)
            return Waiting(state.outage_start - timedelta(seconds=wait))
        return None if state.since is None else Waiting(state.since)

    def receive(
        self, tracked: Tracked, signal: Signal, message: str, now: datetime, *, save: bool = True
    ) -> CheckResult | None:
        """Record what the job sent (in the store too unless not ``save``: ``save`` writes it
        later); the check result it is, if any."""
        record, result = receive(self.record(tracked), signal, message, now)
        self._records[tracked.id] = record
        if save:
            self.save(tracked)
        else:
            self._unsaved.add(tracked.id)
        return result

    def save(self, tracked: Tracked) -> None:
        """Write the monitor's record as it is in memory."""
        self._unsaved.discard(tracked.id)
        try:
            self.store.save_push(tracked.id, self.record(tracked))
        except StoreWriteError as exc:
            # It counts in memory all the same; the next signal writes the whole row again.
            log.warning("push not stored", monitor=tracked.monitor.name, error=str(exc))

    def unsaved(self, tracked: Tracked) -> bool:
        return tracked.id in self._unsaved


@dataclass(frozen=True, slots=True)
class Limited:
    """A signal refused: the token sent more than ``push_rate`` allows."""

    retry_after: float
    """Seconds until the token may signal again."""


class PushReceiver:
    """Handles what arrives at ``/push/<token>``: past the token's rate a signal is refused,
    and within ``COALESCE`` seconds of the last stored one it counts without being stored."""

    def __init__(
        self,
        book: PushBook,
        pipeline: Pipeline,
        scheduler: Scheduler,
        now: Callable[[], datetime],
        rate: PushRate | None = None,
    ) -> None:
        self.book = book
        self.pipeline = pipeline
        self.scheduler = scheduler
        self.now = now
        self.rate = rate or PushRate()
        self._stored: dict[int, datetime] = {}
        """When each monitor's last signal was stored (the start of its coalescing window)."""
        self._due: dict[int, tuple[Tracked, asyncio.TimerHandle]] = {}
        """Monitors with a coalesced signal not stored yet, and the timer that stores it."""

    def signal(self, token: str, signal: Signal, message: str = "") -> bool | Limited:
        """Record ``signal`` for the monitor with this token; False when no monitor has it,
        ``Limited`` when the token is over its rate.

        A ping or failure report counts as a check now (a failure report: a failed check, so
        with ``down_after = 1`` the monitor is DOWN at once); for a paused monitor it is
        recorded and changes nothing. The ping or failure that closes a ``/start`` is never
        refused, so a job that got its start in always gets its run's end in.
        """
        tracked = self.book.find(token)
        if tracked is None:
            return False
        now, name = self.now(), tracked.monitor.name
        closes_run = signal is not Signal.START and self.book.record(tracked).started is not None
        if not closes_run and (wait := self.rate.take(tracked.id, now)):
            return Limited(wait)
        stored = self._stored.get(tracked.id)
        coalesce = stored is not None and timedelta(0) <= now - stored < COALESCE
        result = self.book.receive(tracked, signal, message, now, save=not coalesce)
        if result is not None and self.pipeline.deliver(name, result, coalesce=coalesce) is None:
            log.info("push for a paused monitor recorded", monitor=name, signal=str(signal))
        elif result is None:
            log.info("push run started", monitor=name)
        if coalesce:
            assert stored is not None
            self._store_later(tracked, (stored + COALESCE - now).total_seconds())
        else:
            self._stored[tracked.id] = now
        self.scheduler.reanchor(name)
        return True

    def _store_later(self, tracked: Tracked, delay: float) -> None:
        if tracked.id in self._due:
            return
        timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._store, tracked.id)
        self._due[tracked.id] = (tracked, timer)

    def _store(self, monitor_id: int) -> None:
        tracked, _ = self._due.pop(monitor_id)
        if self.book.unsaved(tracked):
            self.book.save(tracked)
        if self.pipeline.monitors.get(tracked.monitor.name) is tracked:
            self.pipeline.flush(tracked.monitor.name)

    def flush(self) -> None:
        """Store every coalesced signal now (at shutdown: nothing is lost)."""
        for monitor_id, (_, timer) in list(self._due.items()):
            timer.cancel()
            self._store(monitor_id)
