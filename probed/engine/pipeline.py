"""One check, end to end: result → state machine → store → metrics → log line.

Results come from two sources and take one path (``_apply``: one judgement by ``state.step``,
one record, one log line). The outbound source is the scheduler: on its timers ``check`` runs
the monitor's probe and applies what it found. An inbound kind (push, see
``probed.config.kinds.inbound``) is checked by nobody: what its job sends is handed in as it
arrives (``deliver``, from ``probed.engine.push``), and its scheduled ``check`` asks the
``InboundSource`` what the silence since means (a missed deadline is a failed check).

``Pipeline`` holds the runtime view of every configured monitor (its id, state and last result)
and is the only writer of monitor state, so checks, pauses and reloads never race each other
inside the event loop. State changes are applied in memory whether or not the database took
them: what it refuses (a full disk) waits in the ``Backlog`` with its true times, and the
record hook (the alerts) still runs, so alerts go out meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from probed.config import Monitor
from probed.config.kinds import inbound
from probed.engine.backlog import Backlog, Record
from probed.engine.connectivity import ConnectivityCheck
from probed.engine.slowness import is_degraded
from probed.engine.stalls import SHARE, LoopWatch, stall_reason
from probed.engine.state import Step, pause, resume, step
from probed.metrics import Metrics
from probed.model import CheckResult, MonitorState, Status, Transition
from probed.store import Store

log = structlog.get_logger("probed")


@dataclass(slots=True)
class Tracked:
    """A configured monitor at run time."""

    monitor: Monitor
    id: int
    state: MonitorState
    last: CheckResult | None = None
    recent_good: tuple[float, ...] = ()
    """Response times (seconds) of the last good checks, oldest first (``slowness.SAMPLE``)."""
    degraded: bool = False
    """Its last good checks were slower than ``slow_threshold`` on average."""
    unwritten: bool = False
    """Its state took a coalesced result (``Pipeline.deliver``) that is not in the store yet."""


Probe = Callable[[Monitor, datetime], Awaitable[CheckResult | None]]
"""Checks a monitor of an outbound kind now (the start time is given); the composition root
binds the session. None: nothing to record."""


class InboundSource(Protocol):
    """Where an inbound kind's results come from (push): they arrive through
    ``Pipeline.deliver``; at a scheduled check the source judges what the time since means."""

    def judge(self, monitor: Monitor, now: datetime) -> CheckResult | None:
        """The result of a scheduled check now; None: nothing to record (no ping due yet)."""
        ...


class TransitionSink(Protocol):
    """Receives transitions after they are stored (the alert dispatcher, for instance)."""

    def __call__(self, tracked: Tracked, transitions: Sequence[Transition]) -> None: ...


class RecordHook(Protocol):
    """Runs inside the store transaction of every check (``result``) and state change
    (``result`` None), with the new transitions and their ids, and ``slowness`` when the check
    changed whether the monitor is degraded (``state.Step.slowness``): what it writes to the
    store commits together with them. The alert policy derives the outbox from here. When the
    record could not be stored it runs once outside any transaction, with ids 0 (none yet). It
    may run after ``tracked`` took the check's state (a batched write): what it needs of the
    check itself is in its arguments."""

    def __call__(
        self,
        tracked: Tracked,
        result: CheckResult | None,
        transitions: Sequence[tuple[int, Transition]],
        slowness: tuple[bool, float] | None,
    ) -> None: ...


class Pipeline:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        probe: Probe,
        now: Callable[[], datetime],
        *,
        record: RecordHook | None = None,
        sinks: Sequence[TransitionSink] = (),
        connectivity: ConnectivityCheck | None = None,
        monitors: dict[str, Tracked] | None = None,
        backlog: Backlog | None = None,
        inbound: InboundSource | None = None,
        stalls: LoopWatch | None = None,
    ) -> None:
        self.store = store
        self.backlog = backlog or Backlog(store, metrics)
        self.metrics = metrics
        self.probe = probe
        self.inbound = inbound
        """Judges the scheduled checks of inbound kinds; None: they have nothing to record."""
        self.now = now
        self.record = record
        self.sinks = tuple(sinks)
        self.connectivity = connectivity
        """When set, a failed check only counts if the probe host itself is online."""
        self.monitors: dict[str, Tracked] = {} if monitors is None else monitors
        """By name; given when parts built before the pipeline (the alert recorder) share it."""
        self.stalls = stalls
        """When set, a check whose time probed's own stall ate is the probe host's failure."""
        self.reruns: dict[str, float] = {}
        """Monitors whose last check a stall spoilt: check again in so many seconds."""

    def track(self, tracked: Tracked) -> None:
        self.monitors[tracked.monitor.name] = tracked
        monitor = tracked.monitor
        self.metrics.add_monitor(
            monitor.name,
            tracked.state.status,
            tracked.last,
            monitor.type,
            url=monitor.display_url,
            group=monitor.group or "",
        )
        self.metrics.set_degraded(monitor.name, tracked.degraded)

    def update(self, monitor: Monitor, monitor_id: int) -> Tracked | None:
        """Give a tracked monitor new settings of the same check (a reload): its state, last
        result and speed stay; whether it is degraded is judged again by the new threshold.
        None when it is not tracked."""
        tracked = self.monitors.get(monitor.name)
        if tracked is None:
            return None
        tracked.monitor, tracked.id = monitor, monitor_id
        tracked.degraded = is_degraded(monitor.slow_threshold, tracked.recent_good)
        self.metrics.set_degraded(monitor.name, tracked.degraded)
        return tracked

    def untrack(self, name: str) -> None:
        self.monitors.pop(name, None)
        self.reruns.pop(name, None)
        self.metrics.remove_monitor(name)

    async def check(self, name: str) -> Tracked | None:
        """Run one scheduled check of a monitor and deliver its result; None if it is gone or
        paused, or the check had nothing to record."""
        tracked = self.monitors.get(name)
        if tracked is None or tracked.state.status is Status.PAUSED:
            return None
        before, monitor = tracked.last, tracked.monitor
        started = 0.0 if self.stalls is None else self.stalls.clock()
        rerun: float | None = None
        if inbound(monitor.check) is None:
            result = await self.probe(monitor, self.now())
            # A good answer within the timeout stands, stall or not: the target did answer.
            if result is not None and not result.ok and self.stalls is not None:
                late = self.stalls.late_during(started, self.stalls.clock())
                if late > SHARE * monitor.timeout:
                    reason = stall_reason(late)
                    result, rerun = replace(result, offline=True, reason=reason), 0.0
        else:
            result = None if self.inbound is None else self.inbound.judge(monitor, self.now())
            if result is not None and not result.ok and (late := self._push_grace(monitor)):
                # Pings sent while probed stood still wait in the listen queue: the deadline
                # gets the stall as grace, so they are read before it is judged again.
                self.reruns[name] = late
                return None
        if result is None:
            return None
        if self.connectivity is not None:
            result = await self.connectivity.confirm(result)
        if self.monitors.get(name) is not tracked or tracked.last is not before:
            # Removed or replaced by a reload while the check ran (its result is about a check
            # that no longer exists), or a newer result arrived meanwhile (a push ping). Paused
            # meanwhile, it is still recorded, and changes nothing (``state.advance``).
            return None
        if rerun is not None:
            self.reruns[name] = rerun
        return self._apply(tracked, result)

    def _push_grace(self, monitor: Monitor) -> float:
        """Seconds of stall within the monitor's last interval when its deadline would not have
        passed without them, else 0."""
        if self.stalls is None or self.inbound is None:
            return 0.0
        clock = self.stalls.clock()
        late = self.stalls.late_during(clock - monitor.interval, clock)
        if not late:
            return 0.0
        credited = self.inbound.judge(monitor, self.now() - timedelta(seconds=late))
        return late if credited is None or credited.ok else 0.0

    def deliver(self, name: str, result: CheckResult, *, coalesce: bool = False) -> Tracked | None:
        """Apply a result that arrived instead of being checked for (a push monitor's ping or
        failure report) as a scheduled check's is; None if the monitor is gone or paused.

        ``coalesce``: the result is not stored unless it changes the state's status or whether
        the monitor is degraded; it counts all the same (state, last result, metrics, the
        alert hook, run outside a transaction) and ``flush`` writes the state it led to.
        """
        tracked = self.monitors.get(name)
        if tracked is None or tracked.state.status is Status.PAUSED:
            return None
        return self._apply(tracked, result, coalesce)

    def flush(self, name: str) -> None:
        """Write the state a coalesced result left in memory only (nothing if none did)."""
        tracked = self.monitors.get(name)
        if tracked is not None and tracked.unwritten:
            self._write(tracked, None, tracked.state, ())

    def _apply(self, tracked: Tracked, result: CheckResult, coalesce: bool = False) -> Tracked:
        name = tracked.monitor.name
        judged = step(
            name,
            tracked.state,
            result,
            tracked.monitor.policy,
            tracked.recent_good,
            tracked.degraded,
        )
        if coalesce and not judged.transitions and judged.slowness is None:
            if self.record is not None:
                self.record(tracked, result, [], None)
            tracked.unwritten = True
        else:
            self._write(tracked, result, judged.state, judged.transitions, judged.slowness)
        tracked.state, tracked.last = judged.state, result
        tracked.recent_good, tracked.degraded = judged.recent_good, judged.degraded
        self._log_speed(tracked, judged)
        self.metrics.observe_check(name, result, judged.state.status)
        # One line per check is 14 M lines a day at 10,000 monitors: a debugging aid. What an
        # operator needs (transitions, problems) is logged at INFO and above.
        log.debug(
            "check",
            monitor=name,
            ok=result.ok,
            reason=result.reason,
            status_code=result.status_code,
            duration=round(result.duration, 4),
            state=judged.state.status.label,
        )
        self._emit(tracked, judged.transitions)
        return tracked

    def _log_speed(self, tracked: Tracked, judged: Step) -> None:
        if judged.slowness is not None:
            degraded, average = judged.slowness
            (log.warning if degraded else log.info)(
                "degraded" if degraded else "no longer degraded",
                monitor=tracked.monitor.name,
                mean_response=round(average, 4),
                slow_threshold=tracked.monitor.slow_threshold,
            )
        self.metrics.set_degraded(tracked.monitor.name, judged.degraded)

    def pause(self, name: str, reason: str = "paused") -> bool:
        return self._change(name, lambda s, at: pause(name, s, at, reason))

    def resume(self, name: str, reason: str = "resumed") -> bool:
        return self._change(name, lambda s, at: resume(name, s, at, reason))

    def _change(
        self,
        name: str,
        step: Callable[[MonitorState, datetime], tuple[MonitorState, list[Transition]]],
    ) -> bool:
        tracked = self.monitors.get(name)
        if tracked is None:
            return False
        state, transitions = step(tracked.state, self.now())
        if transitions:
            self._write(tracked, None, state, transitions)
            tracked.state = state
            self.metrics.set_status(name, state.status)
            self._emit(tracked, transitions)
        return True

    def _write(
        self,
        tracked: Tracked,
        result: CheckResult | None,
        state: MonitorState,
        transitions: Sequence[Transition],
        slowness: tuple[bool, float] | None = None,
    ) -> None:
        """Store the record with its hook; if the store refused it, the hook runs now, outside
        it (unless it already ran in the transaction that failed: the outbox then kept what it
        wrote), so the alerts it decides are not lost."""
        record, ran = self.record, False
        tracked.unwritten = False  # the record carries its whole state

        def run(ids: list[int]) -> None:
            nonlocal ran
            ran = True
            if record is not None:
                record(tracked, result, list(zip(ids, transitions, strict=True)), slowness)

        stored = self.backlog.write(Record(tracked.id, result, state, tuple(transitions)), run)
        if not stored and not ran:
            run([0] * len(transitions))

    def _emit(self, tracked: Tracked, transitions: Sequence[Transition]) -> None:
        for t in transitions:
            # A monitor failing is worth a warning in the journal; recoveries and pauses are not.
            emit = log.warning if t.new in (Status.SEEMS_DOWN, Status.DOWN) else log.info
            emit(
                "transition",
                monitor=t.monitor,
                kind=str(t.kind),
                old=t.old.label,
                new=t.new.label,
                reason=t.reason,
                outage_start=t.outage_start.isoformat() if t.outage_start else None,
            )
        if transitions:
            for sink in self.sinks:
                sink(tracked, transitions)

    def counts(self) -> dict[Status, int]:
        return count_states(self.monitors.values())


def count_states(monitors: Iterable[Tracked]) -> dict[Status, int]:
    """How many monitors are in each state."""
    counts: dict[Status, int] = {}
    for tracked in monitors:
        counts[tracked.state.status] = counts.get(tracked.state.status, 0) + 1
    return counts
