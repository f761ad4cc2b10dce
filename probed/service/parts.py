"""What a running probed consists of: ``Parts``, wired by ``probed.service.build``, and
``Parts.apply(config)``, the one place a new configuration reaches them (start and reload
alike), each part taking its settings through its own method.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from aiohttp import web

from probed.alerts.channels import make_channels
from probed.alerts.dispatcher import Dispatcher
from probed.alerts.outbox import Outbox
from probed.alerts.recorder import AlertRecorder
from probed.alerts.report_sender import ReportSender
from probed.config import Config, Monitor, Settings
from probed.config.kinds import inbound
from probed.domains.watch import DomainWatch
from probed.engine.backlog import Backlog
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.push import PushReceiver
from probed.engine.scheduler import Scheduler
from probed.engine.slowness import SAMPLE, is_degraded
from probed.engine.stalls import LoopWatch
from probed.errors import StoreWriteError
from probed.history import History, Retention
from probed.history.jobs import Housekeeping
from probed.incidents.book import IncidentBook
from probed.metrics import Metrics
from probed.model import Status
from probed.probes import ProbeSessions
from probed.redact import redact
from probed.service.listener import ConnectionGuard
from probed.store import Store
from probed.subscriptions.service import Subscriptions
from probed.units import counted
from probed.web.context import Api
from probed.web.feeds import Newsroom
from probed.web.public import Public

log = structlog.get_logger("probed")

CONFIG_PAUSE_REASON = "paused in monitors.toml"
STALL_SECONDS = 10.0
"""/healthz and the watchdog call the daemon wedged when the scheduler shows no sign of life
(its 1 s heartbeat included) for this long."""
RESTART_SETTINGS = (
    "listen",
    "public_listen",
    "state_dir",
    "max_concurrent_checks",
    "connectivity_check",
    "sentry_dsn",
)
"""Settings a running daemon cannot change; a reload keeps the old value and says so."""


def check_key(monitor: Monitor) -> str:
    """What the check is, as stored: when it changes, past state no longer applies."""
    # Stored in the database: a credential in the URL is not, and changing it alone keeps state.
    return redact(json.dumps([str(part) for part in monitor.check_key]))


def retention(settings: Settings) -> Retention:
    return Retention(settings.raw_retention, settings.history_retention)


def alive(scheduler: Scheduler) -> bool:
    """The scheduler runs and showed a sign of life within ``STALL_SECONDS``."""
    return scheduler.running and time.monotonic() - scheduler.last_progress < STALL_SECONDS


def summary(counts: dict[Status, int], problem: str | None = None) -> str:
    """``3 monitors: 2 up, 1 down``: what ``systemctl status`` shows, then the storage problem
    if there is one."""
    total = sum(counts.values())
    parts = [f"{n} {s.label.replace('_', ' ')}" for s, n in sorted(counts.items()) if n]
    line = f"{counted(total, 'monitor')}: " + ", ".join(parts) if parts else "0 monitors"
    return line if problem is None else f"{line}; {problem}"


def store_problem(backlog: Backlog, outbox: Outbox) -> str | None:
    """Why the state database is behind, while writes fail or wait in memory; else None."""
    waiting = backlog.waiting + outbox.waiting
    if not waiting:
        return None
    error = backlog.error or outbox.error or "held writes being written"
    return f"state database: {error}; {counted(waiting, 'write')} waiting"


def host_problem(backlog: Backlog, outbox: Outbox, stalls: LoopWatch) -> str | None:
    """What keeps probed from recording or measuring truly now (``store_problem``, a stall of
    its event loop), or None."""
    found = [p for p in (store_problem(backlog, outbox), stalls.problem()) if p is not None]
    return "; ".join(found) or None


class Soon:
    """Calls ``action`` once, ``delay`` seconds after the first of any number of calls."""

    def __init__(self, action: Callable[[], None], delay: float) -> None:
        self.action = action
        self.delay = delay
        self._due: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        if self._due is None:
            self._due = asyncio.get_running_loop().call_later(self.delay, self._run)

    def _run(self) -> None:
        self._due = None
        self.action()

    def cancel(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None


@dataclass(slots=True)
class Changes:
    """What ``Parts.apply`` changed, by monitor name."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    """The check itself changed (URL, type, keyword …): started again from pending."""
    rescheduled: list[str] = field(default_factory=list)
    """Same check with a new interval or retry interval."""
    needs_restart: list[str] = field(default_factory=list)
    """Settings (``RESTART_SETTINGS``) that changed but only take effect after a restart."""


@dataclass(slots=True)
class Parts:
    """Everything a running probed consists of, wired."""

    config: Config
    metrics: Metrics
    store: Store
    backlog: Backlog
    """The pipeline's records the store could not take yet (``run()`` retries them)."""
    pipeline: Pipeline
    scheduler: Scheduler
    outbox: Outbox
    recorder: AlertRecorder
    reports: ReportSender
    incidents: IncidentBook
    subscriptions: Subscriptions
    dispatcher: Dispatcher
    history: History
    pauses: Pauses
    pushes: PushReceiver
    """What ``/push/<token>`` calls (``push_routes(parts.pushes)`` serves it on an app)."""
    housekeeping: Housekeeping
    domains: DomainWatch
    """Keeps the monitors' domain expiry from RDAP (docs/design.md §19.2)."""
    api: Api
    app: web.Application
    guard: ConnectionGuard
    """Bounds the app's inbound connections (see ``probed.service.listener``)."""
    public: Public
    newsroom: Newsroom
    """The feeds' and the summary's parts and cache (docs/design.md §18.3)."""
    public_app: web.Application
    """What ``[probed] public_listen`` serves: the status page, its JSON and badges only."""
    public_guard: ConnectionGuard
    sessions: ProbeSessions | None
    """The probes' HTTP sessions, when ``build`` made them (closed by ``aclose``)."""
    now: Callable[[], datetime]
    stalls: LoopWatch
    """Measures the event loop's lateness (``start``ed and ``stop``ped by the daemon)."""
    status_soon: Soon | None = None
    """The pending STATUS= update after transitions; cancelled at close, so that it does not
    reach a notifier closed meanwhile (which would open a socket again)."""

    def healthy(self) -> bool:
        """Whether the watchdog should be fed: only a wedged scheduler stops it, since a
        restart would lose what a full disk keeps waiting in memory."""
        return alive(self.scheduler)

    def problem(self) -> str | None:
        """What ``/healthz`` reports as unavailable besides a wedged scheduler."""
        return host_problem(self.backlog, self.outbox, self.stalls)

    def summary(self) -> str:
        return summary(self.pipeline.counts(), self.problem())

    def apply(self, config: Config, *, initial: bool = False) -> Changes:
        """Make ``config`` the running configuration: monitors registered in the store,
        tracked and scheduled, and every part's settings replaced. What changed is returned."""
        # Everything below sees only this instance's share: a monitor of another shard is
        # not checked, exported or alerted here.
        config = config.in_shard()
        changes = Changes()
        if not initial:
            old, new = self.config.settings, config.settings
            changes.needs_restart = [
                k for k in RESTART_SETTINGS if getattr(old, k) != getattr(new, k)
            ]
        self._apply_monitors(config, changes, initial=initial)
        self.incidents.configure(config)
        self.incidents.load(self.pipeline.monitors.values())
        self.pushes.book.index(config.monitors)
        for monitor in config.monitors:
            if inbound(monitor.check) is not None:
                # A new grace moves the deadline without changing the check or its interval.
                self.scheduler.reanchor(monitor.name)
        self.config = config
        settings = config.settings
        self.recorder.configure(config)
        self.reports.configure(config)
        self.subscriptions.configure(config)
        channels = make_channels(config, self.store, self.now)
        self.dispatcher.configure(
            {**channels, self.subscriptions.name: self.subscriptions}, settings.alert_max_age
        )
        self.history.configure(retention(settings))
        self.newsroom.configure(settings.external_url, config.maintenance)
        self.pauses.configure(config.maintenance)
        self.api.configure(settings.api_token)
        self.public.configure(
            settings.status_page_title, settings.status_page_show_urls, config.status_page
        )
        self.public.subscribe = self.subscriptions.off_reason is None
        self.metrics.set_location(settings.location)
        self.domains.bootstrap.configure(settings.rdap_bootstrap)
        for channel in config.channels:
            self.metrics.add_alert_channel(channel)
        return changes

    def _apply_monitors(self, config: Config, changes: Changes, *, initial: bool) -> None:
        pipeline, scheduler = self.pipeline, self.scheduler
        stored = self.store.sync_monitors(
            ((m.name, check_key(m), m.id) for m in config.monitors), self.now()
        )
        wanted = {m.name for m in config.monitors}
        for name in [n for n in pipeline.monitors if n not in wanted]:
            scheduler.remove(name)
            pipeline.untrack(name)
            changes.removed.append(name)
        # Every new monitor's last result and recent good ones in two reads, rather than two
        # per monitor: the start-up (every monitor new) at 10,000 monitors.
        kept = {
            name
            for name, tracked in pipeline.monitors.items()
            if name in stored and check_key(tracked.monitor) == stored[name].check_key
        }
        fresh = [stored[m.name].id for m in config.monitors if m.name not in kept]
        last = self.store.checks.last_many(fresh) if fresh else {}
        good = self.store.checks.recent_good_many(fresh, SAMPLE) if fresh else {}
        for monitor in config.monitors:
            row = stored[monitor.name]
            current = pipeline.monitors.get(monitor.name)
            if monitor.name in kept and current is not None:
                # Same check: keep the runtime state, take the new settings.
                old = current.monitor
                pipeline.update(monitor, row.id)
                if (old.interval, old.retry_interval) != (monitor.interval, monitor.retry_interval):
                    scheduler.add(monitor)
                    changes.rescheduled.append(monitor.name)
            else:
                if current is not None:
                    scheduler.remove(monitor.name)
                    pipeline.untrack(monitor.name)
                    changes.restarted.append(monitor.name)
                elif not initial:
                    changes.added.append(monitor.name)
                recent = tuple(reversed(good.get(row.id, ())))
                # Restored, not judged anew: a restart sends no DEGRADED alert.
                degraded = is_degraded(monitor.slow_threshold, recent)
                pipeline.track(
                    Tracked(monitor, row.id, row.state, last.get(row.id), recent, degraded)
                )
                scheduler.add(monitor)
            self._apply_config_pause(monitor)

    def _apply_config_pause(self, monitor: Monitor) -> None:
        tracked = self.pipeline.monitors[monitor.name]
        if monitor.paused:
            self.pipeline.pause(monitor.name, CONFIG_PAUSE_REASON)
        elif tracked.state.status is Status.PAUSED and tracked.state.reason == CONFIG_PAUSE_REASON:
            self.pipeline.resume(monitor.name, "unpaused in monitors.toml")

    async def aclose(self) -> None:
        """Close what ``build`` opened: the probe session and the store, after a last try
        at writing what waits in memory."""
        if self.status_soon is not None:
            self.status_soon.cancel()
        # Without run() (tests, benchmarks), nothing else cancels a held uptime refresh.
        self.housekeeping.stop()
        self.pushes.flush()  # coalesced pings' records and states, into the backlog first
        if not self.backlog.flush(None) or self.outbox.persist():
            log.error("state database writes lost at shutdown", problem=self.problem())
        with contextlib.suppress(StoreWriteError):
            self.history.stop_run()
        if self.sessions is not None:
            await self.sessions.close()
        self.store.close()
