"""What the history, pause and API tests share: a probed made by ``build()`` on a fake clock,
fed check results through ``Pipeline.check`` with only the probe replaced, and its aiohttp app
on a real test server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from probed.config import Config, EmailChannel, Monitor, Settings
from probed.config.maintenance import MaintenanceWindow
from probed.engine.pipeline import Tracked
from probed.history import Retention
from probed.model import CheckResult, Timings
from probed.service.build import build
from tests.alert_fixtures import T0, FakeClock
from tests.monitors import make_monitor

TOKEN = "s3cret-token"
__all__ = ["T0", "TOKEN", "FakeClock", "Harness", "api_client", "monitor"]


def monitor(name: str, kind: str = "http", **settings: Any) -> Monitor:
    settings = {"url": f"https://{name}.example.test/health", "down_after": 2} | settings
    return make_monitor(kind, name=name, **settings)


class Harness:
    """A probed made by ``build()`` on a fake clock, its probe replaced: ``check()`` hands the
    real pipeline a chosen result. ``db``'s directory is the state directory."""

    def __init__(
        self,
        db: Path,
        monitors: Sequence[Monitor],
        clock: FakeClock | None = None,
        windows: Sequence[MaintenanceWindow] = (),
        retention: Retention | None = None,
        email: EmailChannel | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        retention = retention or Retention()
        settings = Settings(
            state_dir=db.parent,
            api_token=TOKEN,
            raw_retention=retention.raw,
            history_retention=retention.history,
        )
        self.config = Config(
            db.parent / "monitors.toml", settings, tuple(monitors), email, tuple(windows)
        )
        self._next: CheckResult | None = None
        self.parts = build(self.config, self.clock, probe=self._probe)
        self.store, self.metrics = self.parts.store, self.parts.metrics
        self.pipeline, self.history = self.parts.pipeline, self.parts.history
        self.pauses, self.api = self.parts.pauses, self.parts.api

    async def _probe(self, monitor: Monitor, now: datetime) -> CheckResult:
        assert self._next is not None, "check() sets the result"
        return self._next

    @property
    def token(self) -> str | None:
        return self.api.token

    @token.setter
    def token(self, value: str | None) -> None:
        self.api.token = value

    def add_window(self, window: MaintenanceWindow) -> None:
        """Reload with one more maintenance window."""
        self.config = replace(self.config, maintenance=(*self.config.maintenance, window))
        self.parts.apply(self.config)

    def tracked(self, name: str) -> Tracked:
        return self.pipeline.monitors[name]

    async def check(
        self,
        name: str,
        ok: bool = True,
        duration: float = 0.1,
        reason: str | None = None,
        status_code: int | None = None,
        cert_expires_at: datetime | None = None,
    ) -> Tracked | None:
        self._next = CheckResult(
            ok=ok,
            reason=reason or ("HTTP 200" if ok else "HTTP 503, expected 2xx"),
            at=self.clock(),
            timings=Timings(total=duration, connect=duration / 4),
            status_code=status_code or (200 if ok else 503),
            cert_expires_at=cert_expires_at,
        )
        return await self.pipeline.check(name)

    def kinds(self, name: str) -> list[str]:
        """The monitor's transition kinds, oldest first."""
        return [t.kind.value for t in reversed(self.store.transitions(self.tracked(name).id))]

    async def close(self) -> None:
        await self.parts.aclose()


async def api_client(harness: Harness) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A client of the real aiohttp app (with both APIs) on a real local server."""
    async with TestClient(TestServer(harness.parts.app, host="127.0.0.1")) as client:
        yield client
