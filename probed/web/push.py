"""``/push/<token>`` (docs/design.md §6): the routes push monitors' jobs call, with no API token.

``push_routes(receiver)`` returns them bound to their receiver, so they can be added to any
application: the admin one, or a public listener's. A token no monitor has is answered exactly
as a path nothing serves is (aiohttp's own 404), in about the same time: nothing is looked up
but a digest (see ``probed.engine.push``). Tokens are never logged: the daemon runs without an
access log, and probed's log redaction hides ``/push/<token>`` in whatever else is logged.
A token signalling faster than ``probed.engine.push_rate`` allows gets 429 and ``Retry-After``.

Sentry Crons' HTTP check-in shape is accepted too, so a job instrumented for it needs only its
URL changed: ``?status=ok`` is a ping, ``error`` a failure report, ``in_progress`` a start, and
the trailing ``/`` of Sentry's check-in URL is allowed.
"""

from __future__ import annotations

import asyncio
import functools
import math
from urllib.parse import parse_qs

from aiohttp import web

from probed.engine.push import Limited, PushReceiver
from probed.probes.push import MAX_MESSAGE, Signal

MAX_BODY_BYTES = 4 * MAX_MESSAGE
"""Bytes of a failure report's body read: MAX_MESSAGE characters of UTF-8 at most."""
BODY_TIMEOUT = 5.0
"""Seconds a client gets to send that much; a stalled body keeps what arrived."""


async def _message(request: web.Request) -> str:
    """A failure report's message: the ``msg`` parameter, else the start of the body."""
    if msg := request.query.get("msg", ""):
        return msg
    data = b""
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while len(data) < MAX_BODY_BYTES:
                chunk = await request.content.read(MAX_BODY_BYTES - len(data))
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        pass
    # A character cut in half at the bound is dropped, not shown as garbage.
    text = data.decode("utf-8", "ignore")
    if request.content_type == "application/x-www-form-urlencoded" and "msg=" in text:
        # curl -d "msg=disk full": the form's msg. (curl -d "disk full" sends the same type:
        # a body without a msg field is the message itself.)
        return parse_qs(text).get("msg", [text])[0]
    return text


CRONS_STATUS = {"ok": Signal.PING, "error": Signal.FAIL, "in_progress": Signal.START}
"""Sentry Crons' check-in ``status`` values and the signal each one is."""


def _signal(request: web.Request) -> Signal:
    """The path's signal, or the Sentry Crons ``status`` parameter's; 404 for a path nothing
    serves, 400 for a status Sentry does not have or one the path contradicts."""
    signal = Signal.PING
    if "signal" in request.match_info:
        if request.match_info["signal"] not in (Signal.FAIL, Signal.START):
            raise web.HTTPNotFound()
        signal = Signal(request.match_info["signal"])
    if "status" not in request.query:
        return signal
    status = request.query["status"]
    if status not in CRONS_STATUS:
        raise web.HTTPBadRequest(text="status must be ok, error or in_progress\n")
    if "signal" in request.match_info and CRONS_STATUS[status] is not signal:
        raise web.HTTPBadRequest(text=f"status={status} contradicts /{signal}\n")
    return CRONS_STATUS[status]


async def _handle(receiver: PushReceiver, request: web.Request) -> web.Response:
    signal = _signal(request)
    message = await _message(request) if signal is Signal.FAIL else ""
    answer = receiver.signal(request.match_info["token"], signal, message)
    if isinstance(answer, Limited):
        wait = str(max(1, math.ceil(answer.retry_after)))
        raise web.HTTPTooManyRequests(headers={"Retry-After": wait})
    if not answer:
        raise web.HTTPNotFound()
    return web.Response(text="OK")


def push_routes(receiver: PushReceiver) -> list[web.AbstractRouteDef]:
    """GET, HEAD and POST ``/push/{token}`` (also with Sentry's trailing ``/``),
    ``/push/{token}/fail`` and ``/push/{token}/start``."""
    handler = functools.partial(_handle, receiver)
    routes: list[web.AbstractRouteDef] = []
    for path in ("/push/{token}", "/push/{token}/", "/push/{token}/{signal}"):
        routes += [web.get(path, handler), web.post(path, handler)]
    return routes
