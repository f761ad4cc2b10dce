"""The one in-process harness: a probed made by ``build()`` on a fake clock, running the real
pipeline → store → recorder → outbox → dispatcher path, and its aiohttp app on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from probed.alerts.outbox import OutboxRow
from probed.config import Config, EmailChannel, Monitor
from probed.config.maintenance import MaintenanceWindow
from probed.engine.pipeline import Tracked
from probed.history import Retention
from probed.model import CheckResult, Timings, Transition
from probed.service.build import build
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config

Client = TestClient[web.Request, web.Application]


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
    """A probed made by ``build()`` from ``config``, driven by a fake clock.

    With no ``session`` the probe is replaced: ``feed()`` and ``check()`` hand the real
    pipeline a chosen result, so tests take milliseconds and control time completely. With a
    ``session`` the real probes run against the test's targets.
    """

    def __init__(
        self,
        config: Config,
        clock: FakeClock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.config, self.clock = config, clock or FakeClock()
        self._next: CheckResult | None = None
        self._seen: list[Transition] = []
        self.parts = build(
            config,
            self.clock,
            probe=None if session is not None else self._probe,
            session=session,
            sinks=[self._record],
        )
        self.store, self.metrics = self.parts.store, self.parts.metrics
        self.outbox, self.recorder = self.parts.outbox, self.parts.recorder
        self.dispatcher, self.pipeline = self.parts.dispatcher, self.parts.pipeline
        self.history, self.pauses, self.api = self.parts.history, self.parts.pauses, self.parts.api

    @classmethod
    def of(
        cls,
        db: Path,
        monitors: Sequence[Monitor],
        clock: FakeClock | None = None,
        windows: Sequence[MaintenanceWindow] = (),
        retention: Retention | None = None,
        email: EmailChannel | None = None,
    ) -> Harness:
        """A harness on ``monitors`` whose state directory is ``db``'s."""
        retention = retention or Retention()
        config = make_config(
            db.parent,
            monitors,
            email,
            windows=windows,
            raw_retention=retention.raw,
            history_retention=retention.history,
        )
        return cls(config, clock)

    async def _probe(self, monitor: Monitor, now: datetime) -> CheckResult:
        assert self._next is not None, "feed() or check() sets the result"
        return self._next

    def _record(self, tracked: Tracked, transitions: Sequence[Transition]) -> None:
        self._seen.extend(transitions)

    def tracked(self, name: str) -> Tracked:
        return self.pipeline.monitors[name]

    async def feed(self, name: str, result: CheckResult) -> list[str]:
        """Apply one check result through the real pipeline; the transition kinds it caused."""
        self._next, self._seen = result, []
        await self.pipeline.check(name)
        return [str(t.kind) for t in self._seen]

    async def check(
        self,
        name: str,
        ok: bool = True,
        duration: float = 0.1,
        reason: str | None = None,
        status_code: int | None = None,
        cert_expires_at: datetime | None = None,
    ) -> Tracked | None:
        """One check at the clock's time, ``ok`` or not, taking ``duration`` seconds."""
        self._next = CheckResult(
            ok=ok,
            reason=reason or ("HTTP 200" if ok else "HTTP 503, expected 2xx"),
            at=self.clock(),
            timings=Timings(total=duration, connect=duration / 4),
            status_code=status_code or (200 if ok else 503),
            cert_expires_at=cert_expires_at,
        )
        return await self.pipeline.check(name)

    async def go_down(self, name: str, *, every: float = 1.0) -> None:
        """``down_after`` failed checks, ``every`` seconds apart, ending at the clock's time."""
        down_after = self.tracked(name).monitor.down_after
        start = self.clock() - timedelta(seconds=every * (down_after - 1))
        for i in range(down_after):
            await self.feed(name, failed(start + timedelta(seconds=every * i)))

    def pause(self, name: str) -> None:
        self.pipeline.pause(name)

    def add_window(self, window: MaintenanceWindow) -> None:
        """Reload with one more maintenance window."""
        self.config = replace(self.config, maintenance=(*self.config.maintenance, window))
        self.parts.apply(self.config)

    @property
    def token(self) -> str | None:
        return self.api.token

    @token.setter
    def token(self, value: str | None) -> None:
        self.api.token = value

    def kinds(self, name: str) -> list[str]:
        """The monitor's transition kinds, oldest first."""
        return [t.kind.value for t in reversed(self.store.transitions(self.tracked(name).id))]

    def rows(self) -> list[OutboxRow]:
        return self.outbox.rows()

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    async def close(self) -> None:
        await self.parts.aclose()


async def api_client(harness: Harness) -> AsyncIterator[Client]:
    """A client of the real aiohttp app (with both APIs) on a real local server."""
    async with TestClient(TestServer(harness.parts.app, host="127.0.0.1")) as client:
        yield client
