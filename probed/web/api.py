"""The JSON API under /api/v1 (docs/design.md §6): monitors with state, uptime and incidents;
pause and resume.

Reading needs no token (the listener is loopback by default); changes need
``Authorization: Bearer <api_token>``, and are refused (403) while no token is configured.
Every error is ``{"error": "..."}`` with a fitting status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from probed.config.reader import parse_duration
from probed.engine.pauses import ConfigPaused
from probed.engine.pipeline import Tracked
from probed.errors import StoreError
from probed.history.uptime import incidents
from probed.units import from_ts, iso
from probed.web.announcements import add_announcement_routes
from probed.web.context import API, DAY, EPOCH, Api, Facts, authorize, holds_token, shown_url
from probed.web.errors import api_error as error
from probed.web.errors import json_errors
from probed.web.feeds import status_summary
from probed.web.incidents import add_incident_routes
from probed.web.maintenance import add_maintenance_routes
from probed.web.public import status_api
from probed.web.subscribers_api import add_subscriber_routes

RECENT_INCIDENTS = 10
MAX_PAUSE = 366 * 86400.0
WINDOWS = {"1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY}


async def list_monitors(request: web.Request) -> web.Response:
    api = request.app[API]
    views = monitor_views(api, api.facts(api.monitors()), holds_token(api, request))
    return web.json_response({"monitors": views})


async def get_monitor(request: web.Request) -> web.Response:
    api = request.app[API]
    tracked = api.find(request.match_info["id"])
    if tracked is None:
        return _not_found(request)
    return web.json_response(monitor_views(api, api.facts([tracked]), holds_token(api, request))[0])


def _change_target(request: web.Request) -> Tracked | web.Response:
    """The monitor a change request names, or the refusal to send (token, unknown id)."""
    api = request.app[API]
    if (refused := authorize(api, request)) is not None:
        return refused
    tracked = api.find(request.match_info["id"])
    return _not_found(request) if tracked is None else tracked


async def pause_monitor(request: web.Request) -> web.Response:
    tracked = _change_target(request)
    if isinstance(tracked, web.Response):
        return tracked
    try:
        for_seconds = _pause_for(await request.read())
    except ValueError as exc:
        return error(400, str(exc))
    pauses = request.app[API].pauses
    return _changed(request, tracked, lambda: pauses.pause(tracked, for_seconds, "API"))


async def resume_monitor(request: web.Request) -> web.Response:
    tracked = _change_target(request)
    if isinstance(tracked, web.Response):
        return tracked
    pauses = request.app[API].pauses
    return _changed(request, tracked, lambda: pauses.resume(tracked, "API"))


def _changed(request: web.Request, tracked: Tracked, change: Callable[[], object]) -> web.Response:
    """Make ``change`` and answer with the monitor as it now is, or say why it was refused."""
    try:
        change()
    except ConfigPaused as exc:
        return error(409, str(exc))
    except StoreError as exc:
        return error(503, f"{exc}: nothing was changed, try again once it can be written")
    api = request.app[API]
    return web.json_response(monitor_views(api, api.facts([tracked]), holder=True)[0])


async def reload_config(request: web.Request) -> web.Response:
    """POST /api/v1/reload: re-read monitors.toml, as SIGHUP does, and say how it went."""
    api = request.app[API]
    if (refusal := authorize(api, request)) is not None:
        return refusal
    if api.reload is None:
        return error(501, "this server cannot reload its configuration")
    problems = await api.reload()
    if problems:
        return web.json_response(
            {
                "error": "the new configuration is invalid; the old one keeps running",
                "problems": problems,
            },
            status=422,
        )
    return web.json_response({"status": "reloaded", "monitors": len(api.pipeline.monitors)})


def _not_found(request: web.Request) -> web.Response:
    return error(404, f"no monitor with id {request.match_info['id']!r}")


def _pause_for(body: bytes) -> float | None:
    """The optional ``{"for": "30m"}`` of a pause request, in seconds."""
    if not body.strip():
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError('the body must be JSON, e.g. {"for": "30m"}') from None
    if not isinstance(data, dict):
        raise ValueError('the body must be a JSON object, e.g. {"for": "30m"}')
    if unknown := sorted(set(data) - {"for"}):
        raise ValueError(f'unknown field {unknown[0]!r} (only "for" is accepted)')
    if data.get("for") is None:
        return None
    try:
        seconds = parse_duration(data["for"])
    except OverflowError:  # integer seconds too large for a float
        seconds = float("inf")
    if not 0 < seconds <= MAX_PAUSE:
        raise ValueError('"for" must be longer than 0 and at most 366d (else pause without it)')
    return seconds


def monitor_views(api: Api, facts: list[Facts], holder: bool = False) -> list[dict[str, object]]:
    """The JSON objects of several monitors, with their bulk reads done once; ``holder``: the
    reader holds the api_token (push monitors' ``url`` is then their path, token and all)."""
    now = api.now()
    ids = [f.tracked.id for f in facts]
    means = api.history.mean_response(ids, now - DAY, now)
    missing = [
        f.tracked.id
        for f in facts
        if f.tracked.monitor.sees_certificates
        and (f.tracked.last is None or f.tracked.last.cert_expires_at is None)
    ]
    certs = api.history.last_cert_expiry(missing) if missing else {}
    return [
        _view(api, f, now, means.get(f.tracked.id), certs.get(f.tracked.id), holder) for f in facts
    ]


def _view(
    api: Api, facts: Facts, now: datetime, mean: float | None, cert: float | None, holder: bool
) -> dict[str, object]:
    t, state, last = facts.tracked, facts.tracked.state, facts.tracked.last
    uptime = {key: facts.timeline.ratio(now - span, now) for key, span in WINDOWS.items()}
    uptime["all"] = facts.timeline.ratio(EPOCH, now)
    cert_expires = last.cert_expires_at if last and last.cert_expires_at else None
    recent = incidents(facts.changes)[-RECENT_INCIDENTS:]
    return {
        "id": t.id,
        "name": t.monitor.name,
        "url": shown_url(t.monitor, holder),
        "type": t.monitor.type,
        "status": int(state.status),
        "state": state.status.label,
        "since": iso(state.since),
        "reason": state.reason,
        "paused_until": iso(api.pauses.paused_until(t)),
        "last_check": None
        if last is None
        else {
            "at": iso(last.at),
            "ok": last.ok,
            "reason": last.reason,
            "status_code": last.status_code,
            "duration_seconds": last.duration,
            "timings": last.timings.to_json(),
        },
        "uptime": uptime,
        "avg_response_seconds_24h": mean,
        "cert_expires_at": iso(cert_expires or from_ts(cert)),
        "incident": _open_incident(api, t.monitor.name),
        "incidents": [
            {
                "start": iso(p.start),
                "end": iso(p.end),
                "duration_seconds": round(p.duration(now), 3),
                "reason": p.reason,
            }
            for p in reversed(recent)
        ],
    }


def _open_incident(api: Api, name: str) -> dict[str, object] | None:
    """The monitor's open incident: its ID and who acknowledged it (None: nobody yet)."""
    book = api.incidents
    ref = book.ref(name) if book is not None else None
    if book is None or ref is None or not ref.open:
        return None
    by = None
    # Only an acknowledged one is read: the name is not kept in memory.
    if ref.acked and (row := book.store.incidents.get(ref.code)) is not None:
        by = row.acked_by
    return {"id": ref.code, "acknowledged_by": by}


def make_api_app(api: Api) -> web.Application:
    """The /api/v1 sub-application."""
    app = web.Application(middlewares=[json_errors(error)])
    app[API] = api
    app.router.add_get("/status", status_api)
    app.router.add_get("/status/summary", status_summary)
    add_announcement_routes(app)
    add_incident_routes(app)
    add_maintenance_routes(app)
    add_subscriber_routes(app)
    app.router.add_get("/monitors", list_monitors)
    app.router.add_get("/monitors/{id}", get_monitor)
    app.router.add_post("/monitors/{id}/pause", pause_monitor)
    app.router.add_post("/monitors/{id}/resume", resume_monitor)
    app.router.add_post("/reload", reload_config)
    return app
