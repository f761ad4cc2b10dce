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

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

import structlog

from probed.config import Monitor, PushCheck
from probed.config.kinds import inbound
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.scheduler import Scheduler
from probed.errors import StoreWriteError
from probed.model import CheckResult, PushRecord, Status
from probed.probes.push import Signal, Waiting, deadline, judge, receive
from probed.store import Store

log = structlog.get_logger("probed")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class PushBook:
    """The push monitors' tokens and records; ``monitors`` is the pipeline's, by name."""

    def __init__(self, store: Store, monitors: Mapping[str, Tracked]) -> None:
        self.store = store
        self.monitors = monitors
        self._records: dict[int, PushRecord] = {}
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
        self, tracked: Tracked, signal: Signal, message: str, now: datetime
    ) -> CheckResult | None:
        """Record what the job sent; the check result it is, if any."""
        record, result = receive(self.record(tracked), signal, message, now)
        self._records[tracked.id] = record
        try:
            self.store.save_push(tracked.id, record)
        except StoreWriteError as exc:
            # It counts in memory all the same; the next signal writes the whole row again.
            log.warning("push not stored", monitor=tracked.monitor.name, error=str(exc))
        return result


class PushReceiver:
    """Handles what arrives at ``/push/<token>``."""

    def __init__(
        self,
        book: PushBook,
        pipeline: Pipeline,
        scheduler: Scheduler,
        now: Callable[[], datetime],
    ) -> None:
        self.book = book
        self.pipeline = pipeline
        self.scheduler = scheduler
        self.now = now

    def signal(self, token: str, signal: Signal, message: str = "") -> bool:
        """Record ``signal`` for the monitor with this token; False when no monitor has it.

        A ping or failure report counts as a check now (a failure report: a failed check, so
        with ``down_after = 1`` the monitor is DOWN at once); for a paused monitor it is
        recorded and changes nothing.
        """
        tracked = self.book.find(token)
        if tracked is None:
            return False
        name = tracked.monitor.name
        result = self.book.receive(tracked, signal, message, self.now())
        if result is not None and self.pipeline.deliver(name, result) is None:
            log.info("push for a paused monitor recorded", monitor=name, signal=str(signal))
        elif result is None:
            log.info("push run started", monitor=name)
        self.scheduler.reanchor(name)
        return True
