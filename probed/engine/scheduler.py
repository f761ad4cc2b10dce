"""APScheduler jobs: one per monitor, spread in time, at the retry interval while unconfirmed.

Each monitor fires at ``epoch + offset + k × interval``, where the offset is a hash of its name:
checks are spread evenly over the interval and keep their phase across restarts and reloads,
so neither a restart nor a reload bunches them. In-flight checks are tracked here because
APScheduler 3's asyncio executor cancels running jobs at shutdown instead of waiting for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from probed.config import Monitor
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.state import needs_retry_interval

log = structlog.get_logger("probed")

RETRY_GAP = 0.05


def phase_offset(name: str, interval: float) -> float:
    """A stable offset in [0, interval) for a monitor, from its name."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * interval


def phased_trigger(name: str, interval: float) -> IntervalTrigger:
    start = datetime.fromtimestamp(phase_offset(name, interval), UTC)
    return IntervalTrigger(seconds=interval, start_date=start, timezone=UTC)


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
    ) -> None:
        self.pipeline = pipeline
        self.now = now
        self.monotonic = monotonic
        self.anchor = anchor
        """A monitor's checks run every interval from this time instead of at its phase (a
        push monitor's deadline: a missed ping is seen when it is missed); None: the phase."""
        self._anchored: dict[str, datetime] = {}
        """The anchor each anchored monitor's checks run from now."""
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        self._limit = asyncio.Semaphore(max_concurrent)
        self._scheduled: dict[str, datetime] = {}
        self._retrying: set[str] = set()
        self.in_flight: set[asyncio.Task[object]] = set()
        self.last_progress = monotonic()
        """Monotonic time of the scheduler's last sign of life (a job submitted or finished)."""
        self.running = False

    def start(self) -> None:
        self._aps.start()
        self.running = True
        self.last_progress = self.monotonic()
        # A heartbeat job keeps last_progress fresh when no monitor is due for a while, so the
        # watchdog and /healthz measure the loop, not the length of the longest interval.
        self._aps.add_job(
            self._heartbeat, IntervalTrigger(seconds=1, timezone=UTC), id="__heartbeat__"
        )

    def add(self, monitor: Monitor) -> None:
        self._aps.add_job(
            self._run,
            self._trigger(monitor),
            args=[monitor.name],
            id=monitor.name,
            name=monitor.name,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            # A check that could not start within one interval is skipped, not run late in a
            # burst: the next one is due by then anyway.
            misfire_grace_time=max(1, int(monitor.interval)),
        )
        self._retrying.discard(monitor.name)

    def remove(self, name: str) -> None:
        if self._aps.get_job(name) is not None:
            self._aps.remove_job(name)
        self._retrying.discard(name)
        self._scheduled.pop(name, None)
        self._anchored.pop(name, None)

    def reanchor(self, name: str) -> None:
        """A result arrived outside the schedule (a push ping): re-check at the retry interval
        if it left a change unconfirmed, else every interval from the monitor's new anchor."""
        tracked = self.pipeline.monitors.get(name)
        if tracked is not None and self.running:
            self._after_check(tracked, moved=True)

    def _trigger(self, monitor: Monitor) -> IntervalTrigger:
        anchor = self.anchor(monitor.name)
        if anchor is None:
            self._anchored.pop(monitor.name, None)
            return phased_trigger(monitor.name, monitor.interval)
        self._anchored[monitor.name] = anchor
        # An anchor already past (a deadline missed while probed was stopped) is checked now,
        # not a whole interval later.
        start = max(anchor, self.now() + timedelta(seconds=RETRY_GAP))
        return IntervalTrigger(seconds=monitor.interval, start_date=start, timezone=UTC)

    def next_run(self, name: str) -> datetime | None:
        job = self._aps.get_job(name)
        return None if job is None else job.next_run_time

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        self.last_progress = self.monotonic()
        if event.scheduled_run_times:
            self._scheduled[event.job_id] = event.scheduled_run_times[-1]

    def _heartbeat(self) -> None:
        self.last_progress = self.monotonic()

    async def _run(self, name: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        try:
            async with self._limit:
                scheduled = self._scheduled.pop(name, None)
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
            self.in_flight.discard(task)
            self.last_progress = self.monotonic()

    def _after_check(self, tracked: Tracked, moved: bool = False) -> None:
        """Re-check at the retry interval while a change is unconfirmed, else at the phase
        (or every interval from the anchor; ``moved``: it may have moved)."""
        monitor, name = tracked.monitor, tracked.monitor.name
        if self._aps.get_job(name) is None:
            return
        if needs_retry_interval(tracked.state) and tracked.last is not None:
            # Anchored at the start of the check just done, so a slow or hanging target costs
            # its timeout once, not timeout + retry_interval per retry. Never sooner than
            # RETRY_GAP from now, so the finishing run is not counted as still running
            # (max_instances) when the next one fires.
            due = max(
                tracked.last.at + timedelta(seconds=monitor.retry_interval),
                self.now() + timedelta(seconds=RETRY_GAP),
            )
            self._retrying.add(name)
            trigger = IntervalTrigger(seconds=monitor.retry_interval, start_date=due, timezone=UTC)
        elif moved or name in self._retrying or self.anchor(name) != self._anchored.get(name):
            self._retrying.discard(name)
            trigger = self._trigger(monitor)
        else:
            return
        self._aps.reschedule_job(name, trigger=trigger)

    async def drain(self, timeout: float) -> int:
        """Stop starting checks, wait up to ``timeout`` s for running ones; return how many
        were cancelled."""
        self.running = False
        if self._aps.running:
            self._aps.pause()
        pending = set(self.in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=timeout)
            for task in pending:
                task.cancel()
        if self._aps.running:
            self._aps.shutdown(wait=False)
        return len(pending)
