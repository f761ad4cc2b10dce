"""The UptimeRobot v2 API subset under /v2 (DESIGN §6; ``reference/interfaces.md`` §1), so
existing UptimeRobot clients work by changing their base URL.

``getMonitors`` (filters, custom uptime ratios and ranges, all-time ratio, logs, response times,
ssl, pagination), ``editMonitor`` (status 0 pauses, 1 resumes) and ``getAccountDetails``. The
``api_key`` is probed's api_token; without one configured the API refuses every call. Field
names, types and "unset" values follow UptimeRobot's own responses exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from aiohttp import web

from probed.model import ProbeType, Status
from probed.pauses import ConfigPaused
from probed.uptime import PeriodKind, periods
from probed.web.context import API, DAY, EPOCH, TOKEN_HELP, Api, Facts
from probed.web.uptimerobot_params import (
    UptimeRobotError,
    dash_list,
    date_pair,
    flag,
    integer,
    ranges,
    read_params,
)

MAX_LIMIT = 50
TYPES = (1, 2, 3, 4, 5)
STATUSES = tuple(int(s) for s in Status)
LOG_TYPES = {PeriodKind.DOWN: 1, PeriodKind.UP: 2, PeriodKind.STARTED: 98, PeriodKind.PAUSED: 99}
EDIT_FIELDS = (
    *("friendly_name", "url", "type", "sub_type", "port", "keyword_type", "keyword_value"),
    *("interval", "http_username", "http_password", "http_auth_type", "http_method"),
    *("alert_contacts", "custom_http_headers", "custom_http_statuses", "ignore_ssl_errors"),
)
_HTTP_CODE = re.compile(r"\bHTTP ([1-5][0-9]{2})\b")


def _authorize(api: Api, params: Mapping[str, str]) -> None:
    if api.token() is None:
        raise UptimeRobotError(
            "not_authorized", message=f"the UptimeRobot API needs an API token: {TOKEN_HELP}"
        )
    key = params.get("api_key", "")
    if not key:
        raise UptimeRobotError("missing_parameter", "api_key", message="api_key is missing.")
    if not api.token_matches(key):
        raise UptimeRobotError("invalid_parameter", "api_key", key, "api_key not found.")
    if params.get("format", "json").lower() != "json":
        raise UptimeRobotError(
            "invalid_parameter", "format", params["format"], "only format=json is supported"
        )


async def get_monitors(request: web.Request) -> web.Response:
    api = request.app[API]
    try:
        params = await read_params(request, query=True)
        _authorize(api, params)
        return web.json_response(_get_monitors(api, params))
    except UptimeRobotError as exc:
        return exc.response()


def _get_monitors(api: Api, p: Mapping[str, str]) -> dict[str, object]:
    ids, types = dash_list(p, "monitors"), dash_list(p, "types", TYPES)
    statuses = dash_list(p, "statuses", STATUSES)
    search = p.get("search", "").strip().lower()
    days = dash_list(p, "custom_uptime_ratios")
    if days and min(days) < 1:
        raise UptimeRobotError(
            "invalid_parameter",
            "custom_uptime_ratios",
            p["custom_uptime_ratios"],
            "custom_uptime_ratios must be whole days of at least 1",
        )
    custom_ranges = ranges(p, "custom_uptime_ranges")
    offset = integer(p, "offset", 0) or 0
    limit = min(integer(p, "limit", MAX_LIMIT, low=1) or MAX_LIMIT, MAX_LIMIT)
    log_types = dash_list(p, "log_types", sorted(LOG_TYPES.values()))
    logs_limit = integer(p, "logs_limit")
    logs_range = date_pair(p, "logs")
    rt_limit = integer(p, "response_times_limit")
    rt_average = integer(p, "response_times_average", 0) or 0
    rt_range = date_pair(p, "response_times", max_span=7 * 86400)

    chosen = [
        t
        for t in api.monitors()
        if (ids is None or t.id in ids)
        and (types is None or _type(t.monitor.type) in types)
        and (statuses is None or int(t.state.status) in statuses)
        and (not search or search in t.monitor.name.lower() or search in t.monitor.url.lower())
    ]
    page = chosen[offset : offset + limit]
    now = api.now()
    # Only "all time", logs and custom ranges need history further back than the longest window.
    full = flag(p, "all_time_uptime_ratio") or flag(p, "logs") or custom_ranges
    since = None if full else now - timedelta(days=max(days or [1]))
    created = api.history.created_at()
    monitors = []
    for facts in api.facts(page, since):
        m = _monitor(facts, created.get(facts.tracked.id, 0.0))
        timeline = facts.timeline
        if days:
            m["custom_uptime_ratio"] = "-".join(
                _percent(timeline.ratio(now - d * DAY, now)) for d in days
            )
        if custom_ranges:
            m["custom_uptime_ranges"] = "-".join(
                _percent(timeline.ratio(_utc(a), min(_utc(b), now))) for a, b in custom_ranges
            )
        if flag(p, "all_time_uptime_ratio"):
            m["all_time_uptime_ratio"] = _percent(timeline.ratio(EPOCH, now))
        if flag(p, "logs"):
            m["logs"] = _logs(facts, now, log_types, logs_limit, logs_range)
        if flag(p, "response_times"):
            m.update(_response_times(api, facts, now, rt_limit, rt_average, rt_range))
        if flag(p, "ssl"):
            m["ssl"] = _ssl(api, facts)
        monitors.append(m)
    return {
        "stat": "ok",
        "pagination": {"offset": offset, "limit": limit, "total": len(chosen)},
        "monitors": monitors,
    }


def _type(kind: ProbeType) -> int:
    return 2 if kind is ProbeType.KEYWORD else 1


def _utc(ts: int) -> datetime:
    return EPOCH + timedelta(seconds=ts)


def _percent(ratio: float | None) -> str:
    # No monitored time yet has seen no downtime; clients split these strings and parse floats,
    # so a placeholder like "" would break them.
    return f"{100.0 if ratio is None else ratio * 100:.3f}"


def _monitor(facts: Facts, created: float) -> dict[str, object]:
    monitor, state = facts.tracked.monitor, facts.tracked.state
    keyword = monitor.type is ProbeType.KEYWORD
    return {
        "id": facts.tracked.id,
        "friendly_name": monitor.name,
        "url": monitor.url,
        "type": _type(monitor.type),
        "sub_type": "",
        # UptimeRobot's keyword_type says when the monitor is DOWN: 1 = keyword exists,
        # 2 = keyword does not exist (probed's default, keyword_absent = false).
        "keyword_type": (1 if monitor.keyword_absent else 2) if keyword else None,
        "keyword_case_type": 0 if monitor.keyword_case_sensitive or not keyword else 1,
        "keyword_value": monitor.keyword or "",
        "http_username": monitor.basic_auth.username if monitor.basic_auth else "",
        "http_password": "",  # never revealed
        "port": "",
        "interval": int(monitor.interval),
        "timeout": int(monitor.timeout),
        "status": int(state.status),
        "create_datetime": int(created),
        "monitor_group": 0,
        "is_group_main": 0,
    }


def _logs(
    facts: Facts,
    now: datetime,
    types: list[int] | None,
    limit: int | None,
    between: tuple[int, int] | None,
) -> list[dict[str, object]]:
    out = []
    for period in reversed(periods(facts.changes)):
        kind = LOG_TYPES[period.kind]
        at = int(period.start.timestamp())
        if (types and kind not in types) or (between and not between[0] <= at <= between[1]):
            continue
        code = _HTTP_CODE.search(period.reason) if period.kind is PeriodKind.DOWN else None
        out.append(
            {
                "id": period.id,
                "type": kind,
                "datetime": at,
                "duration": int(period.duration(now)),
                "reason": {
                    "code": code.group(1) if code else "",
                    "detail": "" if period.kind is PeriodKind.UP else period.reason,
                },
            }
        )
    return out if not limit else out[:limit]


def _response_times(
    api: Api,
    facts: Facts,
    now: datetime,
    limit: int | None,
    average_minutes: int,
    between: tuple[int, int] | None,
) -> dict[str, object]:
    start, end = (now - DAY, now) if between is None else (_utc(between[0]), _utc(between[1]))
    mid = facts.tracked.id
    series = api.history.response_series(mid, start, end, average_minutes * 60.0)
    points = [{"datetime": int(t), "value": round(s * 1000)} for t, s in reversed(series)]
    mean = api.history.mean_response([mid], start, end).get(mid)
    return {
        "response_times": points[:limit] if limit else points,
        "average_response_time": "" if mean is None else f"{mean * 1000:.3f}",
    }


def _ssl(api: Api, facts: Facts) -> dict[str, object]:
    last = facts.tracked.last
    expires = last.cert_expires_at.timestamp() if last and last.cert_expires_at else None
    if expires is None and facts.tracked.monitor.url.startswith("https:"):
        expires = api.history.last_cert_expiry([facts.tracked.id]).get(facts.tracked.id)
    return {
        "brand": "",
        "product": "",
        "expires": "" if expires is None else int(expires),
        "ignore_errors": 0 if facts.tracked.monitor.verify_tls else 1,
        "disable_notifications": 0,
    }


async def edit_monitor(request: web.Request) -> web.Response:
    api = request.app[API]
    try:
        p = await read_params(request, query=False)
        _authorize(api, p)
        if "id" not in p:
            raise UptimeRobotError("missing_parameter", "id", message="id is missing.")
        tracked = api.find(p["id"].strip())
        if tracked is None:
            raise UptimeRobotError("invalid_parameter", "id", p["id"], "monitor not found.")
        if edited := [name for name in EDIT_FIELDS if name in p]:
            raise UptimeRobotError(
                "invalid_parameter",
                edited[0],
                p[edited[0]],
                "probed's monitors are configured in monitors.toml; editMonitor can only"
                " pause (status=0) or resume (status=1)",
            )
        status = p.get("status", "").strip()
        try:
            if status == "0":
                api.pauses.pause(tracked, None, "UptimeRobot API")
            elif status == "1":
                api.pauses.resume(tracked, "UptimeRobot API")
            elif status:
                raise UptimeRobotError(
                    "invalid_parameter", "status", status, "status must be 0 (pause) or 1 (resume)"
                )
        except ConfigPaused as exc:
            raise UptimeRobotError("invalid_parameter", "status", status, str(exc)) from None
        return web.json_response({"stat": "ok", "monitor": {"id": tracked.id}})
    except UptimeRobotError as exc:
        return exc.response()


async def get_account_details(request: web.Request) -> web.Response:
    api = request.app[API]
    try:
        _authorize(api, await read_params(request, query=False))
    except UptimeRobotError as exc:
        return exc.response()
    counts = api.pipeline.counts()
    return web.json_response(
        {
            "stat": "ok",
            "account": {
                "email": "",
                "monitor_limit": len(api.pipeline.monitors),
                "up_monitors": counts.get(Status.UP, 0),
                "down_monitors": counts.get(Status.DOWN, 0),
                "paused_monitors": counts.get(Status.PAUSED, 0),
            },
        }
    )


def make_uptimerobot_app(api: Api) -> web.Application:
    """The /v2 sub-application."""
    app = web.Application()
    app[API] = api
    app.router.add_post("/getMonitors", get_monitors)
    app.router.add_post("/editMonitor", edit_monitor)
    app.router.add_post("/getAccountDetails", get_account_details)
    return app
