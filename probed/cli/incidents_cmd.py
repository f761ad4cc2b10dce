"""``probed incidents``, ``probed incident show``, ``probed ack`` and ``probed postmortem``: the
incidents API from the command line (docs/design.md §5, §17), with --url, -c and the token as
``probed status`` and ``probed pause`` take them."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from probed.cli.api_client import (
    EXIT_USAGE,
    _run,
    call,
    call_raw,
    use_colour,
)
from probed.cli.parsers import api_parser
from probed.config.reader import parse_duration
from probed.incidents.postmortem import describe
from probed.store.incidents import Event
from probed.units import format_span, parse_iso

BODY_LINES = 40
"""Body lines ``incident show`` prints; --json has them all."""
_RED, _YELLOW, _GREEN, _BOLD, _DIM = "31", "33", "32", "1", "2"


def since_iso(text: str, now: datetime) -> str:
    """``--since``: an ISO 8601 time, or a duration back from now (``7d``); ValueError if
    neither."""
    try:
        return parse_iso(text).isoformat()
    except ValueError:
        pass
    try:
        seconds = parse_duration(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f"--since {text!r}: give a time (2026-03-01, 2026-03-01T12:00Z) or a duration back"
            " from now (7d, 12h)"
        ) from None
    return (now - timedelta(seconds=seconds)).isoformat()


def _span(seconds: float | None) -> str:
    return "-" if seconds is None else format_span(max(0, round(seconds)))


def _minute(iso: str | None) -> str:
    return "-" if iso is None else parse_iso(iso).strftime("%Y-%m-%d %H:%M")


def incidents_table(incidents: list[dict[str, Any]]) -> str:
    """ID, MONITOR, SEVERITY, START (UTC), DURATION (or ongoing), ACK BY, TTA, TTR."""
    rows = [("ID", "MONITOR", "SEVERITY", "START (UTC)", "DURATION", "ACK BY", "TTA", "TTR")]
    for i in incidents:
        took = _span(i["duration_seconds"])
        rows.append(
            (
                i["id"],
                i["monitor"],
                i["severity"] or "-",
                _minute(i["start"]),
                f"ongoing, {took}" if i["open"] else took,
                (i["acknowledged"] or {}).get("by") or "-",
                _span(i["time_to_ack_seconds"]),
                _span(i["time_to_resolve_seconds"]),
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join(
        "  ".join(t.ljust(w) for t, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def cmd_incidents(args: argparse.Namespace) -> int:
    query: dict[str, str] = {"limit": str(args.limit)}
    if args.open:
        query["open"] = "true"
    if args.monitor:
        query["monitor"] = args.monitor
    if args.since:
        try:
            query["since"] = since_iso(args.since, datetime.now(UTC))
        except ValueError as exc:
            print(f"probed incidents: {exc}", file=sys.stderr)
            return EXIT_USAGE

    def show(base: str, token: str | None) -> None:
        answer = call(base, "GET", "/api/v1/incidents?" + urlencode(query), token)
        if args.json:
            print(json.dumps(answer, indent=2))
            return
        found = answer["incidents"]
        if not found:
            print("no incidents" + (" open" if args.open else ""))
            return
        print(incidents_table(found))
        if answer["total"] > len(found):
            print(f"({len(found)} of {answer['total']}, newest first; --limit for more)")

    return _run(show, args)


def incident_text(i: dict[str, Any], colour: bool = False) -> str:
    """An incident for a person: its header, facts, timeline and (to a token holder) evidence."""

    def paint(sgr: str, text: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if colour else text

    if not i["open"]:
        state = paint(_GREEN, "resolved")
    elif i.get("manual"):  # nobody is paged for it: its stage is what matters
        state = paint(_YELLOW, f"open, {i.get('stage')}")
    elif i["acknowledged"]:
        state = paint(_YELLOW, f"open, acknowledged by {i['acknowledged']['by']}")
    else:
        state = paint(_RED, "open, not acknowledged")
    subject = f"{i['title']} ({i['monitor'] or 'no monitor'})" if i.get("title") else i["monitor"]
    lines = [f"{paint(_BOLD, i['id'])}  {subject}  {i['severity'] or '-'}  {state}", ""]
    end = _minute(i["end"]) if i["end"] else "ongoing"
    first = "opened" if i.get("manual") else "first failed check"
    facts = [
        ("start", f"{_minute(i['start'])} UTC ({first})"),
        ("confirmed", f"{_minute(i['confirmed'])} UTC"),
        ("end", end + (" UTC" if i["end"] else "")),
        ("duration", _span(i["duration_seconds"])),
        ("time to ack", _span(i["time_to_ack_seconds"])),
        ("time to resolve", _span(i["time_to_resolve_seconds"])),
    ]
    if i.get("stage"):
        facts.append(("stage", i["stage"]))
    if i["acknowledged"] and i["acknowledged"].get("note"):
        facts.append(("note", i["acknowledged"]["note"]))
    if i["runbook"]:
        facts.append(("runbook", i["runbook"]))
    if i["url"]:
        facts.append(("url", i["url"]))
    lines += [f"  {k + ':':<17}{v}" for k, v in facts]
    lines += ["", paint(_BOLD, "Timeline")]
    for e in i.get("timeline", []):
        event = Event(parse_iso(e["at"]), e["kind"], e["detail"])
        lines.append(f"  {parse_iso(e['at']).strftime('%Y-%m-%d %H:%M:%S')}  {describe(event)}")
    lines += ["", paint(_BOLD, "Evidence")]
    evidence = i.get("evidence")
    if evidence is None:
        lines.append(
            paint(_DIM, "  shown with the API token only ($PROBED_API_TOKEN, or api_token in -c)")
        )
        return "\n".join(lines)
    for role, title in (("opened", "first failed check"), ("confirmed", "confirming check")):
        check = evidence.get(role)
        if check:
            lines += [f"  {title}, {check['at']}: {check['reason']}", *_answer(check)]
    good = evidence.get("last_good")
    if good:
        took = good.get("response_seconds")
        ms = "" if took is None else f", {took * 1000:.0f} ms"
        lines.append(f"  last good check, {good['at']}: {good.get('reason') or ''}{ms}")
    return "\n".join(lines)


def _answer(check: dict[str, Any]) -> list[str]:
    ev = check.get("evidence") or {}
    out = [
        f"    {label}: {ev[key]}"
        for key, label in (("url", "url"), ("address", "address"), ("error", "error"))
        if ev.get(key)
    ]
    if ev.get("status_line"):
        out.append(f"    {ev['status_line']}")
    out += [f"    {name}: {value}" for name, value in ev.get("headers") or ()]
    out += [f"    {name}: {value}" for name, value in ev.get("facts") or ()]
    body = str(ev.get("body") or "").splitlines()
    if body:
        out.append("")
        out += [f"    | {line}" for line in body[:BODY_LINES]]
        if len(body) > BODY_LINES or ev.get("body_truncated"):
            out.append(
                f"    | … (more in --json or the post-mortem; {ev.get('body_bytes')} bytes kept)"
            )
    return out


def cmd_incident_show(args: argparse.Namespace) -> int:
    def show(base: str, token: str | None) -> None:
        answer = call(base, "GET", f"/api/v1/incidents/{quote(args.id, safe='')}", token)
        if args.json:
            print(json.dumps(answer, indent=2))
        else:
            print(incident_text(answer, use_colour(sys.stdout, os.environ)))

    return _run(show, args)


def default_by() -> str:
    """Who acknowledges when --by is not given: $USER, else the login name."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):  # no login name for this uid (a container)
        return f"uid {os.getuid()}"


def cmd_ack(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"by": args.by or default_by()}
    if args.note is not None:
        body["note"] = args.note

    def ack(base: str, token: str | None) -> None:
        path = f"/api/v1/incidents/{quote(args.id, safe='')}/ack"
        done = call(base, "POST", path, token, body)
        first = done["acknowledged"]
        if done.get("already"):
            print(f"{done['id']}: already acknowledged by {first['by']} at {first['at']}")
        else:
            print(f"{done['id']}: acknowledged by {first['by']}; no more reminders or escalations")

    return _run(ack, args)


def cmd_postmortem(args: argparse.Namespace) -> int:
    def draft(base: str, token: str | None) -> None:
        path = f"/api/v1/incidents/{quote(args.id, safe='')}/postmortem"
        sys.stdout.write(call_raw(base, "GET", path, token).decode("utf-8", "replace"))

    return _run(draft, args)


EXITS = (
    "exit codes: 0 ok; 1 usage (unknown incident or monitor, refused token, a closed incident"
    " for ack); 2 the daemon is unreachable or failed"
)


def _limit(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 100):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number from 1 to 100")
    return int(text)


def _parser(sub: Any, name: str, help: str, examples: str) -> argparse.ArgumentParser:
    return api_parser(sub, name, help, examples, EXITS)


def add_incident_commands(sub: Any) -> Any:
    """incidents, incident show, ack and postmortem, on the CLI's sub-parsers; the
    ``incident`` command's actions (``probed.cli.updates_cmd`` adds ``open``)."""
    p = _parser(
        sub,
        "incidents",
        "table of incidents, newest first",
        '  probed incidents --open\n  probed incidents --monitor "Backend API" --since 7d\n'
        "  probed incidents --json | jq '.incidents[] | {id, time_to_resolve_seconds}'",
    )
    p.add_argument("--open", action="store_true", help="only incidents still open")
    p.add_argument("--monitor", metavar="NAME", help="only this monitor's (name or id)")
    p.add_argument(
        "--since", metavar="WHEN", help="only those not over before WHEN: a time or a duration ago"
    )
    p.add_argument(
        "--limit", type=_limit, default=50, metavar="N", help="at most N (1-100, default 50)"
    )
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")
    p.set_defaults(func=cmd_incidents)

    incident = sub.add_parser(
        "incident",
        help="one incident: show ID, or open a manual one",
        description="One incident, with its timeline and (with the API token) its evidence;"
        " or open a manual incident.",
        epilog=f"examples:\n  probed incident show INC-2026-014\n"
        f'  probed incident open "Voice calls failing" --monitor "Voice API"\n\n{EXITS}',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = incident.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _parser(
        actions,
        "show",
        "one incident with its timeline, and its evidence with the API token",
        "  probed incident show INC-2026-014\n  probed incident show INC-2026-014 --json",
    )
    p.add_argument("id", metavar="ID", help="the incident's ID, e.g. INC-2026-014")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")
    p.set_defaults(func=cmd_incident_show)

    p = _parser(
        sub,
        "ack",
        "acknowledge an open incident: no more reminders or escalations (the UP still goes out)",
        '  probed ack INC-2026-014\n  probed ack INC-2026-014 --by alice --note "DB failover"',
    )
    p.add_argument("id", metavar="ID", help="the incident's ID, e.g. INC-2026-014")
    p.add_argument("--by", metavar="NAME", help="who acknowledges (default: $USER)")
    p.add_argument("--note", metavar="TEXT", help="a note on the timeline")
    p.set_defaults(func=cmd_ack)

    p = _parser(
        sub,
        "postmortem",
        "print a post-mortem draft of an incident (Markdown)",
        "  probed postmortem INC-2026-014 > INC-2026-014.md",
    )
    p.add_argument("id", metavar="ID", help="the incident's ID, e.g. INC-2026-014")
    p.set_defaults(func=cmd_postmortem)
    return actions
