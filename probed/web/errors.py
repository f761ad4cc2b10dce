"""One middleware per API sub-app that makes every failure a JSON answer in that API's shape:
aiohttp's own 404/405/413 (raised before or around the handler) and any unexpected exception,
which is a 500 that says nothing of the code and is logged once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

log = structlog.get_logger("probed")

Render = Callable[[int, str, dict[str, str] | None], web.Response]
"""(HTTP status, short lower-case reason, extra headers) → the API's error answer."""
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_errors(render: Render) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            return render(exc.status, exc.reason.lower(), allow)
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
