"""A post-mortem draft of one incident in the guide's template (docs/design.md §17.4): Markdown
with the facts filled in and the headings a person completes (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from probed.history.slo import Budget
from probed.store.incidents import IMPACT_TEXT, Event, IncidentRow
from probed.units import format_span

PLACEHOLDER = "_To be written: {what}._"
NEEDS_TOKEN = (
    "_The evidence is shown to holders of the API token only: ask again with"
    " `Authorization: Bearer <api_token>` (`probed postmortem` sends it when configured)._"
)
_ROLES = (
    ("opened", "First failed check"),
    ("confirmed", "Check that confirmed the outage"),
)


def postmortem(
    row: IncidentRow,
    events: Sequence[Event],
    evidence: Mapping[str, Any] | None,
    uptime_30d: float | None,
    budget: Budget | None,
    now: datetime,
) -> str:
    """The draft; ``evidence`` None when the reader may not see it, ``budget`` None when the
    monitor has no ``slo``; an open incident's duration runs to ``now``."""
    end = row.ended or now
    seconds = max(0.0, (end - row.started).total_seconds())
    ack = "not acknowledged"
    if row.acked is not None:
        ack = f"{_span(row.ack_seconds())} (by {_inline(row.acked_by or '?')})"
    lines = [
        f"# Post-mortem: {row.code}",
        "",
        f"- **Incident ID:** {row.code}",
        *([f"- **Title:** {_inline(row.title)}"] if row.title else []),
        f"- **Severity:** {row.severity or 'unknown'}",
        f"- **Start:** {_time(row.started)} ({'opened' if row.manual else 'first failed check'})",
        f"- **Confirmed:** {_time(row.confirmed)}",
        f"- **End:** {_time(row.ended) if row.ended else 'ongoing'}",
        f"- **Duration:** {format_span(round(seconds))}{'' if row.ended else ' so far'}",
        f"- **Impact:** {_impact(row, seconds, uptime_30d, budget)}",
        f"- **Time to acknowledge:** {ack}",
        f"- **Time to resolve:** {_span(row.resolve_seconds()) if row.ended else 'open'}",
    ]
    if row.runbook:
        lines.append(f"- **Runbook:** {row.runbook}")
    lines += ["", "## Timeline", "", "| Time (UTC) | Event |", "|---|---|"]
    lines += [f"| {_time(e.at)} | {_cell(describe(e))} |" for e in events]
    lines += ["", "## Evidence", ""]
    lines += _evidence(evidence)
    for heading, what in (
        ("Root cause", "what failed and why"),
        ("Resolution", "what brought the service back"),
        ("Prevention", "what keeps it from happening again, with owners"),
    ):
        lines += ["", f"## {heading}", "", PLACEHOLDER.format(what=what)]
    return "\n".join(lines) + "\n"


def describe(event: Event) -> str:
    """A timeline entry in words."""
    d = event.detail
    reason = str(d.get("reason") or "")
    match event.kind:
        case "failed":
            return f"First failed check: {reason}" if reason else "First failed check"
        case "down":
            return f"Confirmed down: {reason}" if reason else "Confirmed down"
        case "alert":
            return f"{str(d.get('kind', '')).upper()} alert sent via {d.get('channel', '?')}"
        case "ack":
            note = f": {d['note']}" if d.get("note") else ""
            return f"Acknowledged by {d.get('by', '?')}{note}"
        case "escalated":
            channels = d.get("channels") or []
            names = ", ".join(map(str, channels)) if isinstance(channels, list) else channels
            return f"Escalated (step {d.get('step', '?')}) to {names}"
        case "update":
            return f"Update ({d.get('stage', '?')}): {d.get('text', '')}"
        case "opened":
            by = f" by {d['by']}" if d.get("by") else ""
            return f"Opened{by}: {d.get('title', '')}"
        case "recovered":
            return f"Recovered: {reason}" if reason else "Recovered"
    rest = ", ".join(f"{k}: {v}" for k, v in d.items())
    return f"{event.kind.capitalize()}{': ' + rest if rest else ''}"


def _impact(row: IncidentRow, seconds: float, uptime: float | None, budget: Budget | None) -> str:
    took = format_span(round(seconds))
    if row.manual:  # no measured outage: what the page showed, and for how long
        shown = IMPACT_TEXT.get(row.impact or "", "Degraded")
        names = _inline(row.monitor) or "none"
        return f"manual incident: monitors {names} shown as {shown} for {took}"
    parts = [f"monitor {_inline(row.monitor)} down for {took}"]
    parts.append(
        "30-day uptime: no data" if uptime is None else f"30-day uptime {_percent(uptime)}"
    )
    if budget is not None:
        objective = f"SLO {budget.objective * 100:g}%"
        if budget.allowed_seconds > 0:
            used = seconds / budget.allowed_seconds * 100
            parts.append(f"{objective}: this incident used {used:.1f}% of the error budget")
        else:
            parts.append(f"{objective}: no error budget yet (nothing monitored in 30 days)")
    return "; ".join(parts)


def _evidence(evidence: Mapping[str, Any] | None) -> list[str]:
    if evidence is None:
        return [NEEDS_TOKEN]
    out: list[str] = []
    for role, title in _ROLES:
        check = evidence.get(role)
        if not isinstance(check, Mapping):
            continue
        out += [f"### {title}", "", f"- **At:** {check.get('at')}"]
        out.append(f"- **Reason:** {_inline(str(check.get('reason', '')))}")
        out += _answer(check.get("evidence"))
        out.append("")
    good = evidence.get("last_good")
    if isinstance(good, Mapping):
        took = good.get("response_seconds")
        ms = "" if took is None else f", {float(took) * 1000:.0f} ms"
        out += [
            "### Last good check",
            "",
            f"- {good.get('at')}: {_inline(str(good.get('reason', '')))}{ms}",
            "",
        ]
    return out[:-1] if out else ["_No evidence was kept for this incident._"]


def _answer(ev: object) -> list[str]:
    """The target's answer: status line, address, headers and body (fenced)."""
    if not isinstance(ev, Mapping):
        return []
    out = [f"- **URL:** {_inline(str(ev.get('url', '')))}"]
    for key, label in (
        ("status_line", "Status line"),
        ("address", "Address"),
        ("http_version", "HTTP version"),
        ("error", "Error"),
    ):
        if ev.get(key):
            out.append(f"- **{label}:** {_inline(str(ev[key]))}")
    for label, value in ev.get("facts") or ():
        out.append(f"- **{_inline(str(label))}:** {_inline(str(value))}")
    cert = ev.get("certificate")
    if isinstance(cert, Mapping):
        sans = ", ".join(map(str, cert.get("sans") or ()))
        out.append(
            f"- **Certificate:** {_inline(str(cert.get('subject')))}, issued by"
            f" {_inline(str(cert.get('issuer')))}, SANs {_inline(sans) or '-'},"
            f" expires {cert.get('not_after')}"
        )
    headers = ev.get("headers") or []
    if headers:
        out += ["", "Headers:", "", *_fenced("\n".join(f"{k}: {v}" for k, v in headers))]
    if ev.get("body") or ev.get("body_bytes"):
        more = ", more followed" if ev.get("body_truncated") else ""
        out += ["", f"Body (first {ev.get('body_bytes', 0)} bytes{more}):", ""]
        out += _fenced(str(ev.get("body", "")))
    return out


def _fenced(text: str) -> list[str]:
    """``text`` in a code block whose fence is longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def _inline(text: str) -> str:
    """Text from a target or monitors.toml on one Markdown line: no line breaks."""
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _time(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float | None) -> str:
    return "-" if seconds is None else format_span(max(0, round(seconds)))


def _percent(ratio: float) -> str:
    # Truncated, as the status page does: 99.999 % never reads as 100.00 %.
    return "100%" if ratio >= 1 else f"{int(ratio * 10000) / 100:.2f}%"
