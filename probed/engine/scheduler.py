"""The check schedule: one event-loop timer per monitor, spread in time, at the retry interval
while unconfirmed.

Each monitor fires at ``epoch + offset + k × interval``, where the offset is a hash of its name:
checks are spread evenly over the interval and keep their phase across restarts and reloads,
so neither a restart nor a reload bunches them. A monitor never checked (no state yet: a first
start, or added by a reload) gets its first check within ``first_spread`` seconds instead,
spread over them by the same hash and bounded by the check slots, then settles into its phase.
A monitor's check never overlaps its previous one, and a check that could not start within one
interval of its time (the loop was blocked) is skipped rather than run late in a burst: the next
one is due by then anyway.

The timers are the event loop's own (``call_at``) rather than a scheduling library's: at 10,000
monitors APScheduler's job bookkeeping was a tenth of the CPU of every check and a third of the
start-up. In-flight checks are tracked here so that shutdown can wait for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from probed.config import Monitor
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.state import needs_retry_interval
from probed.model import Status

log = structlog.get_logger("probed")

RETRY_GAP = 0.05
HEARTBEAT = 1.0
FIRST_SPREAD = 10.0
"""Seconds over which the first checks of monitors never checked are spread (at most their
interval): ``probed status`` says up or down within seconds of a first start, not an interval.
Many new monitors spread wider: no more first checks a second than there are check slots."""


def phase_offset(name: str, interval: float) -> float:
    """A stable offset in [0, interval) for a monitor, from its name."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * interval


@dataclass(slots=True)
class _Job:
    """One monitor's schedule: fires at ``anchor + k × every`` (unix seconds)."""

    name: str
    anchor: float
    every: float
    next_at: float = 0.0
    timer: asyncio.TimerHandle | None = None
    retrying: bool = False
    """At the retry interval, anchored at the last check, instead of at the phase."""
    anchored: datetime | None = None
    """The anchor (``Scheduler.anchor``) the job runs from; None: its phase."""
    first: bool = False
    """Its monitor was never checked: the first check comes before the phase (FIRST_SPREAD)."""
    rerun: bool = False
    """The check due is a re-run after a stall of probed's own (``Pipeline.reruns``)."""

    def after(self, t: float) -> float:
        """The first firing time strictly after ``t``."""
        if t < self.anchor:
            return self.anchor
        return self.anchor + (math.floor((t - self.anchor) / self.every) + 1) * self.every

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class Scheduler:
    """Runs ``pipeline.check`` for every monitor on its schedule, at most ``max_concurrent``
    at a time."""

    def __init__(
        self,
        pipeline: Pipeline,
        max_concurrent: int,
        now: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        anchor: Callable[[str], datetime | None] = lambda name: None,
        first_spread: float = FIRST_SPREAD,
    ) -> None:
        self.pipeline = pipeline
        self.now = now
        self.monotonic = monotonic
        self.anchor = anchor
        """A monitor's checks run every interval from this time instead of at its phase (a
        push monitor's deadline: a missed ping is seen when it is missed); None: the phase."""
        self.first_spread = first_spread
        self._limit = asyncio.Semaphore(max_concurrent)
        self.first_rate = float(max_concurrent)
        """First checks a second at most: a first start of many monitors spreads wider than
        ``first_spread`` rather than queue more checks than the slots can take."""
        self._firsts = 0
        """Jobs waiting for their first check: they set how wide the first checks spread."""
        self._jobs: dict[str, _Job] = {}
        self._running: set[str] = set()
        """Monitors whose check runs now (by name: a reload may replace the job meanwhile)."""
        self._heartbeat: asyncio.TimerHandle | None = None
        self.in_flight: set[asyncio.Task[object]] = set()
        self.last_progress = monotonic()
        """Monotonic time of the scheduler's last sign of life (a check started or finished,
        or the heartbeat)."""
        self.running = False

    def _wall(self) -> float:
        return self.now().timestamp()

    def start(self) -> None:
        self.running = True
        self.last_progress = self.monotonic()
        now = self._wall()
        self._firsts = sum(job.first for job in self._jobs.values())
        for job in self._jobs.values():
            if job.first:  # spread from the start, however long the start-up took
                self._arm(job, self._due(job, now))
            else:
                self._arm(job, job.next_at if job.next_at > now else job.after(now))
        self._beat()

    def _beat(self) -> None:
        # Keeps last_progress fresh when no monitor is due for a while, so the watchdog and
        # /healthz measure the loop, not the length of the longest interval.
        self.last_progress = self.monotonic()
        if self.running:
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(HEARTBEAT, self._beat)

    def add(self, monitor: Monitor) -> None:
        """Schedule ``monitor`` at its phase or anchor (again, if it was: a new interval
        applies)."""
        self.remove(monitor.name)
        job = _Job(monitor.name, 0.0, monitor.interval)
        self._jobs[monitor.name] = job
        self._plan(job, monitor)

    def _plan(self, job: _Job, monitor: Monitor) -> None:
        """Every interval at the monitor's phase, or from its anchor."""
        job.retrying, job.every = False, monitor.interval
        job.anchored = self.anchor(monitor.name)
        if job.anchored is None:
            job.anchor = phase_offset(monitor.name, monitor.interval)
            self._set_first(job, self._never_checked(monitor.name))
            at = self._due(job, self._wall())
        else:
            # An anchor already past (a deadline missed while probed was stopped) is checked
            # now, not a whole interval later.
            at = job.anchor = max(job.anchored.timestamp(), self._wall() + RETRY_GAP)
        if self.running:
            self._arm(job, at)
        else:
            job.next_at = at

    def _never_checked(self, name: str) -> bool:
        tracked = self.pipeline.monitors.get(name)
        return tracked is not None and tracked.state.status is Status.PENDING and not tracked.last

    def _set_first(self, job: _Job, first: bool) -> None:
        self._firsts += first - job.first
        job.first = first

    def _due(self, job: _Job, now: float) -> float:
        """The job's next time after ``now``: its phase or, before a first check, the earlier
        of that and a stable moment within the first checks' spread."""
        at = job.after(now)
        if job.first:
            # 50,000 new monitors with 512 slots spread over 98 s (at most their interval),
            # not 10: a first start is no burst of queued checks.
            spread = max(self.first_spread, self._firsts / self.first_rate)
            at = min(at, now + phase_offset(job.name, min(spread, job.every)))
        return at

    def reanchor(self, name: str) -> None:
        """A result arrived outside the schedule (a push ping): re-check at the retry interval
        if it left a change unconfirmed, else every interval from the monitor's new anchor."""
        tracked = self.pipeline.monitors.get(name)
        self.pipeline.reruns.pop(name, None)  # what arrived is what a stall's grace waited for
        if tracked is not None and self.running:
            self._after_check(tracked, moved=True)

    def remove(self, name: str) -> None:
        job = self._jobs.pop(name, None)
        if job is not None:
            self._set_first(job, False)
            job.cancel()

    def next_run(self, name: str) -> datetime | None:
        job = self._jobs.get(name)
        return None if job is None else datetime.fromtimestamp(job.next_at, UTC)

    def _arm(self, job: _Job, at: float) -> None:
        job.cancel()
        job.next_at = at
        loop = asyncio.get_running_loop()
        job.timer = loop.call_at(loop.time() + (at - self._wall()), self._fire, job)

    def _fire(self, job: _Job) -> None:
        job.timer = None
        if not self.running or self._jobs.get(job.name) is not job:
            return
        self.last_progress = self.monotonic()
        self._set_first(job, False)  # from here on, the phase
        scheduled, now = job.next_at, self._wall()
        # The loop's timers may fire a hair early; the next time follows the planned one.
        self._arm(job, job.after(max(scheduled, now)))
        if job.name in self._running:
            log.debug("check skipped: the previous one still runs", monitor=job.name)
            return
        if now - scheduled > max(1.0, job.every):
            # After a stall of probed itself (logged once by the LoopWatch), one line each
            # for thousands of monitors would bury that line.
            stalls = self.pipeline.stalls
            clock = 0.0 if stalls is None else stalls.clock()
            stalled = stalls is not None and stalls.late_during(clock - (now - scheduled), clock)
            (log.debug if stalled else log.warning)(
                "check skipped: started too late", monitor=job.name, late=now - scheduled
            )
            return
        at = datetime.fromtimestamp(scheduled, UTC)
        asyncio.get_running_loop().create_task(self._run(job.name, at))

    async def _run(self, name: str, scheduled: datetime | None = None) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        self._running.add(name)
        try:
            async with self._limit:
                if scheduled is not None:
                    lag = (self.now() - scheduled).total_seconds()
                    self.pipeline.metrics.schedule_lag.observe(max(0.0, lag))
                checked = await self.pipeline.check(name)
            # A check with nothing to record (None) may still have moved its anchor (a push
            # monitor resumed: its deadline now counts from the resume).
            tracked = checked or self.pipeline.monitors.get(name)
            if tracked is not None and self.running:
                self._after_check(tracked)
        except Exception:
            # A bug in one check must not take the scheduler down; log it with its traceback.
            log.exception("check crashed", monitor=name)
        finally:
            self._running.discard(name)
            self.in_flight.discard(task)
            self.last_progress = self.monotonic()

    def _after_check(self, tracked: Tracked, moved: bool = False) -> None:
        """Re-check at the retry interval while a change is unconfirmed, else at the phase
        (or every interval from the anchor; ``moved``: it may have moved)."""
        monitor, name = tracked.monitor, tracked.monitor.name
        job = self._jobs.get(name)
        if job is None:
            return
        rerun = self.pipeline.reruns.pop(name, None)
        if rerun is not None and not job.rerun:
            # Probed's own stall spoilt the check: it is due again at once (or, for a push
            # deadline, once the stall's grace is over). Once: a loop late all along (load 9)
            # must not turn every spoilt check into another one at once.
            job.rerun = True
            self._arm(job, self._wall() + max(RETRY_GAP, rerun))
            return
        job.rerun = False
        if needs_retry_interval(tracked.state) and tracked.last is not None:
            # Anchored at the start of the check just done, so a slow or hanging target costs
            # its timeout once, not timeout + retry_interval per retry. Never sooner than
            # RETRY_GAP from now, so the finishing run is not counted as still running when
            # the next one fires.
            due = max(
                tracked.last.at + timedelta(seconds=monitor.retry_interval),
                self.now() + timedelta(seconds=RETRY_GAP),
            ).timestamp()
            job.anchor, job.every, job.retrying = due, monitor.retry_interval, True
            self._arm(job, due)
        elif moved or job.retrying or self.anchor(name) != job.anchored:
            self._plan(job, monitor)

    async def drain(self, timeout: float) -> int:
        """Stop starting checks, wait up to ``timeout`` s for running ones; return how many
        were cancelled."""
        self.running = False
        for job in self._jobs.values():
            job.cancel()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        pending = set(self.in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=timeout)
            for task in pending:
                task.cancel()
        return len(pending)
