"""The aiohttp application: /metrics, /healthz, the JSON API (/api/v1) and the UptimeRobot
v2 API (/v2), and the public status page, its JSON and badges (probed.web.public)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from probed.metrics import CONTENT_TYPE, Metrics
from probed.web.api import make_api_app
from probed.web.context import Api
from probed.web.errors import path_errors
from probed.web.public import PUBLIC, Public, add_public_routes
from probed.web.uptimerobot import make_uptimerobot_app

METRICS = web.AppKey("metrics", Metrics)
HEALTHY: web.AppKey[Callable[[], bool]] = web.AppKey("healthy")
PROBLEM: web.AppKey[Callable[[], str | None]] = web.AppKey("problem")


async def metrics_handler(request: web.Request) -> web.Response:
    # In a thread: at 10,000 monitors the text is 10 MB, and on the loop every check would
    # wait for it. The metrics are thread-safe (probed.metric_family reads copies).
    body = await asyncio.to_thread(request.app[METRICS].render)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def healthz_handler(request: web.Request) -> web.Response:
    if not request.app[HEALTHY]():
        return web.json_response({"status": "unavailable"}, status=503)
    # A daemon that cannot record what it sees is not healthy, even if it still checks.
    if (problem := request.app[PROBLEM]()) is not None:
        return web.json_response({"status": "unavailable", "reason": problem}, status=503)
    return web.json_response({"status": "ok"})


def make_app(
    metrics: Metrics,
    healthy: Callable[[], bool],
    api: Api | None = None,
    problem: Callable[[], str | None] = lambda: None,
    public: Public | None = None,
) -> web.Application:
    """The whole HTTP surface; the APIs are mounted when ``api`` is given. ``/healthz`` is
    503 while ``healthy()`` is False or ``problem()`` names one (given as its reason)."""
    app = web.Application(middlewares=[path_errors])
    app[METRICS] = metrics
    app[HEALTHY] = healthy
    app[PROBLEM] = problem
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    if public is not None:
        app[PUBLIC] = public
        # /api/v1/status is served by the /api/v1 sub-app, which takes every /api/v1 path.
        add_public_routes(app, status_api_route=api is None)
    if api is not None:
        app.add_subapp("/api/v1", make_api_app(api))
        app.add_subapp("/v2", make_uptimerobot_app(api))
    return app
