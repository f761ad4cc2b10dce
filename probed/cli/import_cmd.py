"""``probed import``: the command line of the importers; they load only when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TypeVar

EXIT_OK, EXIT_USAGE = 0, 1
_P = TypeVar("_P", bound=argparse.ArgumentParser)


def cmd_import(args: argparse.Namespace) -> int:
    from probed.cli import uptimerobot_import

    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        answer = json.loads(raw)
        if not isinstance(answer, dict):
            raise ValueError("not a getMonitors answer: expected a JSON object")
        text = uptimerobot_import.convert(
            answer, "stdin" if args.file == "-" else Path(args.file).name
        )
    except OSError as exc:
        print(f"probed import: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # JSONDecodeError and ImportError_
        print(f"probed import: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_OK


def add_command(sub: argparse._SubParsersAction[_P]) -> None:
    p = sub.add_parser(
        "import",
        help="print a monitors.toml for a saved UptimeRobot getMonitors answer (no network)",
        description="Print a commented monitors.toml for a saved UptimeRobot v2 getMonitors"
        " answer: HTTP, keyword, port and heartbeat monitors with their intervals, timeouts,"
        " paused state, HTTP method and auth. What cannot be carried over is listed in"
        " comments. Secrets are not copied: the output names the environment variables"
        " to set.",
        epilog="examples:\n"
        "  probed import uptimerobot getMonitors.json > monitors.toml && probed check\n"
        "  curl -s -d api_key=$KEY -d alert_contacts=1 -d mwindows=1 \\\n"
        "    https://api.uptimerobot.com/v2/getMonitors | probed import uptimerobot -\n\n"
        "exit codes: 0 printed; 1 the file cannot be read or is not a getMonitors answer",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", choices=["uptimerobot"], help="where the monitors come from")
    p.add_argument("file", metavar="FILE", help="the saved getMonitors JSON answer (- for stdin)")
    p.set_defaults(func=cmd_import)
