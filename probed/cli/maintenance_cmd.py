"""``probed maintenance add|list|remove``: maintenance windows through the API (design §18.2),
with --url, -c and the token as ``probed pause`` takes them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from probed.cli.api_client import EXIT_USAGE, _run, call
from probed.cli.parsers import api_parser

EXITS = (
    "exit codes: 0 ok; 1 usage (unknown monitor or window, bad time, refused token); 2 the daemon"
    " is unreachable or failed"
)
_STATE = {"upcoming": "upcoming", "in_progress": "in progress", "completed": "completed"}


def cmd_add(args: argparse.Namespace) -> int:
    body = {
        "name": args.name,
        "monitors": args.monitor,
        "start": args.start,
        "duration": args.duration,
    }

    def add(base: str, token: str | None) -> None:
        done = call(base, "POST", "/api/v1/maintenance", token, body)
        print(f"maintenance window {done['id']} stored: {line(done)}")

    return _run(add, args)


def cmd_list(args: argparse.Namespace) -> int:
    def show(base: str, _: str | None) -> None:
        windows = call(base, "GET", "/api/v1/maintenance")["maintenance"]
        if not windows:
            print("no maintenance windows")
        for window in windows:
            print(line(window))

    return _run(show, args)


def cmd_remove(args: argparse.Namespace) -> int:
    if not (args.id.isascii() and args.id.isdigit()):
        print(
            f"probed maintenance: ID must be a number (probed maintenance list), got {args.id!r}",
            file=sys.stderr,
        )
        return EXIT_USAGE

    def remove(base: str, token: str | None) -> None:
        done = call(base, "DELETE", f"/api/v1/maintenance/{args.id}", token)
        print(f'maintenance window {done["id"]} ("{done["name"]}") removed')

    return _run(remove, args)


def line(window: dict[str, Any]) -> str:
    """One window as ``list`` prints it: id (or where it is set), name, when, state, monitors."""
    where = str(window["id"]) if window["id"] is not None else "monitors.toml"
    monitors = window["monitors"]
    names = "every monitor" if monitors is None else ", ".join(monitors)
    if window["start"] is None:
        when = window.get("schedule", "")
    else:
        when = f"{window['start']} – {window['end']}"
        if window.get("weekly"):
            when = f"{window['schedule']}; next {when}"
    state = _STATE.get(str(window["state"]), "")
    return f'{where}: "{window["name"]}" {when}' + (f" ({state})" if state else "") + f": {names}"


def _parser(sub: Any, name: str, help: str, examples: str) -> argparse.ArgumentParser:
    return api_parser(sub, name, help, examples, EXITS)


def add_maintenance_commands(sub: Any) -> None:
    """maintenance add, list and remove, on the CLI's sub-parsers."""
    group = sub.add_parser(
        "maintenance",
        help="maintenance windows: add, list, remove",
        description="Maintenance windows pause their monitors while they run and show on the"
        " status page from 7 days before. Those added here are stored by the daemon;"
        " [[maintenance]] in monitors.toml holds the rest.",
        epilog=f'examples:\n  probed maintenance add "Database migration" --monitor "Backend API"'
        " --start 2026-12-12T02:00Z --duration 1h\n  probed maintenance list\n"
        f"  probed maintenance remove 3\n\n{EXITS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _parser(
        actions,
        "add",
        "store a one-off maintenance window (at most 7 days); it applies at once",
        '  probed maintenance add "Database migration" --monitor "Backend API"'
        " --start 2026-12-12T02:00Z --duration 1h",
    )
    p.add_argument("name", help="what the work is; shown on the status page")
    p.add_argument(
        "--monitor",
        action="append",
        required=True,
        metavar="NAME",
        help="a monitor it pauses (repeat)",
    )
    p.add_argument(
        "--start", required=True, metavar="TIME", help="with an offset, e.g. 2026-12-12T02:00Z"
    )
    p.add_argument("--duration", required=True, metavar="DURATION", help="e.g. 1h, at most 7d")
    p.set_defaults(func=cmd_add)
    p = _parser(
        actions,
        "list",
        "list the stored windows and monitors.toml's",
        "  probed maintenance list",
    )
    p.set_defaults(func=cmd_list)
    p = _parser(
        actions,
        "remove",
        "remove a stored window; what it paused resumes",
        "  probed maintenance remove 3",
    )
    p.add_argument("id", metavar="ID", help="the window's id (probed maintenance list)")
    p.set_defaults(func=cmd_remove)
