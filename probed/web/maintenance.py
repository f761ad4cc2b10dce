"""``/api/v1/maintenance``: maintenance windows added through the API (docs/design.md §18.2).

``POST`` (token) stores a one-off window, checked like a ``[[maintenance]]`` table (known
monitors, a start with an offset, at most 7 days), and applies it at once; ``DELETE /{id}``
(token) removes one, resuming what it paused. ``GET`` lists the stored windows and monitors.toml's
(those with ``"id": null``; a weekly one with its current or next run within 7 days).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from datetime import datetime, timedelta

from aiohttp import web

from probed.config.maintenance import MAX_DURATION, MaintenanceWindow, describe_window
from probed.config.reader import control_problem, parse_duration
from probed.errors import StoreError
from probed.status.maintenance import AHEAD, windows_between
from probed.store import MaintenanceRow
from probed.units import iso
from probed.web.context import API, authorize
from probed.web.errors import api_error as error

MAX_NAME = 200
FIELDS = ("name", "monitors", "start", "duration")
EXAMPLE = (
    '{"name": "Database migration", "monitors": ["Backend API"],'
    ' "start": "2026-12-12T02:00Z", "duration": "1h"}'
)


async def add_window(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    try:
        name, monitors, start, end = parse_window(await request.read(), api.pipeline.monitors)
    except ValueError as exc:
        return error(400, str(exc))
    if end <= api.now():
        return error(400, f'the window ends at {iso(end)}, in the past: check "start"')
    try:
        row = api.pauses.add_window(name, monitors, start, end)
    except StoreError as exc:
        return error(503, f"{exc}: nothing was changed, try again once it can be written")
    return web.json_response(_stored_view(row, api.now()), status=201)


async def list_windows(request: web.Request) -> web.Response:
    api = request.app[API]
    now = api.now()
    views = [_stored_view(row, now) for row in api.pauses.stored]
    views += [_config_view(w, now) for w in api.pauses.windows]
    return web.json_response({"maintenance": views})


async def get_window(request: web.Request) -> web.Response:
    api = request.app[API]
    row = _find(api.pauses.stored, request.match_info["id"])
    if row is None:
        return _not_found(request.match_info["id"])
    return web.json_response(_stored_view(row, api.now()))


async def delete_window(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    text = request.match_info["id"]
    row = _find(api.pauses.stored, text)
    if row is None:
        return _not_found(text)
    try:
        api.pauses.remove_window(row.id)
    except StoreError as exc:
        return error(503, f"{exc}: nothing was changed, try again once it can be written")
    return web.json_response({"deleted": 1, "id": row.id, "name": row.name})


def parse_window(
    body: bytes, known: Collection[str]
) -> tuple[str, tuple[str, ...], datetime, datetime]:
    """(name, monitor names, start, end) of a POST body; ValueError saying what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError(f"the body must be JSON, e.g. {EXAMPLE}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the body must be a JSON object, e.g. {EXAMPLE}")
    if unknown := sorted(set(data) - set(FIELDS)):
        raise ValueError(f"unknown field {unknown[0]!r} (accepted: {', '.join(FIELDS)})")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f'"name" must be a non-empty string, e.g. {EXAMPLE}')
    if len(name) > MAX_NAME:
        raise ValueError(f'"name" must be at most {MAX_NAME} characters')
    if problem := control_problem(name):
        raise ValueError(f'"name" {problem}')
    return name.strip(), _monitors(data.get("monitors"), known), *_when(data)


def _monitors(value: object, known: Collection[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ValueError(f'"monitors" must be a list of monitor names, e.g. {EXAMPLE}')
    if not value:
        raise ValueError('"monitors" must name at least one monitor')
    for name in value:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ValueError(f'"monitors": unknown monitor {json.dumps(name)}{hint}')
    return tuple(sorted(set(value)))


def _when(data: dict[str, object]) -> tuple[datetime, datetime]:
    text = data.get("start")
    if not isinstance(text, str):
        raise ValueError(f'"start" must be a date-time with an offset, e.g. {EXAMPLE}')
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f'"start": invalid date-time {json.dumps(text)}: expected e.g. 2026-12-12T02:00Z'
        ) from None
    if start.utcoffset() is None:
        raise ValueError(f'"start" needs a UTC offset or Z, e.g. {text.strip()}Z')
    try:
        seconds = parse_duration(data.get("duration"))
    except ValueError as exc:
        raise ValueError(f'"duration": {exc}') from None
    except OverflowError:
        seconds = float("inf")
    if not 0 < seconds <= MAX_DURATION:
        raise ValueError('"duration" must be longer than 0 and at most 7d')
    return start, start + timedelta(seconds=seconds)


def _stored_view(row: MaintenanceRow, now: datetime) -> dict[str, object]:
    (occurrence,) = windows_between((), [row], row.start, row.end)
    return {
        "id": row.id,
        "name": row.name,
        "monitors": list(row.monitors),
        "start": iso(row.start),
        "end": iso(row.end),
        "state": str(occurrence.state(now)),
        "source": "api",
    }


def _config_view(window: MaintenanceWindow, now: datetime) -> dict[str, object]:
    if window.start is not None and window.end is not None:
        # A one-off window has its dates, however far off or long past.
        runs = windows_between([window], (), window.start, window.end)
    else:
        runs = [o for o in windows_between([window], (), now, now + AHEAD) if o.end > now]
    run = runs[0] if runs else None
    return {
        "id": None,
        "name": window.name,
        "monitors": None if window.monitors is None else sorted(window.monitors),
        "start": None if run is None else iso(run.start),
        "end": None if run is None else iso(run.end),
        "state": None if run is None else str(run.state(now)),
        "source": "monitors.toml",
        "schedule": describe_window(window),
        "weekly": window.start is None,
    }


def _find(rows: Collection[MaintenanceRow], text: str) -> MaintenanceRow | None:
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        return None
    return next((r for r in rows if r.id == int(text)), None)


def _not_found(text: str) -> web.Response:
    return error(
        404, f"no stored maintenance window with id {text!r} (see GET /api/v1/maintenance)"
    )


def add_maintenance_routes(app: web.Application) -> None:
    app.router.add_post("/maintenance", add_window)
    app.router.add_get("/maintenance", list_windows)
    app.router.add_get("/maintenance/{id}", get_window)
    app.router.add_delete("/maintenance/{id}", delete_window)
