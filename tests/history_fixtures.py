"""What the history, pause and API tests share: a real store and pipeline on a fake clock, fed
check results through ``Pipeline.check`` with only the probe replaced, and the API app on a real
aiohttp test server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from probed.config import Monitor
from probed.config.maintenance import MaintenanceWindow
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.history import History, Retention
from probed.metrics import Metrics
from probed.model import CheckResult, Timings
from probed.store import Store
from probed.web import make_app
from probed.web.context import Api
from tests.alert_fixtures import T0, FakeClock
from tests.monitors import make_monitor

TOKEN = "s3cret-token"
__all__ = ["T0", "TOKEN", "FakeClock", "Harness", "api_client", "monitor"]


def monitor(name: str, kind: str = "http", **settings: Any) -> Monitor:
    settings = {"url": f"https://{name}.example.test/health", "down_after": 2} | settings
    return make_monitor(kind, name=name, **settings)


class Harness:
    """Store, history, pipeline and pauses of one daemon, on ``clock``; ``check()`` applies a
    result through the real pipeline."""

    def __init__(
        self,
        path: Path,
        monkeypatch: pytest.MonkeyPatch,
        monitors: Sequence[Monitor],
        clock: FakeClock | None = None,
        windows: Sequence[MaintenanceWindow] = (),
        retention: Retention | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        self.store = Store.open(path)
        self.metrics = Metrics()
        self.pipeline = Pipeline(self.store, self.metrics, None, self.clock)  # type: ignore[arg-type]
        self.history = History(self.store, self.clock, lambda: retention or Retention())
        self.history.start_run()
        self.windows = list(windows)
        self.pauses = Pauses(self.pipeline, self.store, lambda: self.windows, self.clock)
        self.token: str | None = TOKEN
        self.api = Api(self.pipeline, self.history, self.pauses, lambda: self.token, self.clock)
        self._next: CheckResult | None = None

        async def probe(monitor: Monitor, session: object, now: datetime) -> CheckResult:
            assert self._next is not None, "check() sets the result"
            return self._next

        monkeypatch.setattr("probed.engine.pipeline.run_probe", probe)
        rows = self.store.sync_monitors([(m.name, "k", m.id) for m in monitors], self.clock())
        for m in monitors:
            row = rows[m.name]
            self.pipeline.track(Tracked(m, row.id, row.state, self.store.last_check(row.id)))

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

    def close(self) -> None:
        self.store.close()


async def api_client(harness: Harness) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A client of the real aiohttp app (with both APIs) on a real local server."""
    app = make_app(harness.metrics, lambda: True, harness.api)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client
