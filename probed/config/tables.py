"""One reader per table of monitors.toml: [alerts] (each channel by its type,
probed.config.channels), [defaults], [[monitor]]; [probed] is probed.config.settings_table's.

Each reads its keys through a Section, so a wrong value is recorded and a placeholder used: the
rest of the file is still checked and every problem is reported at once. Long because
[defaults] and [[monitor]] share their keys and cross-checks (timeout against interval,
slow_threshold against timeout), which belong side by side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from probed.config.channels import ChannelSettings, read_channel
from probed.config.domain_expiry import read_domain_expiry_days
from probed.config.http import HttpCheck, credentials_problem
from probed.config.kinds import KIND_KEYS, KINDS, Kind, inbound
from probed.config.maintenance import read_maintenance
from probed.config.model import (
    Check,
    Config,
    Monitor,
)
from probed.config.oncall import ONCALL_KEYS, read_oncall
from probed.config.reader import (
    Reader,
    Section,
    control_problem,
    describe,
    pick,
)
from probed.config.report import read_report
from probed.config.settings_table import read_settings
from probed.config.status_page import read_status_page
from probed.config.subscriptions import read_subscriptions
from probed.config.vantage import family_problem, read_source_address
from probed.units import format_duration

TOP_LEVEL_KEYS = (
    "probed",
    "defaults",
    "alerts",
    "monitor",
    "maintenance",
    "status_page",
    "report",
    "subscriptions",
)
COMMON_KEYS = tuple(f.name for f in fields(Monitor) if f.name != "check")
MONITOR_KEYS = (*COMMON_KEYS, "type", *KIND_KEYS)
DEFAULTS_KEYS: tuple[str, ...] = ("interval", "timeout", "down_after", "retry_interval")
DEFAULTS_KEYS += ("up_after", "ssl_expiry_days", "remind_every", "alert", "follow_redirects")
DEFAULTS_KEYS += ("max_redirects", "verify_tls", "max_body", "headers", "expect_status")
DEFAULTS_KEYS += ("source_address", "proxy")
DEFAULTS_KEYS += ("severity", "tags", *ONCALL_KEYS)
TAG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""Tags become Alertmanager (Prometheus) label names, so they follow their rule."""
DEFAULT_TIMEOUT = 30.0
_PERCENT = re.compile(r"([0-9]{1,3}(?:\.[0-9]+)?)\s*%")
DEFAULT_RETRY_INTERVAL = 30.0

_AUTH_HINT = 'belongs in basic_auth = {username = "...", password = "..."}'
_MONITOR_ELSEWHERE = dict.fromkeys(("username", "password", "password_file"), _AUTH_HINT)
_PER_MONITOR = set(MONITOR_KEYS) - set(DEFAULTS_KEYS)
_DEFAULTS_ELSEWHERE = dict.fromkeys(_PER_MONITOR, "only allowed per monitor, not in [defaults]")


def _kind_keys(kind: Kind[Check]) -> tuple[frozenset[str], frozenset[str]]:
    """A kind's keys, and the keys of other kinds that are misplaced on its monitors."""
    misplaced = {k for k in KIND_KEYS if k not in kind.keys}
    if kind.name in ("http", "keyword"):
        # 0.1 accepted ssl_expiry_days on every monitor (and used it on ssl ones only): refusing
        # it now would stop an upgraded daemon from starting on a file that ran before.
        misplaced.discard("ssl_expiry_days")
    return frozenset(kind.keys), frozenset(misplaced)


_KIND_NAMES = tuple(KINDS)
"""What ``type`` may be; the first is the default."""
_KIND_KEYS = {name: _kind_keys(kind) for name, kind in KINDS.items()}
"""Per kind, worked out once rather than for each of 10,000 monitors."""


def read_config(reader: Reader, data: Mapping[str, object], path: Path) -> Config:
    """The Config in data; problems go to reader, and the result is only valid if there are none."""
    top = Section(reader, "", data)
    top.reject_unknown(TOP_LEVEL_KEYS)
    settings = read_settings(_top_table(top, "probed"), reader.env)
    alerts = _top_table(top, "alerts")
    named = _alerts(alerts)
    # A channel with a broken table still counts, so monitors naming it get no second problem.
    channels = tuple(alerts.data)
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
    _unique_tokens(reader, monitors)
    maintenance = read_maintenance(reader, data.get("maintenance"), names)
    report = read_report(_top_table(top, "report"), channels)
    kept = tuple(m for m in monitors if m is not None)
    page = read_status_page(_top_table(top, "status_page"), {m.name: m.public for m in kept})
    subscriptions = read_subscriptions(reader, data.get("subscriptions"))
    return Config(
        path,
        settings,
        kept,
        maintenance=maintenance,
        alerts=named,
        status_page=page,
        report=report,
        subscriptions=subscriptions,
    )


def _alerts(sec: Section) -> tuple[tuple[str, ChannelSettings], ...]:
    """[alerts.NAME] tables, each read by its ``type``, in file order."""
    named: list[tuple[str, ChannelSettings]] = []
    for name, data in sec.data.items():
        if control_problem(name):
            sec.problem(repr(name), "a channel name must be one line of printable text")
            continue
        if not isinstance(data, dict):
            sec.problem(name, f"expected a table, got {describe(data)}")
            continue
        settings = read_channel(name, Section(sec.reader, f"[alerts.{name}] ", data))
        if settings is not None:
            named.append((name, settings))
    return tuple(named)


def _unique_tokens(reader: Reader, monitors: list[Monitor | None]) -> None:
    """Two push monitors cannot share a token: a ping would not say which job sent it."""
    owners: dict[str, int] = {}
    for index, monitor in enumerate(monitors, 1):
        push = None if monitor is None else inbound(monitor.check)
        if monitor is None or push is None or not push.token:
            continue
        first = owners.setdefault(push.token, index)
        if first != index:
            where = f'monitor "{monitor.name}" (#{index}) token'
            reader.problem(where, f"the same token as monitor #{first}: each job needs its own")


def _top_table(top: Section, key: str) -> Section:
    """A top-level table; absent or not a table reads as empty so its defaults still apply."""
    table = top.table(key)
    return Section(top.reader, f"[{key}] ", table.data if table else {})


@dataclass(frozen=True, slots=True)
class _Defaults:
    """[defaults] as read; None where the effective value depends on the monitor's interval."""

    monitor: Monitor
    channels: tuple[str, ...]
    """Every configured alert channel: what ``alert`` may name."""
    timeout: float | None
    retry_interval: float | None
    kind_data: Mapping[str, object]
    """The valid kind keys of [defaults], as written: merged under each monitor's own."""
    checks: dict[str, Check] = field(default_factory=dict)
    """By kind: the check of a monitor that sets none of its kind's keys, once read."""


def _defaults(sec: Section, channels: tuple[str, ...]) -> _Defaults:
    sec.reject_unknown(DEFAULTS_KEYS, _DEFAULTS_ELSEWHERE)
    base = Monitor(name="", url="", alert=channels)
    interval = pick(sec.duration("interval", minimum=1), base.interval)
    timeout = sec.duration("timeout", positive=True)
    if timeout is not None and timeout > interval and "interval" not in sec.failed:
        sec.problem("timeout", _exceeds(interval, timeout))
    common = replace(base, **_common(sec, base, channels), **read_oncall(sec, channels))
    # Each kind reader validates the keys it owns, and each key once: http and keyword share
    # most, and a problem in [defaults] is one problem however many kinds use the key.
    checked: set[str] = set()
    for kind in KINDS.values():
        keys = [k for k in sec.data if k in DEFAULTS_KEYS and k in kind.keys and k not in checked]
        if keys:
            part = Section(sec.reader, sec.prefix, {k: sec.data[k] for k in keys})
            kind.read(part, "")
            sec.failed |= part.failed
            checked.update(keys)
    return _Defaults(
        monitor=replace(common, interval=interval),
        channels=channels,
        timeout=timeout,
        retry_interval=sec.duration("retry_interval", minimum=1),
        kind_data={k: v for k, v in sec.data.items() if k in checked and k not in sec.failed},
    )


_COMMON_READ = frozenset(
    {"alert", "tags", "source_address", "severity", "down_after", "up_after", "remind_every"}
    | {"verify_tls"}
)
"""Every key ``_common`` reads: a new one must be added here too."""


def _common(sec: Section, base: Monitor, channels: tuple[str, ...]) -> dict[str, Any]:
    """The keys [defaults] and [[monitor]] share, each falling back to base: what to
    ``replace`` in base (once, with the caller's own: at 10,000 monitors each ``replace``
    costs a tenth of a second)."""
    if _COMMON_READ.isdisjoint(sec.data):
        # None set (most monitors of a large file): base's, without a getter per key.
        return {
            "source_address": base.source_address,
            "severity": base.severity,
            "tags": tuple(sorted(base.tags)),
            "down_after": base.down_after,
            "up_after": base.up_after,
            "remind_every": base.remind_every,
            "alert": base.alert,
            "verify_tls": base.verify_tls,
        }
    alert = sec.strings("alert")
    for channel in alert or ():
        if channel not in channels:
            sec.problem("alert", f'unknown alert channel "{channel}": no [alerts.{channel}] table')
    tags = dict(base.tags)
    if (section := sec.table("tags")) is not None:
        for name in section.data:
            value = section.string(name)
            if value is not None and (problem := control_problem(value)):
                section.problem(name, problem)
            elif not TAG_NAME.fullmatch(name):
                section.problem(
                    name, "tag names are letters, digits and _, not starting with a digit"
                )
            elif value is not None:
                tags[name] = value
        sec.failed |= {"tags"} if section.failed else set()
    return {
        "source_address": pick(read_source_address(sec), base.source_address),
        "severity": pick(sec.label("severity"), base.severity),
        "tags": tuple(sorted(tags.items())),
        "down_after": pick(sec.integer("down_after", 1), base.down_after),
        "up_after": pick(sec.integer("up_after", 1), base.up_after),
        "remind_every": pick(sec.duration("remind_every"), base.remind_every),
        "alert": pick(alert, base.alert),
        "verify_tls": pick(sec.boolean("verify_tls"), base.verify_tls),
    }


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
    kind = KINDS[pick(sec.choice("type", _KIND_NAMES), _KIND_NAMES[0])]
    if kind.url_problem is None:
        url = ""
        if "url" in sec.data:
            sec.problem("url", f'not used by type "{kind.name}": its job calls probed instead')
    else:
        url = pick(sec.string("url", required=True), "")
        if url and (problem := kind.url_problem(url)):
            sec.problem("url", problem)
    check = _check(sec, kind, url if "url" not in sec.failed else "", defaults)
    if (
        url
        and isinstance(check, HttpCheck)
        and (problem := credentials_problem(url, check.headers, check.basic_auth is not None))
    ):
        sec.problem("url", problem)
    base = defaults.monitor
    common = _common(sec, base, defaults.channels) | read_oncall(sec, defaults.channels)
    if kind.down_after is not None and "down_after" not in sec.data:
        common["down_after"] = kind.down_after
    interval = pick(sec.duration("interval", minimum=1), base.interval)
    own_timeout = sec.duration("timeout", positive=True)
    timeout = pick(own_timeout, defaults.timeout)
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
    retry_default = pick(defaults.retry_interval, min(DEFAULT_RETRY_INTERVAL, interval))
    retry = sec.duration("retry_interval", minimum=1)
    source = common["source_address"]
    if source and url and "url" not in sec.failed and (problem := family_problem(source, url)):
        origin = "" if "source_address" in raw else " (from [defaults])"
        sec.problem("source_address", problem + origin)
    id_ = sec.integer("id", 1)
    if id_ is not None and id_ in ids:
        sec.problem("id", f"duplicate id {id_}, already used by monitor #{ids[id_]}")
    elif id_ is not None:
        ids[id_] = index
    return replace(
        base,
        **common,
        name=pick(name, ""),
        url=url,
        check=check,
        interval=interval,
        timeout=timeout,
        retry_interval=pick(retry, retry_default),
        ca_file=_str_path(sec.path("ca_file", certificates=True)),
        paused=pick(sec.boolean("paused"), False),
        public=pick(sec.boolean("public"), True),
        id=id_,
        group=sec.label("group"),
        slo=_slo(sec),
        slow_threshold=_slow_threshold(sec, timeout),
        domain_expiry_days=read_domain_expiry_days(sec, url, kind.name),
    )


def _slo(sec: Section) -> float | None:
    """``slo = "99.9%"`` as 0.999: an objective strictly between 0 % and 100 %."""
    text = sec.string("slo")
    if text is None:
        return None
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        sec.problem("slo", f'expected a percentage like "99.9%", got "{text}"')
        return None
    percent = Decimal(match[1])
    if not 0 < percent < 100:
        # 100 % leaves no error budget at all: every second down would exhaust it.
        sec.problem("slo", f"must be above 0% and below 100%, got {text.strip()}")
        return None
    # Decimal: 99.9 / 100 in binary floats is 0.9990000000000001.
    return float(percent / 100)


def _slow_threshold(sec: Section, timeout: float) -> float | None:
    threshold = sec.duration("slow_threshold", positive=True)
    if threshold is not None and threshold >= timeout and "timeout" not in sec.failed:
        sec.problem(
            "slow_threshold",
            f"must be shorter than the timeout ({format_duration(timeout)}),"
            f" got {format_duration(threshold)}",
        )
        return None
    return threshold


def _check(sec: Section, kind: Kind[Check], url: str, defaults: _Defaults) -> Check:
    """The monitor's settings of its kind; keys of other kinds are reported, not read."""
    # An unknown type reads as the default kind; its keys are then not worth a second problem.
    keys, misplaced = _KIND_KEYS[kind.name]
    if "type" not in sec.failed and not misplaced.isdisjoint(sec.data):
        for key in (k for k in KIND_KEYS if k in misplaced and k in sec.data):
            sec.problem(key, f'not used by type "{kind.name}"')
    data = {k: v for k, v in defaults.kind_data.items() if k in keys}
    own = {k: v for k, v in sec.data.items() if k in keys}
    data |= own
    if isinstance(shared := data.get("headers"), dict) and isinstance(
        inherited := defaults.kind_data.get("headers"), dict
    ):
        # Header names are case-insensitive: a monitor's "authorization" replaces a default's.
        headers = {name.lower(): (name, value) for name, value in inherited.items()}
        headers |= {name.lower(): (name, value) for name, value in shared.items()}
        data["headers"] = dict(headers.values())
    # Monitors that set no key of their kind have the same check: read once (if it is valid).
    reusable = not own and not kind.reads_url
    if not reusable or (check := defaults.checks.get(kind.name)) is None:
        table = Section(sec.reader, sec.prefix, data)
        problems = len(sec.reader.problems)
        check = kind.read(table, url)
        if reusable and not table.failed and len(sec.reader.problems) == problems:
            defaults.checks[kind.name] = check
        sec.failed |= table.failed
    for key in kind.required:
        if key not in data:
            sec.problem(key, f'missing (required for type "{kind.name}")')
    return check
