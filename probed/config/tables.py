"""One reader per table of monitors.toml: [probed], [alerts.email], [defaults], [[monitor]].

Each reads its keys through a Section, so a wrong value is recorded and a placeholder used: the
rest of the file is still checked and every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from probed.config.maintenance import read_maintenance
from probed.config.model import (
    BasicAuth,
    Config,
    EmailChannel,
    Monitor,
    Settings,
    StatusRange,
    default_state_dir,
)
from probed.config.reader import (
    Reader,
    Section,
    address_problem,
    describe,
    listen_problem,
    parse_status,
    url_problem,
)
from probed.model import ProbeType
from probed.units import format_duration

TOP_LEVEL_KEYS = ("probed", "defaults", "alerts", "monitor", "maintenance")
SETTINGS_KEYS: tuple[str, ...] = ("listen", "state_dir", "api_token", "api_token_file")
SETTINGS_KEYS += ("status_page_title", "max_concurrent_checks", "shutdown_grace")
SETTINGS_KEYS += ("alert_max_age", "storm_threshold", "storm_window", "connectivity_check")
SETTINGS_KEYS += ("raw_retention", "history_retention")
EMAIL_KEYS: tuple[str, ...] = ("host", "port", "security", "username", "password")
EMAIL_KEYS += ("password_file", "from", "to", "timeout", "ca_file")
MONITOR_KEYS = tuple(f.name for f in fields(Monitor))
DEFAULTS_KEYS: tuple[str, ...] = ("interval", "timeout", "down_after", "retry_interval")
DEFAULTS_KEYS += ("up_after", "ssl_expiry_days", "remind_every", "alert", "follow_redirects")
DEFAULTS_KEYS += ("max_redirects", "verify_tls", "max_body", "headers", "expect_status")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY_INTERVAL = 30.0

_KEYWORD_ONLY = ("keyword", "keyword_case_sensitive", "keyword_absent")
_NOT_FOR_SSL = (
    *("method", "expect_status", "body", "headers", "basic_auth", "follow_redirects"),
    *("max_redirects", "max_body", *_KEYWORD_ONLY),
)
_MISPLACED = {ProbeType.HTTP: _KEYWORD_ONLY, ProbeType.KEYWORD: (), ProbeType.SSL: _NOT_FOR_SSL}
_AUTH_HINT = 'belongs in basic_auth = {username = "...", password = "..."}'
_MONITOR_ELSEWHERE = dict.fromkeys(("username", "password", "password_file"), _AUTH_HINT)
_PER_MONITOR = set(MONITOR_KEYS) - set(DEFAULTS_KEYS)
_DEFAULTS_ELSEWHERE = dict.fromkeys(_PER_MONITOR, "only allowed per monitor, not in [defaults]")
_T = TypeVar("_T")


def read_config(reader: Reader, data: Mapping[str, object], path: Path) -> Config:
    """The Config in data; problems go to reader, and the result is only valid if there are none."""
    top = Section(reader, "", data)
    top.reject_unknown(TOP_LEVEL_KEYS)
    settings = _settings(_top_table(top, "probed"), reader.env)
    alerts = _top_table(top, "alerts")
    alerts.reject_unknown(("email",))
    email = None
    if isinstance(email_data := alerts.data.get("email"), dict):
        email = _email(Section(reader, "[alerts.email] ", email_data))
    elif email_data is not None:
        alerts.problem("email", f"expected a table, got {describe(email_data)}")
    # A channel with a broken table still counts, so monitors naming it get no second problem.
    channels = tuple(name for name in ("email",) if name in alerts.data)
    defaults = _defaults(_top_table(top, "defaults"), channels)
    raw = data.get("monitor", [])
    if isinstance(raw, dict):
        top.problem("monitor", "expected an array of tables: write [[monitor]], not [monitor]")
    elif not isinstance(raw, list):
        top.problem("monitor", f"expected an array of tables, got {describe(raw)}")
    if not isinstance(raw, list):
        raw = []
    names: dict[str, int] = {}
    ids: dict[int, int] = {}
    monitors = [_monitor(reader, i, item, defaults, names, ids) for i, item in enumerate(raw, 1)]
    maintenance = read_maintenance(reader, data.get("maintenance"), names)
    kept = tuple(m for m in monitors if m is not None)
    return Config(path, settings, kept, email, maintenance=maintenance)


def _pick(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _top_table(top: Section, key: str) -> Section:
    """A top-level table; absent or not a table reads as empty so its defaults still apply."""
    table = top.table(key)
    return Section(top.reader, f"[{key}] ", table.data if table else {})


def _settings(sec: Section, env: Mapping[str, str]) -> Settings:
    sec.reject_unknown(SETTINGS_KEYS)
    base = Settings()
    listen = sec.string("listen")
    if listen is not None and (problem := listen_problem(listen)):
        sec.problem("listen", problem)
    # Containers publish the port on 0.0.0.0 while the shipped config says 127.0.0.1: the
    # environment wins so the same monitors.toml works in both.
    if env_listen := env.get("PROBED_LISTEN"):
        if problem := listen_problem(env_listen):
            sec.problem("listen", f"PROBED_LISTEN={env_listen!r}: {problem}")
        listen = env_listen
    state_dir = sec.string("state_dir", nonempty=True)
    return Settings(
        listen=_pick(listen, base.listen),
        state_dir=sec.reader.base_dir / state_dir if state_dir else default_state_dir(env),
        api_token=sec.secret("api_token"),
        status_page_title=_pick(sec.string("status_page_title"), base.status_page_title),
        max_concurrent_checks=_pick(
            sec.integer("max_concurrent_checks", 1), base.max_concurrent_checks
        ),
        shutdown_grace=_pick(sec.duration("shutdown_grace"), base.shutdown_grace),
        alert_max_age=_pick(sec.duration("alert_max_age", positive=True), base.alert_max_age),
        storm_threshold=_pick(sec.integer("storm_threshold", 1), base.storm_threshold),
        storm_window=_pick(sec.duration("storm_window", positive=True), base.storm_window),
        connectivity_check=_addresses(sec, "connectivity_check"),
        # An hour at least: an hour's raw results are rolled up only once it has ended.
        raw_retention=_pick(sec.duration("raw_retention", minimum=3600), base.raw_retention),
        history_retention=_pick(
            sec.duration("history_retention", minimum=86400), base.history_retention
        ),
    )


def _addresses(sec: Section, key: str) -> tuple[str, ...]:
    """A list of ``host:port`` strings, each checked like ``listen``."""
    addresses = sec.strings(key) or ()
    for address in addresses:
        if problem := listen_problem(address):
            sec.problem(key, problem)
    return addresses


def _email(sec: Section) -> EmailChannel:
    sec.reject_unknown(EMAIL_KEYS)
    base = EmailChannel(host="", to=(), sender="")
    security = _pick(sec.choice("security", SECURITY_PORTS), base.security)
    username = sec.string("username", nonempty=True)
    password = sec.secret("password")
    if password is not None and username is None and "username" not in sec.failed:
        where = "password_file" if "password_file" in sec.data else "password"
        sec.problem(where, "set but username is not")
    sender = sec.string("from", required=True, nonempty=True)
    to = sec.strings("to", required=True)
    if to == ():
        sec.problem("to", "must list at least one address")
    for key, addresses in (("from", (sender,) if sender else ()), ("to", to or ())):
        for problem in filter(None, map(address_problem, addresses)):
            sec.problem(key, problem)
    return EmailChannel(
        host=_pick(sec.string("host", required=True, nonempty=True), ""),
        to=_pick(to, ()),
        sender=_pick(sender, ""),
        port=_pick(sec.integer("port", 1, 65535), SECURITY_PORTS[security]),
        security=security,
        username=username,
        password=password,
        timeout=_pick(sec.duration("timeout", positive=True), base.timeout),
        ca_file=_str_path(sec.path("ca_file", certificates=True)),
    )


@dataclass(frozen=True, slots=True)
class _Defaults:
    """[defaults] as read; None where the effective value depends on the monitor's interval."""

    monitor: Monitor
    channels: tuple[str, ...]
    """Every configured alert channel: what ``alert`` may name."""
    timeout: float | None
    retry_interval: float | None
    headers: dict[str, str]


def _defaults(sec: Section, channels: tuple[str, ...]) -> _Defaults:
    sec.reject_unknown(DEFAULTS_KEYS, _DEFAULTS_ELSEWHERE)
    base = Monitor(name="", url="", alert=channels)
    interval = _pick(sec.duration("interval", minimum=1), base.interval)
    timeout = sec.duration("timeout", positive=True)
    if timeout is not None and timeout > interval and "interval" not in sec.failed:
        sec.problem("timeout", _exceeds(interval, timeout))
    common = _common(sec, base, channels)
    return _Defaults(
        monitor=replace(common, interval=interval),
        channels=channels,
        timeout=timeout,
        retry_interval=sec.duration("retry_interval", minimum=1),
        headers=_pick(sec.headers("headers"), {}),
    )


def _common(sec: Section, base: Monitor, channels: tuple[str, ...]) -> Monitor:
    """The keys [defaults] and [[monitor]] share, each falling back to base."""
    alert = sec.strings("alert")
    for channel in alert or ():
        if channel not in channels:
            sec.problem("alert", f'unknown alert channel "{channel}": no [alerts.{channel}] table')
    return replace(
        base,
        down_after=_pick(sec.integer("down_after", 1), base.down_after),
        up_after=_pick(sec.integer("up_after", 1), base.up_after),
        ssl_expiry_days=_pick(sec.integer("ssl_expiry_days", 0, 3650), base.ssl_expiry_days),
        remind_every=_pick(sec.duration("remind_every"), base.remind_every),
        alert=_pick(alert, base.alert),
        follow_redirects=_pick(sec.boolean("follow_redirects"), base.follow_redirects),
        max_redirects=_pick(sec.integer("max_redirects", 0, 50), base.max_redirects),
        verify_tls=_pick(sec.boolean("verify_tls"), base.verify_tls),
        max_body=_pick(sec.integer("max_body", 1), base.max_body),
        expect_status=_pick(_statuses(sec, "expect_status"), base.expect_status),
    )


def _statuses(sec: Section, key: str) -> tuple[StatusRange, ...] | None:
    if key not in sec.data:
        return None
    raw = sec.data[key]
    ranges: list[StatusRange] = []
    for item in raw if isinstance(raw, list) else [raw]:
        value = sec.expand(key, item) if isinstance(item, str) else item
        try:
            if value is not None:
                ranges.append(StatusRange(*parse_status(value)))
        except ValueError as exc:
            sec.problem(key, str(exc))
    if raw == []:
        sec.problem(key, 'must list at least one status (the default is ["2xx"])')
    return None if key in sec.failed else tuple(ranges)


def _exceeds(interval: float, timeout: float) -> str:
    limit, got = format_duration(interval), format_duration(timeout)
    return f"must not exceed the interval ({limit}), got {got}"


def _str_path(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _monitor(
    reader: Reader,
    index: int,
    raw: object,
    defaults: _Defaults,
    names: dict[str, int],
    ids: dict[int, int],
) -> Monitor | None:
    if not isinstance(raw, dict):
        reader.problem(f"monitor #{index}", f"expected a table, got {describe(raw)}")
        return None
    sec = Section(reader, f"monitor #{index} ", raw)
    name = sec.string("name", required=True, nonempty=True)
    if name is not None and not name.isprintable():
        # The name is a metrics label and an email subject: a line break would corrupt both.
        sec.problem("name", "must be one line of printable text")
    elif name is not None:
        sec.prefix = f'monitor "{name}" (#{index}) '
        if name in names:
            sec.problem("name", f"duplicate name, already used by monitor #{names[name]}")
        names.setdefault(name, index)
    sec.reject_unknown(MONITOR_KEYS, _MONITOR_ELSEWHERE)
    kind = ProbeType(_pick(sec.choice("type", [t.value for t in ProbeType]), ProbeType.HTTP))
    url = _pick(sec.string("url", required=True), "")
    if url and (problem := url_problem(url)):
        sec.problem("url", problem)
    elif url and kind is ProbeType.SSL and urlsplit(url).scheme != "https":
        sec.problem("url", f'type "ssl" needs an https:// URL, got "{url}"')
    misplaced = () if "type" in sec.failed else _MISPLACED[kind]
    for key in (k for k in misplaced if k in raw):
        sec.problem(key, f'not used by type "{kind}"')
    # Misplaced keys are reported once above, not again by the readers below.
    sec.data = {k: v for k, v in raw.items() if k not in misplaced}
    keyword = sec.string("keyword", nonempty=True)
    if kind is ProbeType.KEYWORD and keyword is None and "keyword" not in sec.failed:
        sec.problem("keyword", 'missing (required for type "keyword")')
    method = sec.string("method")
    if method is not None:
        method = method.upper()
        if kind is ProbeType.KEYWORD and method != "GET":
            sec.problem("method", f'keyword checks always use GET, got "{method}"')
        elif method not in HTTP_METHODS:
            sec.problem("method", f'must be one of {", ".join(HTTP_METHODS)}; got "{method}"')
    base = _common(sec, defaults.monitor, defaults.channels)
    interval = _pick(sec.duration("interval", minimum=1), base.interval)
    own_timeout = sec.duration("timeout", positive=True)
    timeout = _pick(own_timeout, defaults.timeout)
    if timeout is None:
        # A 30s default timeout must not make a 10s interval invalid: shrink it to fit.
        timeout = min(DEFAULT_TIMEOUT, interval)
    elif (
        timeout > interval
        and not sec.failed & {"interval", "timeout"}
        and ("interval" in raw or "timeout" in raw)  # else [defaults] has reported it
    ):
        origin = "" if own_timeout is not None else " (from [defaults])"
        sec.problem("timeout", _exceeds(interval, timeout) + origin)
    # Like the timeout, the default retry interval shrinks to fit a short interval.
    retry_default = _pick(defaults.retry_interval, min(DEFAULT_RETRY_INTERVAL, interval))
    retry = sec.duration("retry_interval", minimum=1)
    basic_auth = None
    if (auth := sec.table("basic_auth")) is not None:
        auth.reject_unknown(("username", "password", "password_file"))
        username = _pick(auth.string("username", required=True, nonempty=True), "")
        basic_auth = BasicAuth(username, _pick(auth.secret("password", required=True), ""))
    headers = {k.lower(): (k, v) for k, v in defaults.headers.items()}
    # Header names are case-insensitive: a monitor's "authorization" replaces a default's.
    headers |= {k.lower(): (k, v) for k, v in _pick(sec.headers("headers"), {}).items()}
    id_ = sec.integer("id", 1)
    if id_ is not None and id_ in ids:
        sec.problem("id", f"duplicate id {id_}, already used by monitor #{ids[id_]}")
    elif id_ is not None:
        ids[id_] = index
    return replace(
        base,
        name=_pick(name, ""),
        url=url,
        type=kind,
        method=_pick(method, "GET"),
        keyword=keyword,
        keyword_case_sensitive=_pick(sec.boolean("keyword_case_sensitive"), False),
        keyword_absent=_pick(sec.boolean("keyword_absent"), False),
        interval=interval,
        timeout=timeout,
        retry_interval=_pick(retry, retry_default),
        headers=tuple(headers.values()),
        body=sec.string("body"),
        basic_auth=basic_auth,
        ca_file=_str_path(sec.path("ca_file", certificates=True)),
        paused=_pick(sec.boolean("paused"), False),
        public=_pick(sec.boolean("public"), True),
        id=id_,
    )
