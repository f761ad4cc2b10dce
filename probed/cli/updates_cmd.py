"""``probed incident open`` and ``probed update``: a manual incident and the updates people read
on the status page (docs/design.md §18.1), through the API as ``probed ack`` does."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from probed.cli.api_client import _run, call
from probed.cli.incidents_cmd import _parser, default_by
from probed.store.incidents import IMPACT_TEXT, STAGES


def cmd_incident_open(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "title": args.title,
        "monitors": args.monitor or [],
        "status": args.status,
        "impact": args.impact,
        "by": args.by or default_by(),
    }
    if args.text is not None:
        body["text"] = args.text

    def open_it(base: str, token: str | None) -> None:
        done = call(base, "POST", "/api/v1/incidents", token, body)
        shown = (
            f"; {done['monitor']} shown as {IMPACT_TEXT[done['impact']]}" if done["monitor"] else ""
        )
        print(f"{done['id']} opened ({done['stage']}){shown}")

    return _run(open_it, args)


def cmd_update(args: argparse.Namespace) -> int:
    body = {"status": args.status, "text": args.text, "by": args.by or default_by()}

    def post(base: str, token: str | None) -> None:
        path = f"/api/v1/incidents/{quote(args.id, safe='')}/updates"
        done = call(base, "POST", path, token, body)
        incident = done["incident"]
        state = "open" if incident["open"] else "closed"
        print(
            f"{incident['id']}: update posted ({done['update']['stage']}); the incident is {state}"
        )

    return _run(post, args)


def add_update_commands(sub: Any, incident_actions: Any) -> None:
    """``incident open`` on the ``incident`` command's actions, and ``update``."""
    p = _parser(
        incident_actions,
        "open",
        "open an incident for a problem no monitor sees; it shows on the status page",
        '  probed incident open "Voice calls failing" --monitor "Voice API" --impact major\n'
        '  probed incident open "Slow logins" --monitor Web "We are looking into it."',
    )
    p.add_argument("title", metavar="TITLE", help="what the status page calls it")
    p.add_argument("text", metavar="TEXT", nargs="?", help="the first update (default: TITLE)")
    p.add_argument(
        "--monitor",
        action="append",
        metavar="NAME",
        help="a monitor it affects (repeat for more); shown as its impact says",
    )
    p.add_argument(
        "--status", choices=STAGES[:-1], default="investigating", help="default investigating"
    )
    p.add_argument(
        "--impact",
        choices=("minor", "major"),
        default="minor",
        help='its monitors show "Degraded" (minor, default) or "Partial outage" (major)',
    )
    p.add_argument("--by", metavar="NAME", help="who opens it (default: $USER)")
    p.set_defaults(func=cmd_incident_open, late_positional="text")

    p = _parser(
        sub,
        "update",
        "post an update to an incident; resolved closes a manual one",
        '  probed update INC-2026-014 --status identified "A bad deploy; rolling back."\n'
        '  probed update INC-2026-015 --status resolved "Calls go through again." --by bob',
    )
    p.add_argument("id", metavar="ID", help="the incident's ID, e.g. INC-2026-014")
    p.add_argument("text", metavar="TEXT", help="what people should know now")
    p.add_argument("--status", choices=STAGES, required=True, help="the stage it is at")
    p.add_argument("--by", metavar="NAME", help="who posts it (default: $USER)")
    p.set_defaults(func=cmd_update)
