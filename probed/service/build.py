"""The composition root: ``build(config, clock) -> Parts`` creates every part with its
collaborators passed in, and ``Parts.apply(config)`` is the one place a new configuration
reaches them (start and reload alike).

The daemon, the tests and the benchmarks all build probed this way, so what they exercise is
wired exactly as what runs in production. Only this module (and the daemon's lifecycle around
it) knows every part.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
import structlog
from aiohttp import web

from probed.alerts.channels import make_channels
from probed.alerts.dispatcher import Dispatcher
from probed.alerts.outbox import Outbox
from probed.alerts.recorder import AlertRecorder
from probed.config import Config, Monitor, Settings
from probed.config.kinds import inbound
from probed.engine.backlog import Backlog
from probed.engine.connectivity import ConnectivityCheck
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Probe, Tracked, TransitionSink, count_states
from probed.engine.push import PushBook, PushReceiver
from probed.engine.scheduler import Scheduler
from probed.engine.slowness import SAMPLE, is_degraded
from probed.errors import StoreWriteError
from probed.history import History, Retention
from probed.history.jobs import Housekeeping
from probed.metrics import Metrics
from probed.model import CheckResult, Status
from probed.probes import ProbeSessions, run_probe
from probed.redact import redact
from probed.service.listener import ConnectionGuard
from probed.service.sdnotify import Notifier
from probed.store import Store
from probed.units import counted, utcnow
from probed.web import make_app
from probed.web.context import Api
from probed.web.public import Public, make_public_app
from probed.web.push import push_routes

log = structlog.get_logger("probed")

CONFIG_PAUSE_REASON = "paused in monitors.toml"
STALL_SECONDS = 10.0
"""/healthz and the watchdog call the daemon wedged when the scheduler shows no sign of life
(its 1 s heartbeat included) for this long."""
STATUS_EVERY = 0.5
"""Transitions update the daemon's ``STATUS=`` line at most this often."""
RESTART_SETTINGS = (
    "listen",
    "public_listen",
    "state_dir",
    "max_concurrent_checks",
    "connectivity_check",
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
    dispatcher: Dispatcher
    history: History
    pauses: Pauses
    pushes: PushReceiver
    """What ``/push/<token>`` calls (``push_routes(parts.pushes)`` serves it on an app)."""
    housekeeping: Housekeeping
    api: Api
    app: web.Application
    guard: ConnectionGuard
    """Bounds the app's inbound connections (see ``probed.service.listener``)."""
    public: Public
    public_app: web.Application
    """What ``[probed] public_listen`` serves: the status page, its JSON and badges only."""
    public_guard: ConnectionGuard
    sessions: ProbeSessions | None
    """The probes' HTTP sessions, when ``build`` made them (closed by ``aclose``)."""
    now: Callable[[], datetime]
    status_soon: Soon | None = None
    """The pending STATUS= update after transitions; cancelled at close, so that it does not
    reach a notifier closed meanwhile (which would open a socket again)."""

    def healthy(self) -> bool:
        """Whether the watchdog should be fed: only a wedged scheduler stops it, since a
        restart would lose what a full disk keeps waiting in memory."""
        return alive(self.scheduler)

    def problem(self) -> str | None:
        """What ``/healthz`` reports as unavailable besides a wedged scheduler."""
        return store_problem(self.backlog, self.outbox)

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
        self.pushes.book.index(config.monitors)
        for monitor in config.monitors:
            if inbound(monitor.check) is not None:
                # A new grace moves the deadline without changing the check or its interval.
                self.scheduler.reanchor(monitor.name)
        self.config = config
        settings = config.settings
        self.recorder.configure(config)
        self.dispatcher.configure(
            make_channels(config, self.store, self.now), settings.alert_max_age
        )
        self.history.configure(retention(settings))
        self.pauses.configure(config.maintenance)
        self.api.configure(settings.api_token)
        self.public.configure(settings.status_page_title, settings.status_page_show_urls)
        self.metrics.set_location(settings.location)
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
        if not self.backlog.flush(None) or self.outbox.persist():
            log.error("state database writes lost at shutdown", problem=self.problem())
        with contextlib.suppress(StoreWriteError):
            self.history.stop_run()
        if self.sessions is not None:
            await self.sessions.close()
        self.store.close()


def build(
    config: Config,
    clock: Callable[[], datetime] = utcnow,
    *,
    metrics: Metrics | None = None,
    probe: Probe | None = None,
    session: aiohttp.ClientSession | None = None,
    notifier: Notifier | None = None,
    sinks: Sequence[TransitionSink] = (),
    reload: Callable[[], Awaitable[list[str]]] | None = None,
) -> Parts:
    """Open the store, build every part around it and apply ``config``; call inside the loop.

    ``probe`` replaces the real probes (a benchmark or a test feeding chosen results);
    otherwise checks go through ``session`` (those without a ``source_address``) or sessions
    made here. With ``[probed] shard`` only the shard's monitors are built. ``notifier`` gets the
    monitors' summary as ``STATUS=`` after every change; ``reload`` is what
    ``POST /api/v1/reload`` runs.
    """
    config = config.in_shard()
    settings = config.settings
    metrics = metrics or Metrics()
    store = Store.open(
        settings.state_dir / "probed.db",
        before_upgrade=lambda old, new: _upgrading(old, new, notifier),
    )
    sessions = None
    if probe is None:
        sessions = ProbeSessions(settings.max_concurrent_checks, default=session)
        probe = _real_probe(sessions)

    monitors: dict[str, Tracked] = {}
    book = PushBook(store, monitors)
    bell = asyncio.Event()

    def report_status() -> None:
        if notifier is not None:
            problem = store_problem(backlog, outbox)
            notifier.status(summary(count_states(monitors.values()), problem))

    # Counting every monitor's state on each transition is quadratic in a mass outage
    # (10,000 transitions × 10,000 monitors): one STATUS= line per STATUS_EVERY is plenty.
    report_status_soon = Soon(report_status, STATUS_EVERY)

    def store_status() -> None:
        # The dispatcher delivers held alerts, and writes them once the backlog is written.
        bell.set()
        report_status()

    backlog = Backlog(store, metrics, on_change=store_status)
    outbox = Outbox(store, metrics, behind=lambda: backlog.waiting > 0, on_change=store_status)
    recorder = AlertRecorder(outbox, config, clock, monitors, wake=bell.set)
    dispatcher = Dispatcher(
        outbox,
        make_channels(config, store, clock),
        metrics,
        clock,
        max_age=settings.alert_max_age,
        remind=recorder.remind,
        bell=bell,
    )
    history = History(store, clock, retention(settings))
    history.start_run()
    housekeeping = Housekeeping(history, monitors, metrics)
    all_sinks = [*sinks, housekeeping.on_transitions]
    if notifier is not None:
        all_sinks.append(lambda tracked, transitions: report_status_soon())
    connectivity = None
    if settings.connectivity_check:
        connectivity = ConnectivityCheck(settings.connectivity_check)
    pipeline = Pipeline(
        store,
        metrics,
        probe,
        clock,
        record=recorder,
        sinks=all_sinks,
        connectivity=connectivity,
        monitors=monitors,
        backlog=backlog,
        inbound=book,
    )
    scheduler = Scheduler(pipeline, settings.max_concurrent_checks, clock, anchor=book.deadline)
    pushes = PushReceiver(book, pipeline, scheduler, clock)
    pauses = Pauses(pipeline, store, config.maintenance, clock)
    api = Api(pipeline, history, pauses, settings.api_token, clock, reload=reload)
    guard = ConnectionGuard()
    public = Public(pipeline, history, clock)
    app = make_app(
        metrics,
        functools.partial(alive, scheduler),
        api,
        problem=functools.partial(store_problem, backlog, outbox),
        public=public,
    )
    app.add_routes(push_routes(pushes))
    app.middlewares.append(guard.middleware)
    public_guard = ConnectionGuard()
    public_app = make_public_app(public)
    # Jobs ping from wherever they run: the push URLs belong on the public side too.
    public_app.add_routes(push_routes(pushes))
    public_app.middlewares.append(public_guard.middleware)

    parts = Parts(
        config=config,
        metrics=metrics,
        store=store,
        backlog=backlog,
        pipeline=pipeline,
        scheduler=scheduler,
        outbox=outbox,
        recorder=recorder,
        dispatcher=dispatcher,
        history=history,
        pauses=pauses,
        pushes=pushes,
        housekeeping=housekeeping,
        api=api,
        app=app,
        guard=guard,
        public=public,
        public_app=public_app,
        public_guard=public_guard,
        sessions=sessions,
        now=clock,
        status_soon=report_status_soon,
    )
    parts.apply(config, initial=True)
    return parts


UPGRADE_TIMEOUT_USEC = 30 * 60 * 1_000_000
"""How long systemd should wait for a start that upgrades the database: a year of history for
1,000 monitors took over a minute, past systemd's default start timeout of 90 s."""


def _upgrading(old: int, new: int, notifier: Notifier | None) -> None:
    log.info("upgrading the state database", from_version=old, to_version=new)
    if notifier is not None:
        notifier.send(EXTEND_TIMEOUT_USEC=UPGRADE_TIMEOUT_USEC, STATUS="upgrading the database")


def _real_probe(sessions: ProbeSessions) -> Probe:
    async def probe(monitor: Monitor, now: datetime) -> CheckResult | None:
        return await run_probe(monitor, sessions.get(monitor.source_address), now)

    return probe
