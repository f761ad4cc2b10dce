"""``probed subscribers [--remove ADDR]``: the status page's subscribers, through the API
(token): who is subscribed (or pending), or remove one address."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from probed.cli.api_client import TOKEN_NOTE, _run, call


def cmd_subscribers(args: argparse.Namespace) -> int:
    def subscribers(base: str, token: str | None) -> None:
        if args.remove is not None:
            done = call(base, "DELETE", f"/api/v1/subscribers/{quote(args.remove)}", token)
            print(f"{done['removed']} removed")
            return
        answer = call(base, "GET", "/api/v1/subscribers", token)
        if answer.get("off"):
            print(f"subscriptions are off: {answer['off']}")
        rows = answer["subscribers"]
        for row in rows:
            since = row["confirmed"] or row["created"]
            print(f"{row['address']:<40} {row['state']:<10} {since}")
        confirmed = sum(r["state"] == "confirmed" for r in rows)
        print(
            f"{confirmed} confirmed, {len(rows) - confirmed} pending, {answer['webhooks']} webhooks"
        )

    return _run(subscribers, args)


def add_subscribers(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "subscribers",
        help="list the status page's subscribers, or remove one",
        description="List the addresses subscribed to the status page (confirmed or"
        " pending), or remove one with --remove. " + TOKEN_NOTE,
        epilog="examples:\n  probed subscribers\n  probed subscribers --remove someone@example.com"
        "\n\nexit codes: 0 ok; 1 usage (unknown address, refused token); 2 the daemon is"
        " unreachable or failed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--remove", metavar="ADDR", help="forget this address and its pending mails")
    p.add_argument("--url", help="the daemon's address (default: listen in monitors.toml)")
    p.add_argument("-c", "--config", help="monitors.toml to read listen and the API token from")
    p.set_defaults(func=cmd_subscribers)
