"""A report as a person reads it (docs/design.md §18.6): plain text, Markdown, HTML and JSON,
all from one set of phrases so the formats say the same. Names and titles come from the
config and from people: the HTML escapes them, the Markdown escapes its table characters."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from probed.reports.figures import (
    TARGET_SECONDS,
    IncidentFigures,
    MonitorFigures,
    Report,
    Response,
)
from probed.units import format_span

FORMATS = ("text", "markdown", "html", "json")


@dataclass(frozen=True, slots=True)
class Section:
    """One monitor (or the totals): a heading, labelled lines and incident lines."""

    heading: str
    fields: tuple[tuple[str, str], ...]
    incidents: tuple[str, ...] = ()


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


def _change(now: float | None, before: float | None) -> str:
    """The change in percentage points (``+0.05 pp``); empty when either is unknown."""
    if now is None or before is None:
        return ""
    return f", {(now - before) * 100:+.2f} pp"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def _time(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def title(report: Report, zone: str = "UTC") -> str:
    return (
        f"probed {report.label}ly report: {_time(report.start, zone)} to"
        f" {_time(report.end, zone)} {zone}"
    )


def sections(report: Report, zone: str = "UTC") -> list[Section]:
    """The totals, then each monitor in the order given."""
    t = report.totals()
    totals = [
        ("Monitors", str(t.monitors)),
        (
            "Uptime",
            f"{percent(t.uptime)} (previous {percent(t.previous_uptime)}"
            f"{_change(t.uptime, t.previous_uptime)})",
        ),
        ("Incidents", f"{t.incidents} (previous {t.previous_incidents})"),
        ("Downtime", format_span(t.down_seconds)),
        (
            "Answered",
            f"acknowledged after {_span(t.mean_ack_seconds)} and resolved after"
            f" {_span(t.mean_resolve_seconds)} on average",
        ),
        ("Below SLO", ", ".join(t.missing_slo) or "none"),
    ]
    out = [Section("Totals", tuple(totals))]
    out += [_monitor(m, zone) for m in report.monitors]
    return out


def _span(seconds: float | None) -> str:
    return "-" if seconds is None else format_span(seconds)


def _monitor(m: MonitorFigures, zone: str) -> Section:
    fields = [
        (
            "Uptime",
            f"{percent(m.uptime)} (previous {percent(m.previous_uptime)}"
            f"{_change(m.uptime, m.previous_uptime)})",
        ),
        ("30 days", _slo(m)),
        ("Response", _response(m.response, m.slow_threshold)),
        ("Previously", _response(m.previous_response, None)),
        ("Incidents", f"{len(m.incidents)} (previous {m.previous_incidents})"),
    ]
    return Section(m.name, tuple(fields), tuple(_incident(i, zone) for i in m.incidents))


def _slo(m: MonitorFigures) -> str:
    if m.slo is None:
        return f"{percent(m.uptime_30d)} (no slo set)"
    met = "met" if m.meets_slo() else "missed"
    left = m.budget_left_seconds or 0.0
    budget = (
        f"error budget left {format_span(left)} ({percent(m.budget_left_ratio)})"
        if left >= 0
        else f"error budget overspent by {format_span(-left)}"
    )
    return f"{percent(m.uptime_30d)} against SLO {percent(m.slo)}: {met}, {budget}"


def _response(r: Response, slow: float | None) -> str:
    if r.mean is None:
        return "no good checks"
    p95 = _ms(r.p95) + ("" if r.p95_exact else " (from hourly means where raw checks are gone)")
    marks = [f"target {_ms(TARGET_SECONDS)}: {_against(r, TARGET_SECONDS)}"]
    if slow is not None:
        marks.append(f"slow_threshold {_ms(slow)}: {_against(r, slow)}")
    return f"mean {_ms(r.mean)}, p95 {p95}; {'; '.join(marks)}"


def _against(r: Response, limit: float) -> str:
    if r.p95 is not None and r.p95 <= limit:
        return "p95 within"
    if r.mean is not None and r.mean <= limit:
        return "mean within, p95 over"
    return "over"


def _incident(i: IncidentFigures, zone: str) -> str:
    took = _span(i.duration_seconds)
    lasted = f"ongoing for {took}" if i.ongoing else f"lasted {took}"
    ack = (
        "not acknowledged"
        if i.ack_seconds is None
        else f"acknowledged after {_span(i.ack_seconds)}"
    )
    fixed = "" if i.resolve_seconds is None else f", resolved after {_span(i.resolve_seconds)}"
    return f"{i.id} {i.title}: started {_time(i.started, zone)}, {lasted}, {ack}{fixed}"


def text(report: Report, zone: str = "UTC") -> str:
    lines = [title(report, zone), ""]
    for s in sections(report, zone):
        lines.append(s.heading)
        width = max(len(label) for label, _ in s.fields)
        lines += [f"  {label.ljust(width)}  {value}" for label, value in s.fields]
        lines += [f"    {line}" for line in s.incidents]
        lines.append("")
    return "\n".join(lines)


def _md(value: str) -> str:
    # Characters that would end a table cell, start markup or a link in a name.
    for ch in "\\|*_`[]<>":
        value = value.replace(ch, "\\" + ch)
    return value


def markdown(report: Report, zone: str = "UTC") -> str:
    lines = [f"# {_md(title(report, zone))}", ""]
    for s in sections(report, zone):
        lines += [f"## {_md(s.heading)}", "", "| | |", "|---|---|"]
        lines += [f"| {label} | {_md(value)} |" for label, value in s.fields]
        lines.append("")
        lines += [f"- {_md(line)}" for line in s.incidents]
        if s.incidents:
            lines.append("")
    return "\n".join(lines)


_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;color:#1b1f24;max-width:46em;margin:1em auto}"
    "h1{font-size:18px}h2{font-size:15px;margin:1.4em 0 .3em}"
    "table{border-collapse:collapse}td{padding:2px 10px 2px 0;vertical-align:top}"
    "td:first-child{color:#57606a;white-space:nowrap}ul{margin:.3em 0;padding-left:1.2em}"
)


def page(report: Report, zone: str = "UTC") -> str:
    """A whole HTML document, styled inline (mail clients drop linked style sheets)."""
    e = html.escape
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title(report, zone))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title(report, zone))}</h1>",
    ]
    for s in sections(report, zone):
        rows = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in s.fields)
        parts.append(f"<h2>{e(s.heading)}</h2><table>{rows}</table>")
        if s.incidents:
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in s.incidents) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def as_json(report: Report) -> str:
    """The figures with the totals, as ``probed report --format json`` prints them."""
    t = report.totals()
    totals = {
        "monitors": t.monitors,
        "uptime": t.uptime,
        "previous_uptime": t.previous_uptime,
        "incidents": t.incidents,
        "previous_incidents": t.previous_incidents,
        "down_seconds": t.down_seconds,
        "below_slo": list(t.missing_slo),
        "mean_ack_seconds": t.mean_ack_seconds,
        "mean_resolve_seconds": t.mean_resolve_seconds,
    }
    return json.dumps({"totals": totals, **report.to_json()}, indent=2, ensure_ascii=False)


def render(report: Report, fmt: str, zone: str = "UTC") -> str:
    """The report in one of FORMATS."""
    if fmt == "json":
        return as_json(report)
    return {"text": text, "markdown": markdown, "html": page}[fmt](report, zone)
