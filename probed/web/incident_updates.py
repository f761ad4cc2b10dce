"""Opening a manual incident and posting updates under /api/v1 (docs/design.md §17.5, §18.1):
``POST /incidents`` and ``POST /incidents/{id}/updates``, both with the token.

Bodies are JSON objects; a field of the wrong type, an unknown field or what the incident book
refuses (``IncidentInputError``) is a 400 whose ``field`` names the body field at fault.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from aiohttp import web

from probed.errors import StoreError
from probed.incidents.book import IncidentBook
from probed.incidents.inputs import IncidentInputError
from probed.incidents.views import incident_json, update_json
from probed.web.context import API, authorize
from probed.web.errors import api_error as error

MAX_BY = 100
_OPEN_FIELDS = ("title", "monitors", "status", "impact", "text", "by")
_UPDATE_FIELDS = ("status", "text", "by")
# The book names what people call the status a "stage", and one monitor at a time.
_FIELD_OF = {"stage": "status", "monitor": "monitors"}
_STORE_BUSY = "nothing was changed, try again once it can be written"


class BadField(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def _bad(exc: BadField | IncidentInputError) -> web.Response:
    if isinstance(exc, BadField):
        field = exc.field
    else:
        name = str(exc).split(":", 1)[0]
        field = _FIELD_OF.get(name, name)
        exc = BadField(field, str(exc).split(":", 1)[1].strip())
    return web.json_response({"error": str(exc), "field": field}, status=400)


def _book(request: web.Request) -> IncidentBook:
    book = request.app[API].incidents
    if book is None:
        raise web.HTTPNotFound()
    return book


async def _body(request: web.Request, fields: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object, with only ``fields``; BadField otherwise."""
    try:
        data = json.loads(await request.read())
    except (ValueError, RecursionError):
        raise BadField("body", "must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadField("body", "must be a JSON object")
    if unknown := sorted(set(data) - set(fields)):
        raise BadField(unknown[0], f"unknown field (accepted: {', '.join(fields)})")
    return data


def _string(data: dict[str, Any], field: str, default: str | None = None) -> str | None:
    value = data.get(field, default)
    if value is not None and not isinstance(value, str):
        raise BadField(field, "must be a string")
    return value


def _by(data: dict[str, Any]) -> str | None:
    """Who posts: optional, one line of at most ``MAX_BY`` characters."""
    by = _string(data, "by")
    if by is None or not by.strip():
        return None
    by = by.strip()
    if len(by) > MAX_BY or any(unicodedata.category(c) == "Cc" for c in by):
        raise BadField("by", f"at most {MAX_BY} characters, without control characters")
    return by


async def open_incident(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    book = _book(request)
    try:
        data = await _body(request, _OPEN_FIELDS)
        title = _string(data, "title")
        if title is None:
            raise BadField("title", 'required, e.g. {"title": "Voice calls failing"}')
        monitors = data.get("monitors", [])
        if not isinstance(monitors, list) or not all(isinstance(m, str) for m in monitors):
            raise BadField("monitors", 'must be a list of monitor names, e.g. ["Voice API"]')
        row = book.open_manual(
            title,
            monitors,
            stage=_string(data, "status", "investigating") or "investigating",
            impact=_string(data, "impact", "minor") or "minor",
            text=_string(data, "text"),
            by=_by(data),
        )
    except (BadField, IncidentInputError) as exc:
        return _bad(exc)
    except StoreError as exc:
        return error(503, f"{exc}: {_STORE_BUSY}")
    updates = book.store.incidents.updates([row.id])
    answer = incident_json(row, api.now(), book.config.settings.external_url, updates)
    return web.json_response(answer, status=201)


async def post_update(request: web.Request) -> web.Response:
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    book = _book(request)
    code = request.match_info["id"]
    if book.store.incidents.get(code) is None:
        return error(404, f"no incident {code!r}")
    try:
        data = await _body(request, _UPDATE_FIELDS)
        stage, text = _string(data, "status"), _string(data, "text")
        if stage is None:
            raise BadField("status", "required: investigating, identified, monitoring or resolved")
        if text is None:
            raise BadField("text", "required: what people should know now")
        posted = book.add_update(code, stage, text, _by(data))
    except (BadField, IncidentInputError) as exc:
        return _bad(exc)
    except StoreError as exc:
        return error(503, f"{exc}: {_STORE_BUSY}")
    if posted is None:  # pruned meanwhile
        return error(404, f"no incident {code!r}")
    update, row = posted
    updates = book.store.incidents.updates([row.id])
    incident = incident_json(row, api.now(), book.config.settings.external_url, updates)
    return web.json_response({"update": update_json(update), "incident": incident}, status=201)


def add_update_routes(app: web.Application) -> None:
    app.router.add_post("/incidents", open_incident)
    app.router.add_post("/incidents/{id}/updates", post_update)
