"""``POST /api/v1/announcements`` and ``DELETE /api/v1/announcements[/{id}]`` (token): notices
on the status page, stored so they survive restarts, optionally until a time."""

from __future__ import annotations

import json
from datetime import timedelta

from aiohttp import web

from probed.config.reader import parse_duration
from probed.errors import StoreError
from probed.units import iso, to_ms
from probed.web.context import API, authorize
from probed.web.errors import api_error as error

LEVELS = ("info", "warning", "critical")
MAX_MESSAGE = 1000
MAX_FOR = 366 * 86400.0


async def add_announcement(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    try:
        message, level, for_seconds = _parse(await request.read())
    except ValueError as exc:
        return error(400, str(exc))
    now = api.now()
    expires = None if for_seconds is None else now + timedelta(seconds=for_seconds)
    store = api.history.store
    try:
        with store.transaction():
            created_ms, expires_ms = to_ms(now), to_ms(expires)
            assert created_ms is not None
            new_id = store.announcements.add(message, level, created_ms, expires_ms)
    except StoreError as exc:
        return error(503, f"{exc}: nothing was changed, try again once it can be written")
    return web.json_response(
        {"id": new_id, "message": message, "level": level, "expires": iso(expires)}, status=201
    )


async def delete_announcement(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    text = request.match_info.get("id")
    store = api.history.store
    try:
        with store.transaction():
            if text is None:
                return web.json_response({"deleted": store.announcements.delete_all()})
            if not (text.isascii() and text.isdigit() and len(text) < 19):
                return error(404, f"no announcement with id {text!r}")
            if not store.announcements.delete(int(text)):
                return error(404, f"no announcement with id {text!r}")
    except StoreError as exc:
        return error(503, f"{exc}: nothing was changed, try again once it can be written")
    return web.json_response({"deleted": 1})


def _parse(body: bytes) -> tuple[str, str, float | None]:
    """(message, level, for seconds) of ``{"message", "level", "for"}``; ValueError if bad."""
    example = '{"message": "Investigating slow logins", "level": "warning", "for": "2h"}'
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError(f"the body must be JSON, e.g. {example}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the body must be a JSON object, e.g. {example}")
    if unknown := sorted(set(data) - {"message", "level", "for"}):
        raise ValueError(f'unknown field {unknown[0]!r} (accepted: "message", "level", "for")')
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ValueError(f'"message" must be a non-empty string, e.g. {example}')
    if len(message) > MAX_MESSAGE:
        raise ValueError(f'"message" must be at most {MAX_MESSAGE} characters')
    level = data.get("level", "info")
    if level not in LEVELS:
        raise ValueError(f'"level" must be one of {", ".join(LEVELS)}')
    if data.get("for") is None:
        return message.strip(), level, None
    try:
        seconds = parse_duration(data["for"])
    except ValueError as exc:
        raise ValueError(f'"for": {exc}') from None
    except OverflowError:
        seconds = float("inf")
    if not 0 < seconds <= MAX_FOR:
        raise ValueError('"for" must be longer than 0 and at most 366d (else leave it out)')
    return message.strip(), level, seconds


def add_announcement_routes(app: web.Application) -> None:
    app.router.add_post("/announcements", add_announcement)
    app.router.add_delete("/announcements", delete_announcement)
    app.router.add_delete("/announcements/{id}", delete_announcement)
