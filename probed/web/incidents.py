"""The incidents API under /api/v1 (docs/design.md §6.2, §17): list, one with its timeline and
evidence (token), acknowledge (token) and the post-mortem draft; opening a manual incident and
posting updates are in ``probed.web.incident_updates``.

Evidence (what the target answered, headers and body) is shown only to a request carrying the
api_token: the API is readable without one, and a body may hold what its server leaked.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from probed.errors import StoreError
from probed.history.slo import WINDOW_SECONDS, Budget, budget
from probed.incidents.book import IncidentBook
from probed.incidents.postmortem import postmortem
from probed.incidents.views import detail_json, incident_json
from probed.store.incidents import AckOutcome, IncidentRow, UpdateRow
from probed.units import iso, parse_iso
from probed.web.context import API, Api, authorize, holds_token
from probed.web.errors import api_error as error
from probed.web.incident_updates import add_update_routes

DEFAULT_LIMIT, MAX_LIMIT = 50, 100
MAX_OFFSET = 10**9
MAX_BY, MAX_NOTE = 100, 1000


class BadParameter(ValueError):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


def _book(api: Api) -> IncidentBook:
    if api.incidents is None:
        raise web.HTTPNotFound()
    return api.incidents


async def list_incidents(request: web.Request) -> web.Response:
    api = request.app[API]
    book = _book(api)
    try:
        monitor_id, open_, since, limit, offset = _filters(api, book, request)
    except BadParameter as exc:
        return web.json_response({"error": str(exc), "parameter": exc.name}, status=400)
    rows, total = book.store.incidents.find(
        monitor_id=monitor_id, open=open_, since=since, limit=limit, offset=offset
    )
    now, base = api.now(), book.config.settings.external_url
    updates = _updates_of(book, rows)
    return web.json_response(
        {
            "incidents": [incident_json(r, now, base, updates.get(r.id, [])) for r in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


def _updates_of(book: IncidentBook, rows: list[IncidentRow]) -> dict[int, list[UpdateRow]]:
    """The updates of these incidents by incident row id, newest first (one query)."""
    out: dict[int, list[UpdateRow]] = {}
    for update in book.store.incidents.updates([r.id for r in rows]) if rows else ():
        out.setdefault(update.incident_id, []).append(update)
    return out


def _filters(
    api: Api, book: IncidentBook, request: web.Request
) -> tuple[int | None, bool | None, datetime | None, int, int]:
    """(monitor id, open, since, limit, offset) of the query; BadParameter names a bad one."""
    q = request.query
    monitor_id = None
    if (name := q.get("monitor")) is not None:
        monitor_id = _monitor_id(api, book, name)
    open_ = None
    if (text := q.get("open")) is not None:
        if text not in ("true", "false"):
            raise BadParameter("open", "must be true or false")
        open_ = text == "true"
    since = None
    if (text := q.get("since")) is not None:
        try:
            since = parse_iso(text)
        except (ValueError, OverflowError):
            raise BadParameter(
                "since", "must be an ISO 8601 time, e.g. 2026-03-01T00:00:00Z"
            ) from None
    limit = _integer(q, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _integer(q, "offset", 0, 0, MAX_OFFSET)
    return monitor_id, open_, since, limit, offset


def _integer(query: Any, name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    # ASCII digits only: int() would also take " 5", "5_0" and other scripts' digits.
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and low <= int(text) <= high):
        raise BadParameter(name, f"must be an integer from {low} to {high}")
    return int(text)


def _monitor_id(api: Api, book: IncidentBook, name: str) -> int:
    """A monitor named so (configured, else one an incident names), else the id given."""
    if (tracked := api.pipeline.monitors.get(name)) is not None:
        return tracked.id
    if (found := book.store.incidents.monitor_id(name)) is not None:
        return found
    if name.isascii() and name.isdigit() and len(name) < 19:
        return int(name)
    raise BadParameter("monitor", f"no monitor named {name!r} (give its name or id)")


def _found(api: Api, request: web.Request) -> IncidentRow | web.Response:
    code = request.match_info["id"]
    row = _book(api).store.incidents.get(code)
    return error(404, f"no incident {code!r}") if row is None else row


async def get_incident(request: web.Request) -> web.Response:
    api = request.app[API]
    row = _found(api, request)
    if isinstance(row, web.Response):
        return row
    store = _book(api).store.incidents
    evidence = store.evidence(row.id) if holds_token(api, request) else None
    base = _book(api).config.settings.external_url
    updates = store.updates([row.id])
    return web.json_response(
        detail_json(row, store.events(row.id), evidence, api.now(), base, updates)
    )


async def ack_incident(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    row = _found(api, request)
    if isinstance(row, web.Response):
        return row
    try:
        by, note = _ack_body(await request.read())
    except ValueError as exc:
        return error(400, str(exc))
    book = _book(api)
    try:
        outcome, now_row = book.ack(row.code, by, note)
    except StoreError as exc:
        return error(503, f"{exc}: nothing was changed, try again once it can be written")
    if outcome is AckOutcome.UNKNOWN or now_row is None:
        return error(404, f"no incident {row.code!r}")
    if outcome is AckOutcome.CLOSED:
        return error(
            409, f"{row.code} is closed (ended {iso(now_row.ended)}): nothing to acknowledge"
        )
    updates = book.store.incidents.updates([now_row.id])
    answer = incident_json(now_row, api.now(), book.config.settings.external_url, updates)
    answer["already"] = outcome is AckOutcome.ALREADY
    return web.json_response(answer)


def _ack_body(body: bytes) -> tuple[str, str | None]:
    """(by, note) of ``{"by": ..., "note": ...}``; ValueError says what is wrong."""
    example = '{"by": "alice", "note": "looking into it"}'
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError(f"the body must be JSON, e.g. {example}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the body must be a JSON object, e.g. {example}")
    if unknown := sorted(set(data) - {"by", "note"}):
        raise ValueError(f'unknown field {unknown[0]!r} (accepted: "by", "note")')
    by = data.get("by")
    if not isinstance(by, str) or not by.strip():
        raise ValueError(f'"by" must be a non-empty string (who acknowledges), e.g. {example}')
    by = by.strip()
    if len(by) > MAX_BY or _controls(by):
        raise ValueError(f'"by" must be at most {MAX_BY} characters, without control characters')
    note = data.get("note")
    if note is None:
        return by, None
    if not isinstance(note, str):
        raise ValueError('"note" must be a string')
    note = note.strip()
    if len(note) > MAX_NOTE or _controls(note, allowed="\n\t"):
        raise ValueError(
            f'"note" must be at most {MAX_NOTE} characters, without control characters'
        )
    return by, note or None


def _controls(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


async def get_postmortem(request: web.Request) -> web.Response:
    api = request.app[API]
    row = _found(api, request)
    if isinstance(row, web.Response):
        return row
    store = _book(api).store.incidents
    evidence = store.evidence(row.id) if holds_token(api, request) else None
    uptime, spent = _impact(api, row)
    text = postmortem(row, store.events(row.id), evidence, uptime, spent, api.now())
    return web.Response(text=text, content_type="text/markdown", charset="utf-8")


def _impact(api: Api, row: IncidentRow) -> tuple[float | None, Budget | None]:
    """The monitor's 30-day uptime and, when it has an ``slo``, its error budget then."""
    now = api.now()
    if row.monitor_id is None:  # a manual incident changes no measured uptime
        return None, None
    _, line = api.history.timelines([row.monitor_id])[row.monitor_id]
    up, down = line.seconds(now - timedelta(seconds=WINDOW_SECONDS), now)
    uptime = up / (up + down) if up + down > 0 else None
    objective = next(
        (t.monitor.slo for t in api.pipeline.monitors.values() if t.id == row.monitor_id), None
    )
    return uptime, None if objective is None else budget(objective, up, down)


def add_incident_routes(app: web.Application) -> None:
    app.router.add_get("/incidents", list_incidents)
    app.router.add_get("/incidents/{id}", get_incident)
    app.router.add_post("/incidents/{id}/ack", ack_incident)
    app.router.add_get("/incidents/{id}/postmortem", get_postmortem)
    add_update_routes(app)
