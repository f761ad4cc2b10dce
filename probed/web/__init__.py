"""The aiohttp application: /metrics, /healthz (and, later, the API and status page)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from probed.metrics import CONTENT_TYPE, Metrics

METRICS = web.AppKey("metrics", Metrics)
HEALTHY: web.AppKey[Callable[[], bool]] = web.AppKey("healthy")


async def metrics_handler(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def healthz_handler(request: web.Request) -> web.Response:
    if request.app[HEALTHY]():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


def make_app(metrics: Metrics, healthy: Callable[[], bool]) -> web.Application:
    app = web.Application()
    app[METRICS] = metrics
    app[HEALTHY] = healthy
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    return app
