"""Who wants a monitor paused, and until when: operators (API, CLI, UptimeRobot API) and
maintenance windows, reconciled onto the pipeline.

An operator's pause or resume is stored as an *override* (paused or not, optionally until a
time), so it survives a restart and a timed pause ends on time even across one. Without an
override a monitor is paused exactly while a maintenance window covering it is open. Monitors
with ``paused = true`` in monitors.toml belong to the daemon's config handling and are left
alone. ``tick()`` is level-triggered: it makes every monitor's state match what is wanted, so a
restart, a reload or a missed tick never leaves a monitor paused by a window that has closed.
Windows stored through the API (``add_window``) act exactly like monitors.toml's one-off ones
and apply at once (docs/design.md §18.2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from probed.config.maintenance import MaintenanceWindow, covering, open_windows
from probed.engine.pipeline import Pipeline, Tracked
from probed.errors import ProbedError, StoreError
from probed.model import Status
from probed.store import MaintenanceRow, Store
from probed.units import format_duration, to_ms

log = structlog.get_logger("probed")


def stored_window(row: MaintenanceRow) -> MaintenanceWindow:
    """A stored window as the one-off ``[[maintenance]]`` table that would make it."""
    return MaintenanceWindow(row.name, frozenset(row.monitors), row.start, row.end)


@dataclass(frozen=True, slots=True)
class Override:
    """An operator's wish for one monitor."""

    paused: bool
    until: datetime | None
    """When the wish lapses; None = until the operator changes it."""
    reason: str


class ConfigPaused(ProbedError):
    """The monitor has ``paused = true`` in monitors.toml: only the file can change that."""


class Pauses:
    """Operator pauses and maintenance windows, applied through ``pipeline.pause/resume``."""

    def __init__(
        self,
        pipeline: Pipeline,
        store: Store,
        windows: Sequence[MaintenanceWindow],
        now: Callable[[], datetime],
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.windows = windows
        """Replaced by a reload (``configure``); the next tick applies them."""
        self.now = now
        self.stored: tuple[MaintenanceRow, ...] = tuple(store.maintenance.all())
        """The windows stored through the API, by start."""
        self._stored_windows = tuple(stored_window(r) for r in self.stored)
        self.overrides: dict[int, Override] = {
            mid: Override(*row) for mid, row in store.pauses.all().items()
        }

    def configure(self, windows: Sequence[MaintenanceWindow]) -> None:
        """Take a reload's maintenance windows; the next tick applies them."""
        self.windows = windows

    def add_window(
        self, name: str, monitors: tuple[str, ...], start: datetime, end: datetime
    ) -> MaintenanceRow:
        """Store a one-off window and apply it now; StoreWriteError (nothing stored) if the
        file cannot take it. The caller checks the names and times (``web.maintenance``)."""
        now = self.now()
        start_ms, end_ms, now_ms = _ms(start), _ms(end), _ms(now)
        with self.store.transaction():
            new_id = self.store.maintenance.add(name, monitors, start_ms, end_ms, now_ms)
        self._load_stored()
        self._apply_now()
        return next(r for r in self.stored if r.id == new_id)

    def remove_window(self, window_id: int) -> bool:
        """Forget a stored window (resuming what it paused, now); whether there was one."""
        with self.store.transaction():
            found = self.store.maintenance.delete(window_id)
        if found:
            self._load_stored()
            self._apply_now()
        return found

    def _apply_now(self) -> None:
        try:
            self.tick()
        except StoreError as exc:
            # The window is stored; ``run`` applies it once the file takes the pauses.
            log.warning("maintenance window stored, its pauses wait for the disk", error=str(exc))

    def _load_stored(self) -> None:
        self.stored = tuple(self.store.maintenance.all())
        self._stored_windows = tuple(stored_window(r) for r in self.stored)

    def _open(self, now: datetime) -> list[tuple[MaintenanceWindow, datetime]]:
        return open_windows((*self.windows, *self._stored_windows), now)

    def pause(self, tracked: Tracked, for_seconds: float | None, via: str) -> None:
        """Pause a monitor now, indefinitely or for ``for_seconds``; ConfigPaused if the file
        owns its pause."""
        self._not_config_paused(tracked)
        now = self.now()
        until = None if for_seconds is None else now + timedelta(seconds=for_seconds)
        reason = f"paused via {via}"
        if for_seconds is not None:
            reason += f" for {format_duration(for_seconds)}"
        self._set(tracked.id, Override(True, until, reason), now)
        self._reconcile(tracked, now, self._open(now))

    def resume(self, tracked: Tracked, via: str) -> None:
        """Resume a monitor now, also inside an open maintenance window (until it closes)."""
        self._not_config_paused(tracked)
        now = self.now()
        window = covering(self._open(now), tracked.monitor.name)
        if window is None:
            self._clear(tracked.id)
        else:
            self._set(tracked.id, Override(False, window[1], f"resumed via {via}"), now)
        if tracked.state.status is Status.PAUSED:
            self.pipeline.resume(tracked.monitor.name, f"resumed via {via}")

    def paused_until(self, tracked: Tracked) -> datetime | None:
        """When a timed operator pause ends, or a maintenance window that pauses it closes."""
        if tracked.state.status is not Status.PAUSED or tracked.monitor.paused:
            return None
        override = self.overrides.get(tracked.id)
        if override is not None:
            return override.until if override.paused else None
        window = covering(self._open(self.now()), tracked.monitor.name)
        return None if window is None else window[1]

    def tick(self) -> None:
        """Bring every monitor's paused state in line with overrides and open windows."""
        now = self.now()
        windows = self._open(now)
        monitors = list(self.pipeline.monitors.values())
        if not windows and not self.overrides:
            # Nothing wants a pause, so only a paused monitor can be out of line (a window
            # just closed). Every monitor, every second, was 6 % of the daemon's CPU at 10,000.
            monitors = [t for t in monitors if t.state.status is Status.PAUSED]
        for tracked in monitors:
            self._reconcile(tracked, now, windows)

    async def run(self, every: float = 1.0) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again."""
        refused = False
        while True:
            try:
                self.tick()
                refused = False
            except StoreError as exc:
                # A full disk: said once, not every second until there is room again.
                if not refused:
                    log.warning("pauses cannot be stored: retrying every tick", error=str(exc))
                refused = True
            except Exception:
                log.exception("maintenance tick failed")
            await asyncio.sleep(every)

    def _reconcile(
        self,
        tracked: Tracked,
        now: datetime,
        windows: Sequence[tuple[MaintenanceWindow, datetime]],
    ) -> None:
        name = tracked.monitor.name
        if tracked.monitor.paused or self.pipeline.monitors.get(name) is not tracked:
            return
        override = self.overrides.get(tracked.id)
        expired = override is not None and override.until is not None and override.until <= now
        if expired:
            self._clear(tracked.id)
            override = None
        window = covering(windows, name)
        if override is not None:
            want, reason = override.paused, override.reason
        elif window is not None:
            want, reason = True, f'maintenance window "{window[0].name}"'
        else:
            want, reason = False, ""
        paused = tracked.state.status is Status.PAUSED
        if want and not paused:
            self.pipeline.pause(name, reason)
        elif not want and paused:
            ended = "timed pause ended" if expired else f"{tracked.state.reason} ended"
            self.pipeline.resume(name, ended)

    def _not_config_paused(self, tracked: Tracked) -> None:
        if tracked.monitor.paused:
            raise ConfigPaused(
                f'monitor "{tracked.monitor.name}" has paused = true in monitors.toml:'
                " change it there and reload"
            )

    def _set(self, monitor_id: int, override: Override, now: datetime) -> None:
        # In a transaction of its own, so a full disk is a StoreWriteError the API can answer
        # (and nothing changed), not a raw SQLite error.
        with self.store.transaction():
            self.store.pauses.set(monitor_id, override.paused, override.until, override.reason, now)
        self.overrides[monitor_id] = override

    def _clear(self, monitor_id: int) -> None:
        with self.store.transaction():
            self.store.pauses.clear(monitor_id)
        self.overrides.pop(monitor_id, None)


def _ms(at: datetime) -> int:
    ms = to_ms(at)
    assert ms is not None
    return ms
