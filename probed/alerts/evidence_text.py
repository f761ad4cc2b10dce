"""An incident's facts as a message shows them (docs/design.md §4.2, §17): the evidence's
fields, the last good check, the body's first lines, and the incident's links.

Plain strings only; the HTML part escapes them (``alerts/alert_html``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from probed.alerts.payload import CheckFacts, Payload
from probed.config.reader import CONTROL_CHARS
from probed.evidence import Evidence
from probed.model import Timings

BODY_LINES: Final = 20
BODY_BYTES: Final = 2048
"""A message shows at most this much of the body; the incident keeps the rest."""
ONE_LINE: Final = 300
"""Where a single line of evidence is cut (Alertmanager annotations, short messages)."""

_BREAKS = re.compile(CONTROL_CHARS + "+")
_PHASES = (("dns", "dns"), ("connect", "connect"), ("tls", "tls"), ("first_byte", "first byte"))


@dataclass(frozen=True, slots=True)
class Excerpt:
    """The first lines of a body, bounded for a message."""

    text: str
    truncated: bool
    """Less than the whole body: cut here, or already cut when the evidence was taken."""


def ms(seconds: float | None) -> str:
    """``84.0 ms``; ``-`` for None."""
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def timings_line(t: Timings) -> str:
    """``dns 1.0 ms · connect 2.0 ms · first byte 30.0 ms · total 31.0 ms``."""
    phases = [(label, getattr(t, key)) for key, label in _PHASES]
    parts = [f"{label} {ms(value)}" for label, value in phases if value is not None]
    return " · ".join([*parts, f"total {ms(t.total)}"])


def one_line(text: str, limit: int = ONE_LINE) -> str:
    """``text`` with line breaks and control characters as spaces, at most ``limit`` long."""
    flat = _BREAKS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def first_line(p: Payload) -> str:
    """The evidence's one line (``HTTP/1.1 503 Service Unavailable: { "error": …``), or ""."""
    ev = p.evidence
    if ev is None:
        return ""
    if ev.status_line and ev.body.strip():
        # The body's start with its whitespace folded rather than its first line, which for
        # pretty-printed JSON or HTML is a lone "{" or "<!DOCTYPE html>".
        start = " ".join(ev.body[: ONE_LINE * 2].split())
        return one_line(f"{ev.status_line}: {start}")
    return one_line(ev.first_line())


def excerpt(ev: Evidence) -> Excerpt:
    """At most ``BODY_LINES`` lines and ``BODY_BYTES`` bytes (UTF-8) of the body."""
    lines = ev.body.splitlines()
    cut = len(lines) > BODY_LINES
    text = "\n".join(lines[:BODY_LINES])
    data = text.encode()
    if len(data) > BODY_BYTES:
        # errors="ignore" drops a character split by the cut rather than show a broken one.
        text, cut = data[:BODY_BYTES].decode(errors="ignore"), True
    return Excerpt(text, cut or ev.body_truncated)


def last_good_line(good: CheckFacts, at: datetime | None) -> str:
    """``12:03:10 UTC, HTTP 200 in 84 ms``: the time alone when it is the alert's day."""
    when = "-"
    if good.at is not None:
        t = good.at.astimezone(UTC)
        same_day = at is not None and at.astimezone(UTC).date() == t.date()
        when = t.strftime("%H:%M:%S UTC" if same_day else "%Y-%m-%d %H:%M:%S UTC")
    status = f"HTTP {good.status_code}" if good.status_code is not None else good.reason or "up"
    return f"{when}, {status} in {good.timings.total * 1000:.0f} ms"


def evidence_fields(p: Payload) -> list[tuple[str, str]]:
    """Label and value pairs of what the target answered, and the last good check."""
    out: list[tuple[str, str]] = []
    ev = p.evidence
    if ev is not None:
        if ev.status_line:
            out.append(("Status line", ev.status_line))
        if ev.error:
            out.append(("Error", ev.error))
        if ev.address:
            out.append(("Address", ev.address))
        out += list(ev.facts)
        if ev.certificate is not None:
            c = ev.certificate
            expiry = "-" if c.not_after is None else c.not_after.strftime("%Y-%m-%d")
            out.append(("Certificate", f"{c.subject} (issuer {c.issuer}, expires {expiry})"))
        failed = p.checks[-1] if p.checks and not p.checks[-1].ok else None
        if failed is not None:
            out.append(("Timings", timings_line(failed.timings)))
    if p.last_good is not None:
        out.append(("Last good", last_good_line(p.last_good, p.at)))
    return out


def link_fields(p: Payload) -> list[tuple[str, str]]:
    """The acknowledgement link, the runbook and the incident's page, those that are set."""
    links = [("Acknowledge", p.ack_url), ("Runbook", p.runbook), ("Incident", p.incident_url)]
    return [(label, url) for label, url in links if url]


def safe_href(url: str) -> str | None:
    """``url`` when a link may point there (http or https), else None."""
    return url if url.lower().startswith(("https://", "http://")) else None
