"""What the alert tests share: a fake clock, configs pointing at the test SMTP server, and a
harness that runs the real store → recorder → outbox → dispatcher path in-process.

The harness feeds check results the way ``Pipeline.check`` applies them (state machine, then
``store.record_check`` with the recorder inside the transaction), minus the probe, so policy and
delivery tests take milliseconds and control time completely.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from probed.alerts.channels import ChannelSet
from probed.alerts.dispatcher import Dispatcher
from probed.alerts.outbox import Outbox, OutboxRow
from probed.alerts.recorder import AlertRecorder
from probed.config import Config, EmailChannel, Monitor, Settings
from probed.engine.pipeline import Pipeline, Tracked
from probed.engine.state import advance, pause
from probed.metrics import Metrics
from probed.model import CheckResult, Timings
from probed.store import Store
from tests.monitors import make_monitor

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """UTC wall time that moves only when the test says so."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t


def email_channel(port: int, **overrides: object) -> EmailChannel:
    base = EmailChannel(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="probed <probed@example.test>",
        to=("oncall@example.test",),
        timeout=5.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def make_config(
    tmp_path: Path,
    monitors: list[Monitor],
    email: EmailChannel | None,
    **settings: object,
) -> Config:
    channels = ("email",) if email else ()
    return Config(
        path=tmp_path / "monitors.toml",
        settings=replace(Settings(state_dir=tmp_path), **settings),  # type: ignore[arg-type]
        monitors=tuple(replace(m, alert=channels) if not m.alert else m for m in monitors),
        email=email,
    )


def monitor(name: str, kind: str = "http", **settings: Any) -> Monitor:
    settings = {"url": f"https://{name}.example.test/health", "down_after": 3} | settings
    return make_monitor(kind, name=name, **settings)


def failed(at: datetime, reason: str = "HTTP 503, expected 2xx") -> CheckResult:
    return CheckResult(
        ok=False,
        reason=reason,
        at=at,
        status_code=503,
        timings=Timings(dns=0.001, connect=0.002, first_byte=0.030, total=0.031),
    )


def good(at: datetime, **overrides: object) -> CheckResult:
    base = CheckResult(
        ok=True, reason="HTTP 200", at=at, status_code=200, timings=Timings(total=0.02)
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class Harness:
    """Store, outbox, recorder and dispatcher on one SQLite file, driven by a fake clock."""

    def __init__(self, path: Path, config: Config, clock: FakeClock) -> None:
        self.path, self.config, self.clock = path, config, clock
        self.store = Store.open(path)
        self.metrics = Metrics()
        self.outbox = Outbox(self.store)
        rows = self.store.sync_monitors(((m.name, "k", None) for m in config.monitors), clock())
        self.tracked = {
            m.name: Tracked(m, rows[m.name].id, rows[m.name].state) for m in config.monitors
        }
        self.dispatcher = Dispatcher(
            self.outbox,
            ChannelSet(lambda: self.config),
            self.metrics,
            clock,
            max_age=lambda: self.config.settings.alert_max_age,
        )
        self.recorder = AlertRecorder(
            self.outbox,
            lambda: self.config,
            clock,
            monitors=lambda: self.tracked.values(),
            wake=self.dispatcher.wake,
        )
        self.dispatcher.remind = self.recorder.remind

    def pipeline(self, session: aiohttp.ClientSession) -> Pipeline:
        """A real Pipeline on this harness's store, monitors, recorder and clock."""
        pipeline = Pipeline(self.store, self.metrics, session, self.clock)
        for tracked in self.tracked.values():
            pipeline.track(tracked)
        pipeline.record_hooks.append(self.recorder)
        return pipeline

    def feed(self, name: str, result: CheckResult) -> list[str]:
        """Apply one check result as Pipeline.check does; the transition kinds it caused."""
        tracked = self.tracked[name]
        state, transitions = advance(name, tracked.state, result, tracked.monitor.policy)

        def hook(ids: list[int]) -> None:
            self.recorder(tracked, result, list(zip(ids, transitions, strict=True)))

        self.store.record_check(tracked.id, result, state, transitions, hook)
        tracked.state, tracked.last = state, result
        return [str(t.kind) for t in transitions]

    def pause(self, name: str) -> None:
        tracked = self.tracked[name]
        state, transitions = pause(name, tracked.state, self.clock())

        def hook(ids: list[int]) -> None:
            self.recorder(tracked, None, list(zip(ids, transitions, strict=True)))

        self.store.record_state_change(tracked.id, state, transitions, hook)
        tracked.state = state

    def go_down(self, name: str, *, every: float = 1.0) -> None:
        """``down_after`` failed checks, ``every`` seconds apart, ending at the clock's time."""
        down_after = self.tracked[name].monitor.down_after
        start = self.clock() - timedelta(seconds=every * (down_after - 1))
        for i in range(down_after):
            self.feed(name, failed(start + timedelta(seconds=every * i)))

    def rows(self) -> list[OutboxRow]:
        return self.outbox.rows()

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def close(self) -> None:
        self.store.close()
