"""``probed announce "text" [--level] [--for]`` / ``probed announce --clear``: the status
page's announcements, through the API (token)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from probed.cli.api_client import EXIT_USAGE, TOKEN_NOTE, _run, call, for_problem

LEVELS = ("info", "warning", "critical")


def cmd_announce(args: argparse.Namespace) -> int:
    if args.clear == (args.message is not None):
        print("probed announce: give a message, or --clear (not both)", file=sys.stderr)
        return EXIT_USAGE
    body: dict[str, Any] = {"message": args.message, "level": args.level}
    if args.for_ is not None:
        if problem := for_problem(args.for_):
            print(f"probed announce: {problem}", file=sys.stderr)
            return EXIT_USAGE
        body["for"] = args.for_

    def announce(base: str, token: str | None) -> None:
        if args.clear:
            done = call(base, "DELETE", "/api/v1/announcements", token)
            print(f"{done['deleted']} announcement(s) removed")
            return
        done = call(base, "POST", "/api/v1/announcements", token, body)
        until = f" until {done['expires']}" if done.get("expires") else ""
        print(f"announcement {done['id']} ({done['level']}) shown{until}")

    return _run(announce, args)


def add_announce(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "announce",
        help="show an announcement on the status page, or remove them all",
        description="Show an announcement above the status page's banner (and in"
        " /api/v1/status), or remove every announcement with --clear. " + TOKEN_NOTE,
        epilog="examples:\n"
        '  probed announce "Logins are slow; we are investigating." --level warning --for 2h\n'
        "  probed announce --clear\n\n"
        "exit codes: 0 ok; 1 usage (refused token); 2 the daemon is unreachable or failed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("message", nargs="?", help="the text shown (plain text)")
    p.add_argument("--level", choices=LEVELS, default="info", help="default: info")
    p.add_argument(
        "--for", dest="for_", metavar="DURATION", help="remove it by itself after this, e.g. 2h"
    )
    p.add_argument("--clear", action="store_true", help="remove every announcement")
    p.add_argument("--url", help="the daemon's address (default: listen in monitors.toml)")
    p.add_argument("-c", "--config", help="monitors.toml to read listen and the API token from")
    p.set_defaults(func=cmd_announce)
