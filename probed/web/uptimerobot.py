"""The UptimeRobot v2 API subset under /v2 (docs/design.md §6; ``docs/interfaces.md`` §1), so
existing UptimeRobot clients work by changing their base URL.

``getMonitors`` (filters, custom uptime ratios and ranges, all-time ratio, logs, response times,
ssl, pagination), ``editMonitor`` (status 0 pauses, 1 resumes) and ``getAccountDetails``. The
``api_key`` is probed's api_token; without one configured the API refuses every call. Field
names, types and "unset" values follow UptimeRobot's own responses exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

import orjson
from aiohttp import web

from probed.engine.pauses import ConfigPaused
from probed.errors import StoreError
from probed.history.uptime import Timeline
from probed.model import Status
from probed.web.context import API, DAY, EPOCH, TOKEN_HELP, Api
from probed.web.errors import json_errors
from probed.web.uptimerobot_monitor import (
    LOG_TYPES,
    logs,
    monitor_fields,
    percent,
    response_times,
    ssl,
    type_code,
    utc_seconds,
)
from probed.web.uptimerobot_params import (
    UptimeRobotError,
    dash_list,
    date_pair,
    flag,
    http_error,
    integer,
    ranges,
    read_params,
)

MAX_LIMIT = 50
MAX_DAYS = 36500
MAX_CUSTOM = 100
"""Values in custom_uptime_ratios and in custom_uptime_ranges: status pages ask for 90 daily
ranges and one overall; each value costs a pass over the monitor's history."""
FACTS_CHUNK = 25
"""Monitors whose history is read at once; the loop serves others between chunks."""
RATIO_CHUNK = 20
"""Ratios worked out between two yields to the event loop."""
MAX_AVERAGE_MINUTES = 7 * 1440
"""A bucket as long as the longest response_times range (7 days): longer ones change nothing."""
TYPES = (1, 2, 3, 4, 5)
STATUSES = tuple(int(s) for s in Status)
EDIT_FIELDS = (
    *("friendly_name", "url", "type", "sub_type", "port", "keyword_type", "keyword_value"),
    *("interval", "http_username", "http_password", "http_auth_type", "http_method"),
    *("alert_contacts", "custom_http_headers", "custom_http_statuses", "ignore_ssl_errors"),
)


def _authorize(api: Api, params: Mapping[str, str]) -> None:
    if api.token is None:
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
        answer = await _get_monitors(api, params)
    except UptimeRobotError as exc:
        return exc.response()
    # orjson: a page of 50 monitors with a day of response_times is 72,000 points, which the
    # json module takes about 110 ms of CPU to encode and orjson 8 ms. Its output is compact
    # (no blank after ":" and ",", as UptimeRobot's own answers) and UTF-8 rather than \u
    # escapes: the same JSON values.
    try:
        body = orjson.dumps(answer)
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits, as an absurd offset echoed in "pagination".
        return web.json_response(answer)
    return web.Response(body=body, content_type="application/json", charset="utf-8")


async def _get_monitors(api: Api, p: Mapping[str, str]) -> dict[str, object]:
    ids, types = dash_list(p, "monitors"), dash_list(p, "types", TYPES)
    statuses = dash_list(p, "statuses", STATUSES)
    search = p.get("search", "").strip().lower()
    days = dash_list(p, "custom_uptime_ratios")
    if days and not 1 <= min(days) <= max(days) <= MAX_DAYS:
        raise UptimeRobotError(
            "invalid_parameter",
            "custom_uptime_ratios",
            p["custom_uptime_ratios"],
            f"custom_uptime_ratios must be whole days from 1 to {MAX_DAYS}",
        )
    custom_ranges = ranges(p, "custom_uptime_ranges")
    for name, values in (("custom_uptime_ratios", days), ("custom_uptime_ranges", custom_ranges)):
        if values and len(values) > MAX_CUSTOM:
            raise UptimeRobotError(
                "invalid_parameter", name, p[name], f"{name} takes at most {MAX_CUSTOM} values"
            )
    offset = integer(p, "offset", 0) or 0
    limit = min(integer(p, "limit", MAX_LIMIT, low=1) or MAX_LIMIT, MAX_LIMIT)
    log_types = dash_list(p, "log_types", sorted(LOG_TYPES.values()))
    logs_limit = integer(p, "logs_limit")
    logs_range = date_pair(p, "logs")
    rt_limit = integer(p, "response_times_limit")
    rt_average = integer(p, "response_times_average", 0, high=MAX_AVERAGE_MINUTES) or 0
    rt_range = date_pair(p, "response_times", max_span=7 * 86400)

    chosen = [
        t
        for t in api.monitors()
        if (ids is None or t.id in ids)
        and (types is None or type_code(t.monitor.check) in types)
        and (statuses is None or int(t.state.status) in statuses)
        and (
            not search
            or search in t.monitor.name.lower()
            or search in t.monitor.display_url.lower()
        )
    ]
    page = chosen[offset : offset + limit]
    now = api.now()
    # Only "all time", logs and custom ranges need history further back than the longest window.
    all_time, with_logs = flag(p, "all_time_uptime_ratio"), flag(p, "logs")
    with_response_times, with_ssl = flag(p, "response_times"), flag(p, "ssl")
    full = all_time or with_logs or custom_ranges
    ratio_windows = [(now - d * DAY, now) for d in days or ()]
    range_windows = [(utc_seconds(a), min(utc_seconds(b), now)) for a, b in custom_ranges or ()]
    since = None if full else now - timedelta(days=max(days or [1]))
    created = api.history.created_at()
    monitors = []
    # A page is read and built in steps (a chunk of histories, then one monitor at a time), so
    # /healthz and the checks keep their turn on the event loop during a long answer.
    for chunk in range(0, len(page), FACTS_CHUNK):
        for facts in api.facts(page[chunk : chunk + FACTS_CHUNK], since):
            await asyncio.sleep(0)
            m = monitor_fields(facts, created.get(facts.tracked.id, 0.0))
            timeline = facts.timeline
            if days:
                m["custom_uptime_ratio"] = await _percents(timeline, ratio_windows)
            if custom_ranges:
                m["custom_uptime_ranges"] = await _percents(timeline, range_windows)
            if all_time:
                m["all_time_uptime_ratio"] = percent(timeline.ratio(EPOCH, now))
            if with_logs:
                m["logs"] = logs(facts, now, log_types, logs_limit, logs_range)
            if with_response_times:
                m.update(response_times(api, facts, now, rt_limit, rt_average, rt_range))
            if with_ssl:
                m["ssl"] = ssl(api, facts)
            monitors.append(m)
    return {
        "stat": "ok",
        "pagination": {"offset": offset, "limit": limit, "total": len(chosen)},
        "monitors": monitors,
    }


async def _percents(timeline: Timeline, windows: list[tuple[datetime, datetime]]) -> str:
    """The windows' uptime as UptimeRobot's dash-joined percentages."""
    out = []
    for i, (start, end) in enumerate(windows, 1):
        out.append(percent(timeline.ratio(start, end)))
        if i % RATIO_CHUNK == 0:
            # Each ratio walks the whole history: a long one must not hold the loop.
            await asyncio.sleep(0)
    return "-".join(out)


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
        except StoreError as exc:
            raise UptimeRobotError(
                "internal_error", message=f"{exc}: nothing was changed, try again later"
            ) from None
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


async def unsupported(request: web.Request) -> web.Response:
    """Other UptimeRobot methods (newMonitor, getAlertContacts, …), refused in the API's terms."""
    method = request.match_info["method"]
    return UptimeRobotError(
        "invalid_parameter",
        "method",
        method,
        f"probed does not serve {method}: it serves getMonitors, editMonitor (status only) and"
        " getAccountDetails; monitors are configured in monitors.toml",
    ).response()


def make_uptimerobot_app(api: Api) -> web.Application:
    """The /v2 sub-application."""
    app = web.Application(middlewares=[json_errors(http_error)])
    app[API] = api
    app.router.add_post("/getMonitors", get_monitors)
    app.router.add_post("/editMonitor", edit_monitor)
    app.router.add_post("/getAccountDetails", get_account_details)
    app.router.add_post("/{method}", unsupported)
    return app
