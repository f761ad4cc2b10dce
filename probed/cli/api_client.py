"""``probed status``, ``probed pause`` and ``probed resume``: the command-line side of the JSON API.

They talk to a running daemon at ``--url`` (default: the ``listen`` of monitors.toml, else
http://127.0.0.1:9925) with the token from $PROBED_API_TOKEN. Exit codes: 0 ok, 1 usage (an
unknown monitor, a refused token), 2 the daemon is unreachable or failed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import signal
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from probed.config import ConfigError, load_config
from probed.config.reader import parse_duration
from probed.units import format_span, parse_iso

EXIT_OK, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2
DEFAULT_URL = "http://127.0.0.1:9925"
TIMEOUT = 10.0
_P = TypeVar("_P", bound=argparse.ArgumentParser)


class ClientError(Exception):
    """A command failed; ``code`` is its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def default_url(config: Path, env: Mapping[str, str]) -> str:
    """Where the daemon of this config listens, as the daemon reads it (PROBED_LISTEN wins)."""
    listen = env.get("PROBED_LISTEN")
    if not listen:
        try:
            settings = tomllib.loads(config.read_text(encoding="utf-8")).get("probed", {})
            listen = settings.get("listen") if isinstance(settings, dict) else None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            listen = None
    if not isinstance(listen, str) or "${" in listen or ":" not in listen:
        return DEFAULT_URL
    host, _, port = listen.rpartition(":")
    # A daemon listening on every address is reached on loopback.
    host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}.get(host, host)
    return f"http://{host}:{port}"


def call(base: str, method: str, path: str, token: str | None = None, body: object = None) -> Any:
    """One API request; the decoded JSON answer, or ClientError with the daemon's message."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
            message = answer.get("error", exc.reason)
            message += "".join(f"\n  {problem}" for problem in answer.get("problems", []))
        except (ValueError, AttributeError, TypeError):
            message = exc.reason
        raise ClientError(f"{message} (HTTP {exc.code})", 2 if exc.code >= 500 else 1) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClientError(f"cannot reach probed at {base}: {reason}", EXIT_RUNTIME) from None
    except ValueError:
        raise ClientError(f"{base} did not answer with JSON: is it probed?", EXIT_RUNTIME) from None


def find(monitors: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The monitor called ``name`` (exactly, else case-insensitively if that is unique)."""
    for m in monitors:
        if m["name"] == name:
            return m
    folded = [m for m in monitors if m["name"].casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    names = [m["name"] for m in monitors]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.8)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise ClientError(f"no monitor named {name!r}{hint}", EXIT_USAGE)


def ago(since: str | None, now: datetime) -> str:
    if since is None:
        return "-"
    seconds = max(0, int((now - parse_iso(since)).total_seconds()))
    # Whole minutes past the first one: the table's column stays short.
    return format_span(seconds - seconds % 60 if seconds >= 60 else seconds)


def status_table(monitors: list[dict[str, Any]], now: datetime) -> str:
    """NAME, STATE, SINCE, UPTIME 24H / 30D, RESPONSE (last check), CERT (days left)."""

    def percent(ratio: float | None) -> str:
        return "-" if ratio is None else f"{ratio * 100:.2f}%"

    rows = [("NAME", "STATE", "SINCE", "UP 24H", "UP 30D", "RESPONSE", "CERT")]
    for m in monitors:
        last = m.get("last_check") or {}
        duration = last.get("duration_seconds")
        cert = "-"
        if m.get("cert_expires_at"):
            days = (parse_iso(m["cert_expires_at"]) - now).total_seconds() / 86400
            cert = f"{int(days)}d" if days >= 0 else "expired"
        rows.append(
            (
                m["name"],
                m["state"].replace("_", " "),
                ago(m.get("since"), now),
                percent(m["uptime"]["1d"]),
                percent(m["uptime"]["30d"]),
                "-" if duration is None else f"{duration * 1000:.0f} ms",
                cert,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def cmd_status(args: argparse.Namespace) -> int:
    return _run(lambda base, _: print(status_table(_monitors(base), datetime.now(UTC))), args)


def cmd_pause(args: argparse.Namespace) -> int:
    body = None
    if args.for_ is not None:
        try:
            if parse_duration(args.for_) <= 0:
                raise ValueError('"--for" must be longer than 0')
        except ValueError as exc:
            print(f"probed pause: {exc}", file=sys.stderr)
            return EXIT_USAGE
        body = {"for": args.for_}

    def pause(base: str, token: str | None) -> None:
        monitor = find(_monitors(base), args.name)
        done = call(base, "POST", f"/api/v1/monitors/{monitor['id']}/pause", token, body or {})
        until = f" until {done['paused_until']}" if done.get("paused_until") else ""
        print(f"{done['name']}: paused{until}")

    return _run(pause, args)


def cmd_resume(args: argparse.Namespace) -> int:
    def resume(base: str, token: str | None) -> None:
        monitor = find(_monitors(base), args.name)
        done = call(base, "POST", f"/api/v1/monitors/{monitor['id']}/resume", token, {})
        print(f"{done['name']}: {done['state'].replace('_', ' ')}")

    return _run(resume, args)


def cmd_reload(args: argparse.Namespace) -> int:
    if args.pid is not None:
        # systemd's ExecReload: check the file first, so an invalid one fails the reload with
        # every problem in the journal (the daemon would keep its running config anyway).
        config = Path(args.config or os.environ.get("PROBED_CONFIG") or "monitors.toml")
        try:
            load_config(config)
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print("probed reload: not reloaded, the running configuration stays", file=sys.stderr)
            return EXIT_USAGE
        try:
            os.kill(args.pid, signal.SIGHUP)
        except OSError as exc:
            print(f"probed reload: cannot signal pid {args.pid}: {exc.strerror}", file=sys.stderr)
            return EXIT_RUNTIME
        print(f"sent SIGHUP to {args.pid}; the daemon logs the outcome")
        return EXIT_OK

    def reload(base: str, token: str | None) -> None:
        done = call(base, "POST", "/api/v1/reload", token, {})
        print(f"reloaded: {done['monitors']} monitors")

    return _run(reload, args)


def _monitors(base: str) -> list[dict[str, Any]]:
    monitors: list[dict[str, Any]] = call(base, "GET", "/api/v1/monitors")["monitors"]
    return monitors


def _run(action: Callable[[str, str | None], None], args: argparse.Namespace) -> int:
    config = Path(args.config or os.environ.get("PROBED_CONFIG") or "monitors.toml")
    base = args.url or default_url(config, os.environ)
    try:
        action(base, os.environ.get("PROBED_API_TOKEN") or None)
    except ClientError as exc:
        print(f"probed {args.command}: {exc}", file=sys.stderr)
        return exc.code
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction[_P]) -> None:
    """The status, pause and resume sub-commands, on the CLI's sub-parsers."""
    url_help = "the daemon's address (default: listen in monitors.toml, else " + DEFAULT_URL + ")"
    p = sub.add_parser("status", help="table of monitors from the running daemon")
    p.set_defaults(func=cmd_status)
    parsers = [p]
    p = sub.add_parser("pause", help="pause a monitor (token from $PROBED_API_TOKEN)")
    p.add_argument("name", help="the monitor's name")
    p.add_argument("--for", dest="for_", metavar="DURATION", help="resume after e.g. 30m")
    p.set_defaults(func=cmd_pause)
    parsers.append(p)
    p = sub.add_parser("resume", help="resume a paused monitor (token from $PROBED_API_TOKEN)")
    p.add_argument("name", help="the monitor's name")
    p.set_defaults(func=cmd_resume)
    parsers.append(p)
    p = sub.add_parser(
        "reload", help="re-read monitors.toml: SIGHUP to --pid, or via the API (token)"
    )
    p.add_argument("--pid", type=int, help="signal this process instead of calling the API")
    p.set_defaults(func=cmd_reload)
    parsers.append(p)
    for p in parsers:
        p.add_argument("--url", help=url_help)
        p.add_argument("-c", "--config", help="monitors.toml to read listen from")
