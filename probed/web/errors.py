"""Error answers in the shape of the path they answer: JSON on the API paths (``/api/…`` as
``{"error": "..."}``, ``/v2/…`` in UptimeRobot's shape), aiohttp's plain text elsewhere.

``json_errors`` is one middleware per API sub-app: aiohttp's own 404/405/413 (raised before or
around the handler) and any unexpected exception, which is a 500 that says nothing of the code
and is logged once. ``path_errors`` is the root apps' middleware for the 4xx no sub-app saw (an
unknown ``/api/…`` path, a method ``/api/v1/status`` does not take), and ``answer_for_path``
words the requests aiohttp's parser refuses before any app sees them (the listener calls it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from probed.web.uptimerobot_params import http_error

log = structlog.get_logger("probed")

Render = Callable[[int, str, dict[str, str] | None], web.Response]
"""(HTTP status, short lower-case reason, extra headers) → the API's error answer."""
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def api_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The /api error answer: ``{"error": message}`` with ``status``."""
    return web.json_response({"error": message}, status=status, headers=headers)


def api_render(path: str) -> Render | None:
    """The error shape of the API ``path`` belongs to; None for a path outside the APIs."""
    if path == "/v2" or path.startswith("/v2/"):
        return http_error
    if path == "/api" or path.startswith("/api/"):
        return api_error
    return None


def answer_for_path(path: str | None, status: int, message: str) -> web.Response | None:
    """A refusal of a request to ``path`` (None: unknown) in its API's shape; None outside the
    APIs, where aiohttp's plain text answer stands."""
    render = api_render(path) if path is not None else None
    return None if render is None else render(status, message, None)


@web.middleware
async def path_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """4xx raised on an API path (an unknown one, a wrong method) → that API's JSON answer."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        render = api_render(request.path)
        if exc.status < 400 or render is None:
            raise
        return render(exc.status, exc.reason.lower(), _allow(exc))


def json_errors(render: Render) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return render(exc.status, exc.reason.lower(), _allow(exc))
        except Exception:
            # aiohttp would log "Error handling request" with a traceback and answer text/plain;
            # the client gets no detail (it could carry internals or secrets), the log has it.
            log.error(
                "unhandled error in API request",
                method=request.method,
                path=request.path,
                exc_info=True,
            )
            return render(500, "internal server error", None)

    return middleware


def _allow(exc: web.HTTPException) -> dict[str, str] | None:
    return {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
