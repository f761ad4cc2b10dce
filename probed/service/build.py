"""The composition root: ``build(config, clock) -> Parts`` creates every part with its
collaborators passed in, then hands the config to ``Parts.apply`` (probed.service.parts), the
one place a new configuration reaches them (start and reload alike).

The daemon, the tests and the benchmarks all build probed this way, so what they exercise is
wired exactly as what runs in production. Only this module (and the daemon's lifecycle around
it) knows every part.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import aiohttp
import structlog

from probed.alerts.channels import make_channels
from probed.alerts.dispatcher import Dispatcher
from probed.alerts.outbox import Outbox, OutboxRow
from probed.alerts.recorder import AlertRecorder
from probed.alerts.report_sender import ReportSender
from probed.config import Config, Monitor
from probed.domains.bootstrap import BootstrapSource
from probed.domains.watch import DomainWatch
from probed.engine.backlog import Backlog
from probed.engine.connectivity import ConnectivityCheck
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Probe, Tracked, TransitionSink, count_states
from probed.engine.push import PushBook, PushReceiver
from probed.engine.scheduler import Scheduler
from probed.engine.stalls import LoopWatch
from probed.history import History
from probed.history.jobs import Housekeeping
from probed.incidents.book import IncidentBook
from probed.metrics import Metrics
from probed.model import CheckResult, Transition
from probed.probes import ProbeSessions, run_probe
from probed.service.listener import ConnectionGuard
from probed.service.parts import Parts, Soon, alive, host_problem, retention, summary
from probed.service.sdnotify import Notifier
from probed.store import Store
from probed.subscriptions.service import Subscriptions
from probed.units import utcnow
from probed.web import make_app
from probed.web.ack import add_ack_routes
from probed.web.context import Api
from probed.web.feeds import NEWSROOM, Newsroom
from probed.web.public import Public, make_public_app
from probed.web.push import push_routes
from probed.web.subscribe import add_subscribe_routes

__all__ = ["Parts", "build"]

log = structlog.get_logger("probed")

STATUS_EVERY = 0.5
"""Transitions update the daemon's ``STATUS=`` line at most this often."""


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
            problem = host_problem(backlog, outbox, stalls)
            notifier.status(summary(count_states(monitors.values()), problem))

    # Counting every monitor's state on each transition is quadratic in a mass outage
    # (10,000 transitions × 10,000 monitors): one STATUS= line per STATUS_EVERY is plenty.
    report_status_soon = Soon(report_status, STATUS_EVERY)

    def store_status() -> None:
        # The dispatcher delivers held alerts, and writes them once the backlog is written.
        bell.set()
        report_status()

    stalls = LoopWatch(metrics.loop_lag, on_change=report_status)
    backlog = Backlog(store, metrics, on_change=store_status)
    outbox = Outbox(store, metrics, behind=lambda: backlog.waiting > 0, on_change=store_status)
    incidents = IncidentBook(store, metrics, clock, config, monitors=monitors)
    recorder = AlertRecorder(outbox, config, clock, monitors, wake=bell.set, incidents=incidents)
    subscriptions = Subscriptions(store, incidents.key, config, clock, wake=bell.set)
    incidents.listeners.append(subscriptions.on_news)

    def record(
        tracked: Tracked,
        result: CheckResult | None,
        transitions: Sequence[tuple[int, Transition]],
        slowness: tuple[bool, float] | None,
    ) -> None:
        # The incident is decided first (the alerts name it) and written last (a write the
        # file refuses must not cost the alerts).
        incidents(tracked, result, transitions, slowness)
        recorder(tracked, result, transitions, slowness)
        incidents.write()
        subscriptions.flush()  # the news of what the book just wrote

    def sent(rows: Sequence[OutboxRow], at: datetime) -> None:
        incidents.alerts_sent(
            ((r.payload.incident, r.channel, str(r.kind)) for r in rows if r.payload.incident), at
        )

    dispatcher = Dispatcher(
        outbox,
        {**make_channels(config, store, clock), subscriptions.name: subscriptions},
        metrics,
        clock,
        max_age=settings.alert_max_age,
        remind=lambda now: _earliest(recorder.tick(now), reports.tick(now)),
        bell=bell,
        sent=sent,
    )
    history = History(store, clock, retention(settings))
    history.start_run()
    # The dispatcher's round runs it (above): reports stay out of the check path.
    reports = ReportSender(history, outbox, config, wake=bell.set)
    housekeeping = Housekeeping(history, monitors, metrics)
    domains = DomainWatch(
        lambda: [t.monitor for t in monitors.values()],
        store,
        metrics,
        BootstrapSource(settings.rdap_bootstrap),
        clock,
        on_expiry=recorder.domain_expiry,
    )
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
        record=record,
        sinks=all_sinks,
        connectivity=connectivity,
        monitors=monitors,
        backlog=backlog,
        inbound=book,
        stalls=stalls,
    )
    scheduler = Scheduler(pipeline, settings.max_concurrent_checks, clock, anchor=book.deadline)
    pushes = PushReceiver(book, pipeline, scheduler, clock)
    pauses = Pauses(pipeline, store, config.maintenance, clock)
    api = Api(
        pipeline, history, pauses, settings.api_token, clock, reload=reload, incidents=incidents
    )
    guard = ConnectionGuard()
    public = Public(pipeline, history, clock, pauses=pauses)
    app = make_app(
        metrics,
        functools.partial(alive, scheduler),
        api,
        problem=functools.partial(host_problem, backlog, outbox, stalls),
        public=public,
    )
    app.add_routes(push_routes(pushes))
    add_ack_routes(app, incidents)
    add_subscribe_routes(app, subscriptions)
    app.middlewares.append(guard.middleware)
    public_guard = ConnectionGuard()
    public_app = make_public_app(public)
    # Jobs ping from wherever they run: the push URLs belong on the public side too.
    public_app.add_routes(push_routes(pushes))
    add_ack_routes(public_app, incidents)  # the link's base may be the public side
    add_subscribe_routes(public_app, subscriptions)
    public_app.middlewares.append(public_guard.middleware)

    newsroom = Newsroom(public)
    incidents.listeners.append(newsroom.heard)  # incident news shows in the feeds at once
    app[NEWSROOM] = public_app[NEWSROOM] = newsroom

    parts = Parts(
        config=config,
        metrics=metrics,
        store=store,
        backlog=backlog,
        pipeline=pipeline,
        scheduler=scheduler,
        outbox=outbox,
        recorder=recorder,
        reports=reports,
        incidents=incidents,
        subscriptions=subscriptions,
        dispatcher=dispatcher,
        history=history,
        pauses=pauses,
        pushes=pushes,
        housekeeping=housekeeping,
        domains=domains,
        api=api,
        app=app,
        guard=guard,
        public=public,
        newsroom=newsroom,
        public_app=public_app,
        public_guard=public_guard,
        sessions=sessions,
        now=clock,
        stalls=stalls,
        status_soon=report_status_soon,
    )
    parts.apply(config, initial=True)
    return parts


def _earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


UPGRADE_TIMEOUT_USEC = 30 * 60 * 1_000_000
"""How long systemd should wait for a start that upgrades the database: a year of history for
1,000 monitors took over a minute, past systemd's default start timeout of 90 s."""


def _upgrading(old: int, new: int, notifier: Notifier | None) -> None:
    log.info("upgrading the state database", from_version=old, to_version=new)
    if notifier is not None:
        notifier.send(EXTEND_TIMEOUT_USEC=UPGRADE_TIMEOUT_USEC, STATUS="upgrading the database")


def _real_probe(sessions: ProbeSessions) -> Probe:
    async def probe(monitor: Monitor, now: datetime) -> CheckResult | None:
        return await run_probe(
            monitor,
            sessions.get(monitor.source_address),
            now,
            bugs_logged=sessions.bugs_logged,
        )

    return probe
