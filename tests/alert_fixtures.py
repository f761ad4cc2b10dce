"""What the alert tests share: a fake clock, configs pointing at the test SMTP server, and a
harness around ``build()`` that runs the real pipeline → store → recorder → outbox → dispatcher
path in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from probed.alerts.outbox import OutboxRow
from probed.config import Config, EmailChannel, Monitor, Settings
from probed.engine.pipeline import Tracked
from probed.model import CheckResult, Timings, Transition
from probed.service.build import build
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
    """A probed made by ``build()`` on one state directory, driven by a fake clock.

    With no ``session`` the probe is replaced: ``feed()`` hands the pipeline a chosen result,
    so policy and delivery tests take milliseconds and control time completely. With a
    ``session`` the real probes run against the test's targets.
    """

    def __init__(
        self,
        path: Path,
        config: Config,
        clock: FakeClock,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.path, self.config, self.clock = path, config, clock
        self._next: CheckResult | None = None
        self._seen: list[Transition] = []
        settings = replace(config.settings, state_dir=path.parent)
        self.parts = build(
            replace(config, settings=settings),
            clock,
            probe=None if session is not None else self._probe,
            session=session,
            sinks=[self._record],
        )
        self.store, self.metrics = self.parts.store, self.parts.metrics
        self.outbox, self.recorder = self.parts.outbox, self.parts.recorder
        self.dispatcher, self.pipeline = self.parts.dispatcher, self.parts.pipeline
        self.tracked = self.pipeline.monitors

    async def _probe(self, monitor: Monitor, now: datetime) -> CheckResult:
        assert self._next is not None, "feed() sets the result"
        return self._next

    def _record(self, tracked: Tracked, transitions: Sequence[Transition]) -> None:
        self._seen.extend(transitions)

    async def feed(self, name: str, result: CheckResult) -> list[str]:
        """Apply one check result through the real pipeline; the transition kinds it caused."""
        self._next, self._seen = result, []
        await self.pipeline.check(name)
        return [str(t.kind) for t in self._seen]

    def pause(self, name: str) -> None:
        self.pipeline.pause(name)

    async def go_down(self, name: str, *, every: float = 1.0) -> None:
        """``down_after`` failed checks, ``every`` seconds apart, ending at the clock's time."""
        down_after = self.tracked[name].monitor.down_after
        start = self.clock() - timedelta(seconds=every * (down_after - 1))
        for i in range(down_after):
            await self.feed(name, failed(start + timedelta(seconds=every * i)))

    def rows(self) -> list[OutboxRow]:
        return self.outbox.rows()

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    async def close(self) -> None:
        await self.parts.aclose()
