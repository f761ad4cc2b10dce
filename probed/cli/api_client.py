"""``probed status``, ``probed pause`` and ``probed resume``: the command-line side of the JSON API.

They talk to a running daemon at ``--url`` (default: the ``listen`` of monitors.toml, else
http://127.0.0.1:9925) with the token from $PROBED_API_TOKEN, else the config's ``api_token`` /
``api_token_file``. Exit codes: 0 ok, 1 usage (an unknown monitor, a refused token), 2 the daemon
is unreachable or failed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import signal
import sys
import textwrap
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from probed.config import load_config
from probed.config.reader import parse_duration
from probed.errors import ConfigError
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
    try:
        return json.loads(call_raw(base, method, path, token, body))
    except ValueError:
        raise ClientError(f"{base} did not answer with JSON: is it probed?", EXIT_RUNTIME) from None


def call_raw(
    base: str, method: str, path: str, token: str | None = None, body: object = None
) -> bytes:
    """One API request; the answer's body as sent, or ClientError with the daemon's message."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            raw: bytes = response.read()
            return raw
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


# SGR colours by state label: the words an operator scans a terminal for.
STATE_COLOURS = {"up": "32", "down": "31", "seems down": "33", "paused": "2", "pending": "2"}


def use_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour only for a person at a terminal who has not opted out (https://no-color.org)."""
    return not env.get("NO_COLOR") and stream.isatty()


def status_table(monitors: list[dict[str, Any]], now: datetime, colour: bool = False) -> str:
    """NAME, STATE, SINCE, UPTIME 24H / 30D, RESPONSE (last check), CERT (days left), and
    INCIDENT (its ID, who acknowledged it) while any monitor has an open one."""

    def percent(ratio: float | None) -> str:
        return "-" if ratio is None else f"{ratio * 100:.2f}%"

    incidents = [incident_cell(m.get("incident")) for m in monitors]
    extra = ("INCIDENT",) if any(incidents) else ()
    rows: list[tuple[str, ...]] = [
        ("NAME", "STATE", "SINCE", "UP 24H", "UP 30D", "RESPONSE", "CERT", *extra)
    ]
    for m, incident in zip(monitors, incidents, strict=True):
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
                *((incident or "-",) if extra else ()),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def cell(column: int, text: str, width: int) -> str:
        padded = text.ljust(width)
        sgr = STATE_COLOURS.get(text) if colour and column == 1 else None
        # Padding outside the escape codes, so that the columns stay aligned.
        return padded if sgr is None else f"\x1b[{sgr}m{text}\x1b[0m{padded[len(text) :]}"

    return "\n".join(
        "  ".join(
            text.ljust(width) if n == 0 else cell(i, text, width)
            for i, (text, width) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for n, r in enumerate(rows)
    )


def incident_cell(incident: Mapping[str, Any] | None) -> str:
    """``INC-2026-014``, with ``acknowledged by alice`` once someone has; "" for none."""
    if not incident:
        return ""
    by = incident.get("acknowledged_by")
    return f"{incident['id']}, acknowledged by {by}" if by else str(incident["id"])


def cmd_status(args: argparse.Namespace) -> int:
    def status(base: str, _: str | None) -> None:
        if args.json:
            print(json.dumps(call(base, "GET", "/api/v1/monitors"), indent=2))
            return
        colour = use_colour(sys.stdout, os.environ)
        print(status_table(_monitors(base), datetime.now(UTC), colour))

    return _run(status, args)


def for_problem(value: str) -> str | None:
    """Why a ``--for`` duration is unusable, or None (the daemon re-reads the text itself)."""
    try:
        if parse_duration(value) <= 0:
            return '"--for" must be longer than 0'
    except ValueError as exc:
        return str(exc)
    return None


def cmd_pause(args: argparse.Namespace) -> int:
    body = None
    if args.for_ is not None:
        if problem := for_problem(args.for_):
            print(f"probed pause: {problem}", file=sys.stderr)
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
            for problem in exc.shown():
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


def config_token(config: Path, env: Mapping[str, str]) -> str | None:
    """``api_token`` / ``api_token_file`` of the config, read as the daemon reads them; None when
    the file is absent or invalid (the daemon then says whether a token was needed)."""
    if not config.is_file():
        return None
    try:
        return load_config(config, env).settings.api_token
    except ConfigError:
        return None


def _run(action: Callable[[str, str | None], None], args: argparse.Namespace) -> int:
    config = Path(args.config or os.environ.get("PROBED_CONFIG") or "monitors.toml")
    base = args.url or default_url(config, os.environ)
    token = os.environ.get("PROBED_API_TOKEN") or None
    # Only changes and evidence need a token; the tables stay quick and never read secret files.
    if token is None and args.command not in ("status", "incidents"):
        token = config_token(config, os.environ)
    try:
        action(base, token)
    except ClientError as exc:
        print(f"probed {args.command}: {exc}", file=sys.stderr)
        return exc.code
    return EXIT_OK


TOKEN_NOTE = (
    "The API token is $PROBED_API_TOKEN, else api_token / api_token_file of the config (-c, else"
    " $PROBED_CONFIG, else ./monitors.toml)."
)
EXIT_CODES = (
    "exit codes: 0 ok; 1 usage (unknown monitor, refused token); 2 the daemon is unreachable or"
    " failed"
)


def add_commands(sub: argparse._SubParsersAction[_P]) -> None:
    """The status, pause, resume and reload sub-commands, on the CLI's sub-parsers."""
    url_help = "the daemon's address (default: listen in monitors.toml, else " + DEFAULT_URL + ")"

    def add(name: str, help: str, examples: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            # Raw, for the examples' line breaks; so the description is wrapped here.
            description=textwrap.fill(
                help[0].upper() + help[1:] + "." + ("" if name == "status" else " " + TOKEN_NOTE)
            ),
            epilog=f"examples:\n{examples}\n\n{EXIT_CODES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = add(
        "status",
        "table of monitors from the running daemon",
        "  probed status\n  probed status --json | jq '.monitors[] | {name, state}'\n"
        "  NO_COLOR=1 probed status      # no colour on a terminal either",
    )
    p.add_argument(
        "--json", action="store_true", help="print the API's JSON answer instead of the table"
    )
    p.set_defaults(func=cmd_status)
    parsers = [p]
    p = add(
        "pause",
        "pause a monitor: no checks, no alerts",
        '  probed pause "Backend API"\n  probed pause "Backend API" --for 30m',
    )
    p.add_argument("name", help="the monitor's name (case-insensitive when unique)")
    p.add_argument(
        "--for", dest="for_", metavar="DURATION", help="resume by itself after this, e.g. 30m"
    )
    p.set_defaults(func=cmd_pause)
    parsers.append(p)
    p = add("resume", "resume a paused monitor", '  probed resume "Backend API"')
    p.add_argument("name", help="the monitor's name (case-insensitive when unique)")
    p.set_defaults(func=cmd_resume)
    parsers.append(p)
    p = add(
        "reload",
        "re-read monitors.toml: SIGHUP to --pid, or via the API (token)",
        "  probed reload -c /etc/probed/monitors.toml\n  probed reload --pid $(pidof probed)",
    )
    p.add_argument("--pid", type=int, help="signal this process instead of calling the API")
    p.set_defaults(func=cmd_reload)
    parsers.append(p)
    for p in parsers:
        p.add_argument("--url", help=url_help)
        p.add_argument("-c", "--config", help="monitors.toml to read listen and the API token from")
