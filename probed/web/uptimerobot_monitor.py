"""The monitor objects of the UptimeRobot v2 getMonitors answer: fields, logs, response times
and ssl, with UptimeRobot's names, types and "unset" values (``docs/interfaces.md`` §1.2)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from probed.config import (
    Check,
    HttpCheck,
    ImapCheck,
    KeywordCheck,
    Monitor,
    PingCheck,
    Pop3Check,
    PushCheck,
    SmtpCheck,
    TcpCheck,
)
from probed.config.mail import SCHEMES
from probed.config.ping import ping_host
from probed.history.uptime import PeriodKind, periods
from probed.web.context import DAY, EPOCH, Api, Facts, shown_url

LOG_TYPES = {PeriodKind.DOWN: 1, PeriodKind.UP: 2, PeriodKind.STARTED: 98, PeriodKind.PAUSED: 99}
MAX_UNIX_TIME = 32503680000  # 3000-01-01: far enough, and far from datetime's limit
_HTTP_CODE = re.compile(r"\bHTTP ([1-5][0-9]{2})\b")


TYPE_CODES = {
    KeywordCheck: 2,
    PingCheck: 3,
    TcpCheck: 4,
    SmtpCheck: 4,
    ImapCheck: 4,
    Pop3Check: 4,
    PushCheck: 5,
}
"""UptimeRobot's monitor types other than 1 (HTTP(s): http, ssl, json and dns): 2 keyword,
3 ping, 4 "port" (tcp and the mail kinds), 5 "heartbeat"."""
_MAIL_SUB_TYPES = {"smtp": (25, 4), "pop3": (110, 5), "imap": (143, 6)}
"""A port monitor's sub_type for a mail protocol on its standard plain port."""


def monitor_sub_type(monitor: Monitor) -> int | str:
    """A port monitor's sub_type: SMTP 4, POP3 5, IMAP 6 on their standard ports, else 99
    ("custom port", the port in ``port``); "" for other types."""
    if type_code(monitor.check) != 4:
        return ""
    parts = urlsplit(monitor.url)
    standard = _MAIL_SUB_TYPES.get(parts.scheme)
    if standard is not None and (parts.port or standard[0]) == standard[0]:
        return standard[1]
    return 99


def _port(monitor: Monitor) -> str:
    if type_code(monitor.check) != 4:
        return ""
    # A mail URL may leave its port out: then its scheme's (probed.config.mail.SCHEMES).
    port = urlsplit(monitor.url).port
    if port is None and (kind := SCHEMES.get(monitor.type)) is not None:
        port = kind[3] if monitor.url.startswith(kind[2] + ":") else kind[1]
    return str(port)


def type_code(check: Check) -> int:
    """UptimeRobot's monitor type of a check (TYPE_CODES, else 1)."""
    return TYPE_CODES.get(type(check), 1)


def utc_seconds(ts: int) -> datetime:
    """A unix time from a request parameter, as an aware datetime (absurd ones clamped)."""
    return EPOCH + timedelta(seconds=min(ts, MAX_UNIX_TIME))


def percent(ratio: float | None) -> str:
    """A 0–1 ratio as UptimeRobot's percentage string with three decimals."""
    # No monitored time yet has seen no downtime; clients split these strings and parse floats,
    # so a placeholder like "" would break them.
    return f"{100.0 if ratio is None else ratio * 100:.3f}"


def monitor_fields(facts: Facts, created: float) -> dict[str, object]:
    """The fields every getMonitors monitor has, ``""``/``null`` where they do not apply."""
    monitor, state = facts.tracked.monitor, facts.tracked.state
    check = monitor.check
    keyword = check if isinstance(check, KeywordCheck) else None
    auth = check.basic_auth if isinstance(check, HttpCheck) else None
    return {
        "id": facts.tracked.id,
        "friendly_name": monitor.name,
        # Every getMonitors call carries the api_key: a heartbeat's URL is shown whole, as
        # UptimeRobot shows its heartbeat URL.
        # A ping monitor's url is its host alone, as UptimeRobot's type 3 has it.
        "url": ping_host(monitor.url) if isinstance(check, PingCheck) else shown_url(monitor, True),
        "type": type_code(check),
        # A port monitor's sub_type 99 is UptimeRobot's "custom port": the port is in "port".
        "sub_type": monitor_sub_type(monitor),
        # UptimeRobot's keyword_type says when the monitor is DOWN: 1 = keyword exists,
        # 2 = keyword does not exist (probed's default, keyword_absent = false).
        "keyword_type": None if keyword is None else 1 if keyword.keyword_absent else 2,
        "keyword_case_type": 0 if keyword is None or keyword.keyword_case_sensitive else 1,
        "keyword_value": "" if keyword is None else keyword.keyword,
        "http_username": auth.username if auth else "",
        "http_password": "",  # never revealed
        "port": _port(monitor),
        "interval": int(monitor.interval),
        "timeout": int(monitor.timeout),
        "status": int(state.status),
        "create_datetime": int(created),
        "monitor_group": 0,
        "is_group_main": 0,
    }


def logs(
    facts: Facts,
    now: datetime,
    types: list[int] | None,
    limit: int | None,
    between: tuple[int, int] | None,
) -> list[dict[str, object]]:
    """The monitor's periods as UptimeRobot logs, newest first, filtered and limited."""
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


def response_times(
    api: Api,
    facts: Facts,
    now: datetime,
    limit: int | None,
    average_minutes: int,
    between: tuple[int, int] | None,
) -> dict[str, object]:
    """``response_times`` (newest first, milliseconds) and ``average_response_time``."""
    start, end = (
        (now - DAY, now) if between is None else (utc_seconds(between[0]), utc_seconds(between[1]))
    )
    mid = facts.tracked.id
    times, values = api.history.response_points(mid, start, end, average_minutes * 60.0)
    if limit:
        times, values = times[:limit], values[:limit]
    mean = api.history.mean_response([mid], start, end).get(mid)
    return {
        # Whole unix seconds as int(t / 1000) gave them: the times are after 1970.
        "response_times": [
            {"datetime": t // 1000, "value": v} for t, v in zip(times, values, strict=True)
        ],
        "average_response_time": "" if mean is None else f"{mean * 1000:.3f}",
    }


def ssl(api: Api, facts: Facts) -> dict[str, object]:
    """The ``ssl`` object: the certificate expiry this monitor last recorded."""
    last = facts.tracked.last
    expires = last.cert_expires_at.timestamp() if last and last.cert_expires_at else None
    if expires is None and facts.tracked.monitor.sees_certificates:
        expires = api.history.last_cert_expiry([facts.tracked.id]).get(facts.tracked.id)
    return {
        "brand": "",
        "product": "",
        "expires": "" if expires is None else int(expires),
        "ignore_errors": 0 if facts.tracked.monitor.verify_tls else 1,
        "disable_notifications": 0,
    }
