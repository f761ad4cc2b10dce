"""The composition root: builds every part, wires them together and owns the lifecycle.

Start: config → store (state restored) → pipeline → scheduler → HTTP listener → READY.
SIGHUP reloads monitors.toml; the first SIGTERM/SIGINT drains in-flight checks within
``shutdown_grace`` seconds, a second one stops at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import structlog
from aiohttp import web

from probed.alerts.channels import ChannelSet
from probed.alerts.dispatcher import Dispatcher
from probed.alerts.outbox import Outbox
from probed.alerts.recorder import AlertRecorder
from probed.config import Config, Monitor, load_config
from probed.engine.connectivity import ConnectivityCheck
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.scheduler import Scheduler
from probed.errors import ConfigError, ProbedError
from probed.history import History, Retention
from probed.history.jobs import Housekeeping
from probed.metrics import Metrics
from probed.model import Status, Transition
from probed.probes import make_session
from probed.service.sdnotify import Notifier, WatchdogPinger, monotonic_usec, watchdog_interval
from probed.store import Store
from probed.units import utcnow
from probed.web import make_app
from probed.web.context import Api

log = structlog.get_logger("probed")

CONFIG_PAUSE_REASON = "paused in monitors.toml"
# /healthz and the watchdog call the daemon wedged when the scheduler shows no sign of life
# (its 1 s heartbeat included) for this long.
STALL_SECONDS = 10.0


def check_key(monitor: Monitor) -> str:
    return json.dumps([str(part) for part in monitor.check_key])


class Daemon:
    def __init__(
        self,
        config: Config,
        env: Mapping[str, str] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.now = now
        self.metrics = Metrics()
        self.notifier = Notifier(self.env)
        self._stop = asyncio.Event()
        self._force = False
        self._reloading = False

    async def run(self) -> int:
        settings = self.config.settings
        store = Store.open(settings.state_dir / "probed.db")
        session = make_session(max_connections=settings.max_concurrent_checks)
        self.pipeline = pipeline = Pipeline(store, self.metrics, session, self.now)
        self.scheduler = scheduler = Scheduler(pipeline, settings.max_concurrent_checks, self.now)
        self.dispatcher = dispatcher = self._wire_alerts(store, pipeline)
        api = self._wire_history(store, pipeline)
        history_tasks: list[asyncio.Task[None]] = []
        runner: web.AppRunner | None = None
        pinger: asyncio.Task[None] | None = None
        try:
            self._apply_monitors(self.config, initial=True)
            # Before the first check: a monitor inside a maintenance window is never checked.
            self.pauses.tick()
            self.metrics.config_loaded(True, time.time())
            scheduler.start()
            dispatcher.start()
            history_tasks = [
                asyncio.create_task(Housekeeping(self.history, pipeline, self.metrics).run()),
                asyncio.create_task(self.pauses.run()),
            ]
            runner = web.AppRunner(make_app(self.metrics, self.healthy, api), access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, settings.listen_host, settings.listen_port).start()
            except OSError as exc:
                log.error("cannot listen", listen=settings.listen, error=str(exc))
                return 2
            self._install_signals()
            if not self.config.channels:
                log.warning("no alert channel configured: state changes are logged, not sent")
            log.info(
                "started",
                monitors=len(self.config.monitors),
                listen=settings.listen,
                state_db=str(store.path),
                config=str(self.config.path),
            )
            self.notifier.ready()
            self.notifier.status(self.summary())
            # `systemctl status` shows the summary; keep it current as monitors change state.
            pipeline.sinks.append(self._report_status)
            interval = watchdog_interval(self.env)
            if interval is not None:
                pinger = asyncio.create_task(
                    WatchdogPinger(self.notifier, interval, self.healthy).run()
                )
            await self._stop.wait()
            self.notifier.stopping()
            log.info("stopping", in_flight=len(scheduler.in_flight))
            grace = 0.0 if self._force else settings.shutdown_grace
            draining = time.monotonic()
            cancelled = await scheduler.drain(grace)
            # The outbox gets what is left of the grace to deliver the alerts of the last checks.
            await dispatcher.stop(0.0 if self._force else grace - (time.monotonic() - draining))
            log.info("stopped", cancelled_checks=cancelled)
            return 0
        finally:
            if pinger is not None:
                pinger.cancel()
            if scheduler.running:
                await scheduler.drain(0)
            await dispatcher.stop(0)
            if runner is not None:
                await runner.cleanup()
            await session.close()
            for task in history_tasks:
                task.cancel()
            await asyncio.gather(*history_tasks, return_exceptions=True)
            self.history.stop_run()
            store.close()

    def _report_status(self, tracked: Tracked, transitions: Sequence[Transition]) -> None:
        self.notifier.status(self.summary())

    def healthy(self) -> bool:
        return (
            self.scheduler.running
            and time.monotonic() - self.scheduler.last_progress < STALL_SECONDS
        )

    def summary(self) -> str:
        counts = self.pipeline.counts()
        total = sum(counts.values())
        parts = [f"{n} {s.label.replace('_', ' ')}" for s, n in sorted(counts.items()) if n]
        return f"{total} monitors: " + ", ".join(parts) if parts else "0 monitors"

    def stop(self) -> None:
        if self._stop.is_set():
            log.warning("second stop signal: stopping now")
            self._force = True
            for task in list(self.scheduler.in_flight):
                task.cancel()
            self.dispatcher.cancel()
        self._stop.set()

    def _wire_alerts(self, store: Store, pipeline: Pipeline) -> Dispatcher:
        """Outbox rows are written inside each check's transaction; the dispatcher, woken when
        there are new ones, delivers them."""
        outbox = Outbox(store)
        dispatcher = Dispatcher(
            outbox,
            ChannelSet(lambda: self.config),
            self.metrics,
            self.now,
            max_age=lambda: self.config.settings.alert_max_age,
        )
        recorder = AlertRecorder(
            outbox,
            lambda: self.config,
            self.now,
            monitors=lambda: pipeline.monitors.values(),
            wake=dispatcher.wake,
        )
        dispatcher.remind = recorder.remind
        pipeline.record_hooks.append(recorder)
        for channel in self.config.channels:
            self.metrics.add_alert_channel(channel)
        if addresses := self.config.settings.connectivity_check:
            pipeline.connectivity = ConnectivityCheck(addresses)
        return dispatcher

    def _wire_history(self, store: Store, pipeline: Pipeline) -> Api:
        """History (this run recorded from now on), operator pauses and maintenance windows,
        and the API over them."""

        # Read at each use, so a reload's retention, windows and token apply.
        def retention() -> Retention:
            settings = self.config.settings
            return Retention(settings.raw_retention, settings.history_retention)

        self.history = History(store, self.now, retention)
        self.history.start_run()
        self.pauses = Pauses(pipeline, store, lambda: self.config.maintenance, self.now)
        return Api(
            pipeline,
            self.history,
            self.pauses,
            lambda: self.config.settings.api_token,
            self.now,
            reload=self.reload,
        )

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        loop.add_signal_handler(signal.SIGINT, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))

    async def reload(self) -> list[str]:
        """Re-read monitors.toml; an invalid file changes nothing. Returns the problems found
        (none when the new configuration runs)."""
        if self._reloading:
            log.warning("reload already in progress")
            return ["a reload is already in progress"]
        self._reloading = True
        self.notifier.reloading(monotonic_usec())
        started = time.monotonic()
        try:
            try:
                new = load_config(self.config.path, self.env)
            except ConfigError as exc:
                self.metrics.config_loaded(False, time.time())
                log.error(
                    "reload failed: keeping the running configuration",
                    problems=exc.problems,
                )
                return exc.problems
            for key in ("listen", "state_dir", "max_concurrent_checks", "connectivity_check"):
                if getattr(new.settings, key) != getattr(self.config.settings, key):
                    log.warning("setting needs a restart to change", setting=key)
            self._apply_monitors(new, initial=False)
            self.config = new
            self.metrics.config_loaded(True, time.time())
            log.info(
                "reloaded",
                monitors=len(new.monitors),
                seconds=round(time.monotonic() - started, 3),
            )
            return []
        finally:
            self._reloading = False
            self.notifier.ready()
            self.notifier.status(self.summary())

    def _apply_monitors(self, config: Config, *, initial: bool) -> None:
        pipeline, scheduler = self.pipeline, self.scheduler
        stored = pipeline.store.sync_monitors(
            ((m.name, check_key(m), m.id) for m in config.monitors), self.now()
        )
        wanted = {m.name for m in config.monitors}
        for name in [n for n in pipeline.monitors if n not in wanted]:
            scheduler.remove(name)
            pipeline.untrack(name)
            log.info("monitor removed", monitor=name)
        for monitor in config.monitors:
            row = stored[monitor.name]
            current = pipeline.monitors.get(monitor.name)
            if current is not None and check_key(current.monitor) == row.check_key:
                # Same check: keep the runtime state, take the new settings.
                old = current.monitor
                current.monitor, current.id = monitor, row.id
                if (old.interval, old.retry_interval) != (monitor.interval, monitor.retry_interval):
                    scheduler.add(monitor)
            else:
                if current is not None:
                    scheduler.remove(monitor.name)
                    pipeline.untrack(monitor.name)
                    log.info("monitor check changed: starting from pending", monitor=monitor.name)
                elif not initial:
                    log.info("monitor added", monitor=monitor.name)
                last = pipeline.store.last_check(row.id)
                pipeline.track(Tracked(monitor, row.id, row.state, last))
                scheduler.add(monitor)
            self._apply_config_pause(monitor)

    def _apply_config_pause(self, monitor: Monitor) -> None:
        tracked = self.pipeline.monitors[monitor.name]
        if monitor.paused:
            self.pipeline.pause(monitor.name, CONFIG_PAUSE_REASON)
        elif tracked.state.status is Status.PAUSED and tracked.state.reason == CONFIG_PAUSE_REASON:
            self.pipeline.resume(monitor.name, "unpaused in monitors.toml")


def run(config_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Load the config and run the daemon until stopped; the process exit code."""
    try:
        config = load_config(config_path, env)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("invalid configuration", problem=problem)
        return 1
    try:
        return asyncio.run(Daemon(config, env).run())
    except ProbedError as exc:
        log.error("cannot run", error=str(exc))
        return 2
