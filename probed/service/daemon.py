"""The daemon's lifecycle around ``build()``: start, serve, reload, stop.

Start: build (store opened, state restored, monitors applied) → scheduler → HTTP listener →
READY. SIGHUP reloads monitors.toml through ``Parts.apply``; the first SIGTERM/SIGINT drains
in-flight checks within ``shutdown_grace`` seconds, a second one stops at once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import structlog
from aiohttp import web

from probed.config import Config, load_config
from probed.errors import ConfigError, ProbedError, StoreError
from probed.service import sentry
from probed.service.build import Parts, build
from probed.service.listener import KEEPALIVE_TIMEOUT, listen
from probed.service.loop_errors import LoopErrors
from probed.service.sdnotify import Notifier, WatchdogPinger, monotonic_usec, watchdog_interval
from probed.units import utcnow

log = structlog.get_logger("probed")
EXIT_CRASHED = 3
"""`run`'s status after an unexpected exception: not 1, a config error, which is not restarted."""


class Daemon:
    """The lifecycle around ``build()``: start, serve, reload on SIGHUP, drain on SIGTERM."""

    def __init__(
        self,
        config: Config,
        env: Mapping[str, str] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.now = now
        self.notifier = Notifier(self.env)
        self._stop = asyncio.Event()
        self._force = False
        self._reloading = False
        self.parts: Parts | None = None

    async def run(self) -> int:
        settings = self.config.settings
        asyncio.get_running_loop().set_exception_handler(LoopErrors())
        self.parts = parts = build(
            self.config, self.now, notifier=self.notifier, reload=self.reload
        )
        scheduler, dispatcher = parts.scheduler, parts.dispatcher
        background: list[asyncio.Task[None]] = []
        runner: web.AppRunner | None = None
        listener: asyncio.Server | None = None
        public_runner: web.AppRunner | None = None
        public_listener: asyncio.Server | None = None
        pinger: asyncio.Task[None] | None = None
        try:
            # Before the first check: a monitor inside a maintenance window is never checked.
            parts.pauses.tick()
            parts.metrics.config_loaded(True, time.time())
            scheduler.start()
            parts.stalls.start()
            dispatcher.start()
            runner = web.AppRunner(parts.app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT)
            await runner.setup()
            try:
                listener = await listen(
                    runner, parts.guard, settings.listen_host, settings.listen_port
                )
            except OSError as exc:
                log.error(
                    "cannot listen",
                    listen=settings.listen,
                    error=str(exc),
                    hint=f'choose another address with "listen" in [probed] of {self.config.path}'
                    " (or $PROBED_LISTEN)",
                )
                return 2
            if settings.public_listen is not None:
                public_runner = web.AppRunner(
                    parts.public_app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT
                )
                await public_runner.setup()
                host, _, port = settings.public_listen.rpartition(":")
                try:
                    public_listener = await listen(
                        public_runner, parts.public_guard, host.strip("[]"), int(port)
                    )
                except OSError as exc:
                    log.error(
                        "cannot listen",
                        listen=settings.public_listen,
                        error=str(exc),
                        hint='choose another address with "public_listen" in [probed] of'
                        f" {self.config.path}",
                    )
                    return 2
            self._install_signals()
            if not self.config.channels:
                log.warning("no alert channel configured: state changes are logged, not sent")
            log.info(
                "started",
                monitors=len(parts.config.monitors),
                shard=None if settings.shard is None else str(settings.shard),
                location=settings.location,
                listen=settings.listen,
                public_listen=settings.public_listen,
                state_db=str(parts.store.path),
                config=str(self.config.path),
            )
            # What start-up built (config, monitors, metrics series) lives as long as the
            # daemon: out of the collector's sight, a full collection at 10,000 monitors no
            # longer walks it, which is a pause every check waits for.
            gc.freeze()
            gc.enable()  # disabled by run() while start-up built it
            self.notifier.ready()
            self.notifier.status(parts.summary())
            # After READY: the first housekeeping round (every monitor's uptime from the store)
            # is a second of work at 10,000 monitors that nothing before it waits for.
            background = [
                asyncio.create_task(parts.housekeeping.run()),
                asyncio.create_task(parts.pauses.run()),
                asyncio.create_task(parts.backlog.run()),
                asyncio.create_task(parts.domains.run()),
            ]
            interval = watchdog_interval(self.env)
            if interval is not None:
                pinger = asyncio.create_task(
                    WatchdogPinger(self.notifier, interval, parts.healthy).run()
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
            parts.stalls.stop()
            if pinger is not None:
                pinger.cancel()
            if scheduler.running:
                await scheduler.drain(0)
            await dispatcher.stop(0)
            for server in (listener, public_listener):
                if server is not None:
                    server.close()
            for app_runner in (runner, public_runner):
                if app_runner is not None:
                    await app_runner.cleanup()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await parts.aclose()

    def stop(self) -> None:
        if self._stop.is_set():
            log.warning("second stop signal: stopping now")
            self._force = True
            if self.parts is not None:
                for task in list(self.parts.scheduler.in_flight):
                    task.cancel()
                self.parts.dispatcher.cancel()
        self._stop.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        loop.add_signal_handler(signal.SIGINT, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))

    async def reload(self) -> list[str]:
        """Re-read monitors.toml; an invalid file changes nothing. Returns the problems found
        (none when the new configuration runs)."""
        parts = self.parts
        if parts is None:
            return ["the daemon is still starting"]
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
                parts.metrics.config_loaded(False, time.time())
                log.error(
                    "reload failed: keeping the running configuration",
                    problems=exc.shown(),
                )
                return exc.shown()
            try:
                changes = parts.apply(new)
            except StoreError as exc:
                # A full disk, say: the new monitors cannot be registered, so none of it runs.
                parts.metrics.config_loaded(False, time.time())
                log.error("reload failed: keeping the running configuration", error=str(exc))
                return [f"{exc}: the configuration was not applied"]
            for key in changes.needs_restart:
                log.warning("setting needs a restart to change", setting=key)
            for name in changes.removed:
                log.info("monitor removed", monitor=name)
            for name in changes.restarted:
                log.info("monitor check changed: starting from pending", monitor=name)
            for name in changes.added:
                log.info("monitor added", monitor=name)
            self.config = new
            parts.metrics.config_loaded(True, time.time())
            log.info(
                "reloaded",
                monitors=len(parts.config.monitors),
                seconds=round(time.monotonic() - started, 3),
            )
            return []
        finally:
            self._reloading = False
            self.notifier.ready()
            self.notifier.status(parts.summary())


def run(config_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Load the config and run the daemon until stopped; the process exit code."""
    # Start-up makes what lives as long as the daemon (and gc.freeze() sets it aside at
    # READY): collecting meanwhile only walks it again and again, 0.1 s at 10,000 monitors.
    gc.disable()
    try:
        config = load_config(config_path, env)
    except ConfigError as exc:
        for problem in exc.shown():
            log.error("invalid configuration", problem=problem)
        return 1
    close_sentry = sentry.start(config.settings)
    try:
        return asyncio.run(Daemon(config, env).run())
    except ProbedError as exc:
        log.error("cannot run", error=str(exc))
        return 2
    except Exception as exc:
        # Python exits 1 on an uncaught exception, the status the unit keeps for a config error
        # (RestartPreventExitStatus=1, which waits for a person): a crash must be restarted.
        log.error(
            "probed crashed",
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
        )
        return EXIT_CRASHED
    finally:
        if close_sentry is not None:
            close_sentry()  # the report of a crash goes out before the process does
