"""``probed import uptimerobot FILE``: a saved UptimeRobot v2 getMonitors answer → a commented
monitors.toml on stdout. Reads a file only; never touches the network.

Every field of every monitor is either carried over or named in a comment beside the monitor
(or, for a monitor that cannot be carried over, the whole monitor is written commented out),
so nothing is dropped silently. Credentials (the HTTP password, secret-looking header values)
are not copied: the output names an environment variable to hold each one, as monitors.toml
does for every secret. Long because it maps every field of UptimeRobot's monitor object
(docs/interfaces.md §1.2), each to a key or to a comment that says why not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.items import Table

from probed.config import KINDS
from probed.config.ping import ping_url_problem

# UptimeRobot's numbers (docs/interfaces.md §1.3).
HTTP, KEYWORD, PING, PORT, HEARTBEAT = 1, 2, 3, 4, 5
TYPE_NAMES = {
    HTTP: "HTTP(s)",
    KEYWORD: "keyword",
    PING: "ping",
    PORT: "port",
    HEARTBEAT: "heartbeat",
}
METHODS = {1: "HEAD", 2: "GET", 3: "POST", 4: "PUT", 5: "PATCH", 6: "DELETE", 7: "OPTIONS"}
PORTS = {1: 80, 2: 443, 3: 21, 4: 25, 5: 110, 6: 143}
"""Port monitors' sub_type → port; 99 is a custom port (the ``port`` field)."""

HANDLED = {"id", "friendly_name", "url", "type", "interval", "timeout", "status"}
HANDLED |= {"sub_type", "port", "keyword_type", "keyword_value", "keyword_case_type"}
HANDLED |= {"http_username", "http_password", "http_auth_type", "http_method"}
HANDLED |= {"custom_http_headers", "custom_http_statuses", "ignore_ssl_errors", "ssl"}
HANDLED |= {"post_value", "post_type", "post_content_type", "alert_contacts", "mwindows"}
HISTORY = {"logs", "response_times", "average_response_time", "custom_uptime_ratio"}
HISTORY |= {"custom_uptime_ranges", "all_time_uptime_ratio", "all_time_uptime_durations"}
"""Measurements, not settings: probed starts its own history."""
IGNORED = {"create_datetime"}
"""Facts about the UptimeRobot account that have no meaning in monitors.toml."""

_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|key|pass", re.I)


class NotGetMonitors(ValueError):
    """The file is not a getMonitors answer probed can read; the message says why."""


@dataclass
class Converted:
    """One UptimeRobot monitor as probed sees it."""

    table: Table
    notes: list[str] = field(default_factory=list)
    """What could not be carried over, one comment line each."""
    env: list[str] = field(default_factory=list)
    """Environment variables the monitor's secrets must be put in."""
    carried: bool = True
    """False: written commented out (a kind probed lacks)."""


def convert(answer: Mapping[str, Any], source: str = "getMonitors") -> str:
    """The monitors.toml text for a getMonitors answer (``source`` names it in the header)."""
    if answer.get("stat") not in (None, "ok") or not isinstance(answer.get("monitors"), list):
        raise NotGetMonitors('not a getMonitors answer: expected {"stat": "ok", "monitors": [...]}')
    monitors = [m for m in answer["monitors"] if isinstance(m, dict)]
    converted = [_convert(m) for m in monitors]
    _unique_names(converted)
    doc = tomlkit.document()
    carried = sum(c.carried for c in converted)
    doc.add(tomlkit.comment(f"Imported from UptimeRobot ({source}) by probed import uptimerobot:"))
    doc.add(
        tomlkit.comment(
            f"{carried} of {len(converted)} monitors carried over. Lines starting with"
            ' "not carried over" list what probed could not take.'
        )
    )
    doc.add(tomlkit.comment("Check it with `probed check -c FILE` (offline) before running it."))
    env = [name for c in converted for name in c.env]
    if env:
        doc.add(tomlkit.comment("Secrets are not copied: set these in the environment first:"))
        for name in env:
            doc.add(tomlkit.comment(f"  {name}"))
    if _pagination_left(answer):
        doc.add(tomlkit.comment(_pagination_left(answer)))
    doc.add(tomlkit.nl())
    doc.add(tomlkit.comment("Alert channels are not in getMonitors: add [alerts.email] for them."))
    doc.add(tomlkit.nl())
    aot = tomlkit.aot()
    text = tomlkit.dumps(doc)
    for item in converted:
        if item.carried:
            aot.append(item.table)
    if len(aot):
        out = tomlkit.document()
        out.add("monitor", aot)
        text += tomlkit.dumps(out)
    for item in converted:
        if not item.carried:
            text += "\n" + _commented_out(item)
    return text


def _pagination_left(answer: Mapping[str, Any]) -> str:
    page = answer.get("pagination")
    if not isinstance(page, dict):
        return ""
    total, offset, got = page.get("total"), page.get("offset", 0), len(answer["monitors"])
    if isinstance(total, int) and isinstance(offset, int) and offset + got < total:
        return (
            f"not carried over: monitors {offset + got + 1}-{total} of {total}: this answer is"
            " one page (limit 50); save the others with offset=… and import them too."
        )
    return ""


def _convert(m: Mapping[str, Any]) -> Converted:
    kind = m.get("type")
    table = tomlkit.table()
    item = Converted(table)
    table.add("name", str(m.get("friendly_name") or f"uptimerobot {m.get('id')}"))
    if isinstance(m.get("id"), int) and m["id"] > 0:
        # The same id keeps UptimeRobot clients that name monitors by id working against
        # probed's getMonitors / editMonitor.
        table.add("id", m["id"])
    if kind in (HTTP, KEYWORD):
        _http(m, item, keyword=kind == KEYWORD)
    elif kind == PORT:
        _port(m, item)
    elif kind == HEARTBEAT:
        _heartbeat(m, item)
    elif kind == PING:
        _ping(m, item)
    else:
        item.carried = False
        name = TYPE_NAMES.get(kind, f"type {kind}") if isinstance(kind, int) else f"type {kind}"
        table.add("url", str(m.get("url", "")))
        item.notes.append(f"not carried over: a {name} monitor: probed has no such check")
    _schedule(m, item)
    _rest(m, item)
    for note in item.notes:
        table.add(tomlkit.comment(note))
    return item


def _http(m: Mapping[str, Any], item: Converted, *, keyword: bool) -> None:
    t = item.table
    url = str(m.get("url", ""))
    if not re.match(r"https?://", url):
        item.notes.append(f"the URL had no http(s):// scheme ({url!r}): http:// was assumed")
        url = "http://" + url
    if keyword:
        t.add("type", "keyword")
    t.add("url", url)
    raw_method = m.get("http_method")
    method = METHODS.get(raw_method) if isinstance(raw_method, int) else None
    if keyword:
        t.add("keyword", str(m.get("keyword_value", "")))
        # keyword_type: when UptimeRobot alerts. 1: the keyword exists, 2: it does not.
        t.add("keyword_absent", m.get("keyword_type") in (1, "1"))
        # keyword_case_type: 0 case sensitive, 1 case insensitive (docs/interfaces.md §1.2).
        t.add("keyword_case_sensitive", m.get("keyword_case_type") in (0, "0"))
        if method not in (None, "GET"):
            item.notes.append(f"not carried over: http_method {method}: keyword checks use GET")
    elif method is not None:
        t.add("method", method)
    _auth(m, item)
    _headers(m, item)
    _statuses(m, item)
    _body(m, item, method)
    ssl = m.get("ssl")
    ignore = m.get("ignore_ssl_errors") or (
        ssl.get("ignore_errors") if isinstance(ssl, dict) else 0
    )
    if ignore in (1, "1", True):
        t.add("verify_tls", False)


def _auth(m: Mapping[str, Any], item: Converted) -> None:
    user, password = m.get("http_username") or "", m.get("http_password") or ""
    if not user:
        return
    env = f"UPTIMEROBOT_PASSWORD_{m.get('id')}"
    if m.get("http_auth_type") in (2, "2"):
        item.notes.append(
            f'not carried over: digest authentication for user "{user}": probed sends basic'
            " auth only"
        )
        return
    auth = tomlkit.inline_table()
    auth.add("username", str(user))
    if password:
        auth.add("password", f"${{{env}}}")
        item.env.append(f"{env}  (the http_password of monitor {m.get('id')})")
    item.table.add("basic_auth", auth)


def _headers(m: Mapping[str, Any], item: Converted) -> None:
    headers = m.get("custom_http_headers")
    if not isinstance(headers, dict) or not headers:
        return
    table = tomlkit.inline_table()
    for name, value in headers.items():
        if _SECRET_HEADER.search(name):
            env = f"UPTIMEROBOT_HEADER_{m.get('id')}_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}"
            table.add(name, f"${{{env}}}")
            item.env.append(f"{env}  (header {name} of monitor {m.get('id')})")
        else:
            table.add(name, str(value))
    item.table.add("headers", table)


def _statuses(m: Mapping[str, Any], item: Converted) -> None:
    """custom_http_statuses ``404:0_200:1``: 1 counts as up, 0 as down."""
    raw = m.get("custom_http_statuses")
    if not raw or not isinstance(raw, str):
        return
    up: list[int] = []
    down: list[int] = []
    for part in raw.split("_"):
        code, _, verdict = part.partition(":")
        if code.isdigit():
            (up if verdict == "1" else down).append(int(code))
    if extra := sorted({c for c in up if not 200 <= c <= 299}):
        item.table.add("expect_status", ["2xx", *extra])
    if down := [c for c in down if 200 <= c <= 299]:
        item.notes.append(
            f"not carried over: custom_http_statuses marks {down} as down: expect_status only"
            ' lists what counts as up (list the other 2xx codes instead of "2xx")'
        )


def _body(m: Mapping[str, Any], item: Converted, method: str | None) -> None:
    value = m.get("post_value")
    if value in (None, "", {}, []):
        return
    if method in (None, "GET", "HEAD"):
        item.notes.append("not carried over: post_value, sent only with POST, PUT or PATCH")
        return
    item.table.add("body", value if isinstance(value, str) else json.dumps(value))
    kind = m.get("post_content_type")
    content_type = {1: "application/x-www-form-urlencoded", 2: "application/json"}.get(
        kind if isinstance(kind, int) else -1
    )
    if content_type and "headers" not in item.table:
        headers = tomlkit.inline_table()
        headers.add("Content-Type", content_type)
        item.table.add("headers", headers)


def _port(m: Mapping[str, Any], item: Converted) -> None:
    raw = str(m.get("url", ""))
    host = urlsplit(raw).hostname if "://" in raw else raw.split("/")[0]
    sub = m.get("sub_type")
    port = PORTS.get(sub) if isinstance(sub, int) else None
    if port is None and str(m.get("port", "")).isdigit():
        port = int(m["port"])
    item.table.add("type", "tcp")
    if not host or port is None:
        item.carried = False
        item.table.add("url", raw)
        item.notes.append(
            f"not carried over: no host and port in url {raw!r}, port {m.get('port')!r}"
        )
        return
    shown = f"[{host}]" if ":" in host else host
    item.table.add("url", f"tcp://{shown}:{port}")


def _ping(m: Mapping[str, Any], item: Converted) -> None:
    raw = str(m.get("url", "")).strip()
    # UptimeRobot takes a host or an IP; some accounts hold a URL pasted in its place.
    host = urlsplit(raw).hostname if "://" in raw else raw.split("/")[0]
    item.table.add("type", "ping")
    if not host or ping_url_problem(host):
        item.carried = False
        item.table.add("url", raw)
        item.notes.append(f"not carried over: no host to ping in url {raw!r}")
        return
    item.table.add("url", f"icmp://[{host}]" if ":" in host else f"icmp://{host}")


def _heartbeat(m: Mapping[str, Any], item: Converted) -> None:
    env = f"UPTIMEROBOT_PUSH_TOKEN_{m.get('id')}"
    t = item.table
    t.add("type", "push")
    t.add("token", f"${{{env}}}")
    item.notes.append(
        "the job must now call probed's /push/<token> instead of its UptimeRobot heartbeat"
        " URL; choose a token of 16 characters or more"
    )
    if "push" in KINDS:
        item.env.append(f"{env}  (a new push token for monitor {m.get('id')})")
    else:
        item.carried = False
        item.notes.append(
            'not carried over: this probed has no "push" kind yet; uncomment once it has'
        )


def _schedule(m: Mapping[str, Any], item: Converted) -> None:
    t = item.table
    interval = m.get("interval")
    if isinstance(interval, int) and interval > 0:
        t.add("interval", _duration(interval))
    timeout = m.get("timeout")
    if isinstance(timeout, int) and timeout > 0 and m.get("type") != HEARTBEAT:
        if isinstance(interval, int) and interval > 0 and timeout > interval:
            item.notes.append(
                f"timeout {timeout}s was longer than the interval: shortened to {interval}s"
            )
            timeout = interval
        t.add("timeout", _duration(timeout))
    if m.get("status") in (0, "0"):
        t.add("paused", True)


def _rest(m: Mapping[str, Any], item: Converted) -> None:
    contacts = m.get("alert_contacts")
    if isinstance(contacts, list) and contacts:
        for c in contacts:
            c = c if isinstance(c, dict) else {"id": c}
            said = ", ".join(f"{k} {v}" for k, v in c.items() if k != "id" and v not in ("", None))
            item.notes.append(
                f"not carried over: alert contact {c.get('id')}"
                + (f" ({said})" if said else "")
                + ": name an [alerts.*] channel in alert = [...]; threshold → down_after,"
                " recurrence → remind_every"
            )
    windows = m.get("mwindows")
    if isinstance(windows, list) and windows:
        for w in windows:
            w = w if isinstance(w, dict) else {"id": w}
            said = ", ".join(f"{k} {v}" for k, v in w.items() if v not in ("", None))
            item.notes.append(
                f"not carried over: maintenance window {said}: write a [[maintenance]]"
            )
    history = sorted(k for k in HISTORY if m.get(k) not in (None, "", [], {}))
    if history:
        item.notes.append(
            f"not carried over: history ({', '.join(history)}): probed starts its own"
        )
    for key in sorted(set(m) - HANDLED - HISTORY - IGNORED):
        value = m[key]
        if value not in (None, "", 0, [], {}):
            item.notes.append(f"not carried over: {key} = {json.dumps(value)}")


def _unique_names(items: list[Converted]) -> None:
    seen: dict[str, int] = {}
    for item in items:
        name = str(item.table["name"])
        seen[name] = seen.get(name, 0) + 1
    for item in items:
        name = str(item.table["name"])
        if seen[name] > 1:
            item.table["name"] = f"{name} #{item.table.get('id', '?')}"
            item.notes.append(f'renamed from "{name}": monitor names must be unique in probed')
            item.table.add(tomlkit.comment(item.notes[-1]))


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _commented_out(item: Converted) -> str:
    doc = tomlkit.document()
    aot = tomlkit.aot()
    aot.append(item.table)
    doc.add("monitor", aot)
    lines = tomlkit.dumps(doc).splitlines()
    return "".join(line + "\n" if line.startswith("#") else f"# {line}\n" for line in lines)
