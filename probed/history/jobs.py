"""The daemon's periodic history work, as one asyncio task: the run heartbeat and the uptime
metrics every minute, roll-up and pruning every ten minutes (sooner while catching up)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta

import structlog

from probed.engine.pipeline import Tracked
from probed.errors import StoreWriteError
from probed.history import History
from probed.history.slo import WINDOW_SECONDS as SLO_WINDOW
from probed.history.slo import budget
from probed.metrics import UPTIME_WINDOWS, Metrics
from probed.model import Status, Transition

log = structlog.get_logger("probed")

_CHECKED = (Status.UP, Status.SEEMS_DOWN, Status.DOWN)
REFRESH_GAP = 0.25
"""Seconds between two uptime refreshes caused by transitions (see on_transitions)."""
MAX_STEPS = 24
"""Roll-up hours and prune batches per maintenance round; each is one short transaction and the
event loop runs checks between them."""


def _ratio_of_state(status: Status) -> float | None:
    """The uptime of a monitor with no time observed: what its state says; None unchecked."""
    if status not in _CHECKED:
        return None
    return 0.0 if status is Status.DOWN else 1.0


class Housekeeping:
    """Keeps history bounded and the uptime metrics fresh; ``run()`` until cancelled."""

    def __init__(
        self,
        history: History,
        monitors: Mapping[str, Tracked],
        metrics: Metrics,
        every: float = 60.0,
        maintain_every: float = 600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.history = history
        self.monitors = monitors
        """The pipeline's live view of the configured monitors."""
        self.metrics = metrics
        self.every = every
        self.maintain_every = maintain_every
        self.monotonic = monotonic
        self._dirty: dict[str, Tracked] = {}
        """Monitors whose transitions came while a refresh was held back (REFRESH_GAP)."""
        self._refreshed_at = -REFRESH_GAP
        self._held: asyncio.TimerHandle | None = None
        self._clean: dict[str, Tracked] = {}
        """Monitors up without downtime in the longest window at their last refresh: their
        ratios stay 100 % until a transition (see refresh_uptime)."""

    async def run(self) -> None:
        try:
            await self._rounds()
        finally:
            self.stop()

    def stop(self) -> None:
        """Drop a refresh held back: it must not read a store about to close."""
        if self._held is not None:
            self._held.cancel()
            self._held = None

    async def _rounds(self) -> None:
        due = self.monotonic()  # catch up at once after the daemon was stopped
        while True:
            try:
                self.history.heartbeat()
                self.refresh_uptime()
                if self.monotonic() >= due:
                    more = await self.maintain()
                    due = self.monotonic() + (self.every if more else self.maintain_every)
            except StoreWriteError as exc:
                # A full disk: the pipeline's backlog says so; the next round catches up.
                self.metrics.store_error("housekeeping")
                log.warning("history housekeeping postponed", error=str(exc))
            except Exception:
                # A failing round must not end housekeeping for good.
                log.exception("history housekeeping failed")
            await asyncio.sleep(self.every)

    async def maintain(self) -> bool:
        """One bounded round of roll-up and pruning; True when work is left for another."""
        rolled = pruned = False
        for _ in range(MAX_STEPS):
            rolled = self.history.rollup_step()
            await asyncio.sleep(0)
            if not rolled:
                break
        for _ in range(MAX_STEPS):
            pruned = self.history.prune_step()
            await asyncio.sleep(0)
            if not pruned:
                break
        return rolled or pruned

    def refresh_uptime(self, tracked: Iterable[Tracked] | None = None) -> None:
        """Set probed_uptime_ratio for every monitor (or those given) and window."""
        every = tracked is None
        tracked = list(self.monitors.values() if tracked is None else tracked)
        now = self.history.now()
        longest = max(*UPTIME_WINDOWS.values(), SLO_WINDOW)
        clean = self._clean
        if every:
            # An up monitor without downtime in the longest window reads 100 % in every
            # window until its next transition (which refreshes it): no need to read it again.
            tracked = [t for t in tracked if clean.get(t.monitor.name) is not t]
            for gone in [n for n in clean if n not in self.monitors]:
                del clean[gone]
        timelines = self.history.timelines(
            [t.id for t in tracked], now - timedelta(seconds=longest)
        )
        for t in tracked:
            _, line = timelines[t.id]
            name = t.monitor.name
            if (
                t.state.status is Status.UP
                and line.seconds(now - timedelta(seconds=longest), now)[1] == 0
            ):
                clean[name] = t
            else:
                clean.pop(name, None)
            for window, seconds in UPTIME_WINDOWS.items():
                ratio = line.ratio(now - timedelta(seconds=seconds), now)
                if ratio is None:
                    # Checked this very moment: no time observed yet, but the state is known,
                    # and a new monitor should not be missing from uptime alerts and panels.
                    ratio = _ratio_of_state(t.state.status)
                self.metrics.set_uptime(t.monitor.name, window, ratio)
            objective = t.monitor.slo
            left = None
            if objective is not None:
                up, down = line.seconds(now - timedelta(seconds=SLO_WINDOW), now)
                left = budget(objective, up, down).remaining_ratio
            self.metrics.set_slo_budget(t.monitor.name, left)

    def on_transitions(self, tracked: Tracked, transitions: Sequence[Transition]) -> None:
        """A pipeline sink: a monitor's ratios change with its state, so refresh them now
        rather than at the next minute (a new monitor gets its series at its first check).

        Each refresh is a store read. In a mass outage thousands of monitors change within
        seconds, so after one refresh the next waits up to REFRESH_GAP and covers every monitor
        that changed meanwhile: one read for many instead of one per transition."""
        name = tracked.monitor.name
        self._dirty[name] = tracked
        self._clean.pop(name, None)
        ratio = _ratio_of_state(tracked.state.status)
        if ratio is not None and not self.metrics.has_uptime(name):
            # Its first check: the refresh may be held back (REFRESH_GAP) and a scrape meanwhile
            # must not find the series missing. With no time observed, the state is the ratio.
            for window in UPTIME_WINDOWS:
                self.metrics.set_uptime(name, window, ratio)
        if self._held is not None:
            return
        wait = self._refreshed_at + REFRESH_GAP - self.monotonic()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            wait = 0.0  # no loop to come back later (a caller driving the pipeline directly)
        if wait <= 0:
            self.refresh_pending()
        else:
            self._held = loop.call_later(wait, self.refresh_pending)

    def refresh_pending(self) -> None:
        """Refresh the ratios of the monitors changed since the last refresh."""
        if self._held is not None:
            self._held.cancel()
            self._held = None
        dirty = [t for name, t in self._dirty.items() if self.monitors.get(name) is t]
        self._dirty.clear()
        self._refreshed_at = self.monotonic()
        if not dirty:
            return
        try:
            self.refresh_uptime(dirty)
        except Exception:
            # From a timer, nobody else would hear of it; the minute's refresh tries again.
            log.exception("uptime refresh failed")
