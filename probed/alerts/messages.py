"""Outbox rows → the message a person reads: subject, plain text and HTML (docs/design.md §4).

Rendering reads only the stored payloads, so a message rendered after a restart is the same
as the one that would have gone out before it. Everything that comes from a target or the
config (names, URLs, reasons) is HTML-escaped in the HTML part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from probed.alerts.alert_html import Page, page
from probed.alerts.evidence_text import (
    evidence_fields,
    excerpt,
    first_line,
    link_fields,
    timings_line,
)
from probed.alerts.payload import CheckFacts, Payload
from probed.config.reader import CONTROL_CHARS
from probed.model import AlertKind
from probed.reports import render as report_render
from probed.reports.figures import Report
from probed.units import counted, format_span

# A subject is one line in every channel, and in email a line break starts a header.
_BREAKS = re.compile(CONTROL_CHARS + "+")
_LINK_LABELS = {"Incident": "Incident page"}
_LOUD_REASON = (AlertKind.DOWN, AlertKind.REMINDER, AlertKind.DEGRADED)


@dataclass(frozen=True, slots=True)
class Message:
    """One alert message, ready for any channel."""

    kind: AlertKind
    subject: str
    text: str
    html: str
    message_id: str
    """Stable per alert (or per digest), so a resend after a crash can be deduplicated."""
    date: datetime
    payloads: tuple[Payload, ...] = ()
    """What it was rendered from, for channels that send structured data (webhook,
    Alertmanager): one payload, or a digest's."""
    digest_of: AlertKind | None = None
    """For a digest: the kind of the alerts it gathers."""


def format_time(value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS UTC``; ``-`` for None."""
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def subject(
    kind: AlertKind, payloads: Sequence[Payload], digest_of: AlertKind | None = None
) -> str:
    """The subject line, with no line breaks or other control characters; a digest counts its
    monitors (``[probed] DOWN: 17 monitors``)."""
    return _BREAKS.sub(" ", _subject(kind, payloads, digest_of))


def _subject(kind: AlertKind, payloads: Sequence[Payload], digest_of: AlertKind | None) -> str:
    p = payloads[0]
    name = p.monitor
    if kind is AlertKind.DIGEST:
        names = {q.monitor for q in payloads}
        word = "UP" if digest_of is AlertKind.UP else "DOWN"
        return f"[probed] {word}: {len(names)} monitor{'s' * (len(names) != 1)}"
    # The incident ID leads the parenthesis: it is what a reader quotes and searches for.
    inc = f"{p.incident}, " if p.incident else ""
    if kind is AlertKind.DOWN:
        return f"[probed] DOWN: {name} ({p.incident})" if p.incident else f"[probed] DOWN: {name}"
    if kind is AlertKind.UP:
        return f"[probed] UP: {name} ({inc}down {format_span(p.outage_seconds or 0)})"
    if kind is AlertKind.REMINDER:
        return f"[probed] STILL DOWN: {name} ({inc}down {format_span(p.outage_seconds or 0)})"
    if kind is AlertKind.SSL:
        days = p.days_left or 0
        return f"[probed] SSL: {name} certificate expires in {days} day{'s' * (days != 1)}"
    if kind is AlertKind.DOMAIN:
        days = p.days_left or 0
        return f"[probed] DOMAIN: {name} {p.text} expires in {days} day{'s' * (days != 1)}"
    if kind is AlertKind.DEGRADED:
        return f"[probed] DEGRADED: {name} (slow responses)"
    if kind is AlertKind.RECOVERED:
        return f"[probed] RECOVERED: {name} (responses fast again)"
    return f"[probed] TEST: {p.text or 'alert channel test'}"


def render(
    kind: AlertKind,
    payloads: Sequence[Payload],
    message_id: str,
    date: datetime,
    digest_of: AlertKind | None = None,
) -> Message:
    """The message for one alert, or for a digest (``kind`` DIGEST) of DOWN or UP alerts."""
    if kind is AlertKind.REPORT and (figures := payloads[0].report) is not None:
        return _report(figures, payloads, message_id, date)
    title = subject(kind, payloads, digest_of)
    footer = "Sent by probed. Message-ID " + message_id
    if kind is AlertKind.DIGEST:
        look, text = _digest(payloads, digest_of, title)
    else:
        look, text = _single(kind, payloads[0], title)
    text += ["", "-- ", footer]
    text_body = "\n".join(text) + "\n"
    html = page(replace(look, footer=footer))
    return Message(kind, title, text_body, html, message_id, date, tuple(payloads), digest_of)


def _report(
    figures: Mapping[str, Any], payloads: Sequence[Payload], message_id: str, date: datetime
) -> Message:
    """The report mail: its own text and HTML (probed.reports.render), from the stored
    figures."""
    report, zone = Report.from_json(figures), str(figures.get("zone") or "UTC")
    footer = f"\n-- \nSent by probed. Message-ID {message_id}\n"
    return Message(
        AlertKind.REPORT,
        _BREAKS.sub(" ", f"[probed] {report_render.title(report, zone)}"),
        report_render.text(report, zone) + footer,
        report_render.page(report, zone),
        message_id,
        date,
        tuple(payloads),
    )


def _digest(
    payloads: Sequence[Payload], digest_of: AlertKind | None, title: str
) -> tuple[Page, list[str]]:
    """The HTML's parts and the text's lines (without the footer) of a digest."""
    sections = [_digest_section(p, digest_of) for p in payloads]
    intro = f"{len(sections)} alerts arrived together and are sent as one message."
    count = len({p.monitor for p in payloads})
    name = f"{count} monitor{'s' * (count != 1)}"
    text = [intro]
    for heading, lines in sections:
        text += ["", heading, *(f"  {line}" for line in lines)]
    return Page(digest_of or AlertKind.DIGEST, name, intro, title, sections=sections), text


def _single(kind: AlertKind, p: Payload, title: str) -> tuple[Page, list[str]]:
    """The HTML's parts and the text's lines (without the footer) of one alert."""
    intro, fields = _fields(kind, p)
    if p.incident:
        fields.insert(0, ("Incident", p.incident))
    facts = evidence_fields(p)
    cut = excerpt(p.evidence) if p.evidence is not None and p.evidence.body else None
    sections, links = _checks(p), link_fields(p)
    text = [intro, ""] + [f"{label + ':':<15}{value}" for label, value in fields + facts]
    if cut is not None:
        text += ["", "Response body:", *(f"    {line}" for line in cut.text.splitlines())]
        text += ["    (truncated)"] if cut.truncated else []
    for heading, lines in sections:
        text += ["", heading, *(f"  {line}" for line in lines)]
    if links:
        text += [""] + [f"{_LINK_LABELS.get(k, k) + ':':<15}{url}" for k, url in links]
    # The HTML shows the reason of a failure in large type, not in the table.
    loud = kind in _LOUD_REASON
    look = Page(
        kind,
        p.monitor if kind is not AlertKind.TEST else (p.text or "alert channel test"),
        intro,
        title,
        reason=p.reason if loud else "",
        incident=p.incident,
        fields=[(k, v) for k, v in fields if not (loud and k == "Reason")] + facts,
        excerpt=cut,
        headers=p.evidence.headers if p.evidence is not None else (),
        sections=sections,
        links=links,
    )
    return look, text


def _fields(kind: AlertKind, p: Payload) -> tuple[str, list[tuple[str, str]]]:
    name, url = p.monitor, ("URL", p.url)
    start = ("Outage start", format_time(p.outage_start))
    if kind is AlertKind.DOWN:
        intro = f"{name} is DOWN."
        confirmed = ("Confirmed at", format_time(p.at))
        return intro, [url, ("Reason", p.reason), start, confirmed]
    if kind is AlertKind.UP:
        span = format_span(p.outage_seconds or 0)
        intro = f"{name} is UP again after {span} down."
        recovered = ("Recovered at", format_time(p.at))
        because = ("Down because", p.reason)
        return intro, [url, ("Downtime", span), because, start, recovered]
    if kind is AlertKind.REMINDER:
        span = format_span(p.outage_seconds or 0)
        intro = f"{name} is still DOWN, for {span} now."
        return intro, [url, ("Reason", p.reason), start]
    if kind is AlertKind.SSL:
        intro = f"The TLS certificate of {name} expires in {counted(p.days_left or 0, 'day')}."
        expires = ("Expires at", format_time(p.cert_expires_at))
        return intro, [url, expires, ("Last check", p.reason)]
    if kind is AlertKind.DOMAIN:
        intro = (
            f"The registration of {p.text}, the domain of {name}, expires in"
            f" {counted(p.days_left or 0, 'day')}."
        )
        return intro, [url, ("Expires at", format_time(p.cert_expires_at)), ("Reason", p.reason)]
    if kind in (AlertKind.DEGRADED, AlertKind.RECOVERED):
        word = "slow (degraded performance)" if kind is AlertKind.DEGRADED else "fast again"
        return f"{name} is up but {word}." if kind is AlertKind.DEGRADED else (
            f"{name} answers {word}."
        ), [url, ("Reason", p.reason), ("At", format_time(p.at))]
    return p.text, list(p.fields)


def _checks(p: Payload) -> list[tuple[str, list[str]]]:
    checks = p.checks
    if not checks:
        return []
    heading = "Failed checks" if not checks[-1].ok else "Last check"
    return [(heading, [_check_line(c) for c in checks])]


def _check_line(c: CheckFacts) -> str:
    parts = [format_time(c.at), c.reason]
    if c.status_code is not None:
        parts.append(f"status {c.status_code}")
    return " · ".join([*parts, timings_line(c.timings)])


def _digest_section(p: Payload, digest_of: AlertKind | None) -> tuple[str, list[str]]:
    lines = [f"URL: {p.url}", f"Reason: {p.reason}"]
    lines.append(f"Outage start: {format_time(p.outage_start)}")
    if line := first_line(p):
        lines.append(f"Evidence: {line}")
    if digest_of is AlertKind.UP:
        lines.insert(0, f"UP again after {format_span(p.outage_seconds or 0)} down")
    return (f"{p.monitor} ({p.incident})" if p.incident else p.monitor), lines
