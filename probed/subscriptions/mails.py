"""What subscribers receive (docs/design.md §18.4): the confirmation mail, incident news and
maintenance notices as mails (text and HTML, every text escaped in the HTML), and the same
events as JSON documents for webhook subscribers. Pure: the callers give every fact and link.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from html import escape
from typing import Any

from probed.store.incidents import IncidentRow, UpdateRow
from probed.units import iso

STAGE_WORDS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}


@dataclass(frozen=True, slots=True)
class Letter:
    """One mail, ready for one subscriber; ``unsubscribe`` is the one-click URL (RFC 8058)."""

    kind: str
    subject: str
    text: str
    html: str
    unsubscribe: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Letter:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Event:
    """An incident's news or a maintenance notice, before it is addressed to anyone."""

    kind: str
    """``opened``, ``updated``, ``resolved`` or ``maintenance``."""
    headline: str
    lines: tuple[str, ...]
    document: dict[str, Any]
    """The webhook subscribers' JSON."""


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def incident_event(kind: str, row: IncidentRow, update: UpdateRow | None, at: datetime) -> Event:
    """The news of ``row``: opened, an update posted, or resolved."""
    name = row.title or f"{row.monitor} is down"
    stage = update.stage if update is not None else ("resolved" if kind == "resolved" else None)
    word = STAGE_WORDS.get(stage or "", "Resolved" if kind == "resolved" else "Investigating")
    headline = {
        "opened": f"Incident: {name}",
        "updated": f"{word}: {name}",
        "resolved": f"Resolved: {name}",
    }[kind]
    lines = [f"{word} — {_when(at)}"]
    if update is not None:
        lines.append(update.text)
    elif kind == "opened":
        lines.append(f"We are investigating a problem with {row.monitor}.")
    else:
        lines.append("This incident is resolved.")
    document: dict[str, Any] = {
        "event": f"incident.{kind}",
        "incident": {
            "id": row.code,
            "title": name,
            "monitors": row.monitor,
            "stage": row.stage,
            "started": iso(row.started),
            "ended": iso(row.ended or (at if kind == "resolved" else None)),
        },
        "at": iso(at),
    }
    if update is not None:
        document["update"] = {"stage": update.stage, "text": update.text, "at": iso(update.at)}
    return Event(kind, f"{headline} ({row.code})", tuple(lines), document)


def maintenance_event(name: str, monitors: str, start: datetime, end: datetime) -> Event:
    """A notice of planned work, sent a day before it starts."""
    span = f"{_when(start)} – {end.strftime('%H:%M UTC')}"
    return Event(
        "maintenance",
        f"Scheduled maintenance: {name}",
        (f"Scheduled maintenance, {span}: {monitors}",),
        {
            "event": "maintenance.scheduled",
            "maintenance": {
                "name": name,
                "monitors": monitors,
                "start": iso(start),
                "end": iso(end),
            },
        },
    )


def letter(event: Event, title: str, page: str, unsubscribe: str) -> Letter:
    """``event`` as a mail from the status page ``title`` with its links."""
    footer = f"Status page: {page}\nUnsubscribe: {unsubscribe}"
    text = "\n\n".join([event.headline, *event.lines, footer]) + "\n"
    body = "".join(f"<p>{escape(line)}</p>" for line in event.lines)
    html = (
        f'<!doctype html><html><body style="font-family:sans-serif;max-width:600px">'
        f"<h2>{escape(event.headline)}</h2>{body}"
        f'<p><a href="{escape(page)}">{escape(title)}</a></p>'
        f'<p style="font-size:small"><a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
        f"</body></html>"
    )
    return Letter(event.kind, one_line(f"[{title}] {event.headline}"), text, html, unsubscribe)


def confirmation(title: str, confirm: str) -> Letter:
    """The double opt-in mail: nothing else is sent until its link is followed."""
    lines = (
        f"Someone (we hope you) asked for updates from {title} at this address.",
        f"To confirm, open this link and press the button: {confirm}",
        "If it was not you, ignore this mail: nothing more will be sent.",
    )
    text = "\n\n".join(lines) + "\n"
    html = (
        '<!doctype html><html><body style="font-family:sans-serif;max-width:600px">'
        f"<p>{escape(lines[0])}</p>"
        f'<p><a href="{escape(confirm)}">Confirm the subscription</a></p>'
        f"<p>{escape(lines[2])}</p></body></html>"
    )
    return Letter("confirm", one_line(f"[{title}] Confirm your subscription"), text, html)


def one_line(text: str) -> str:
    """A subject: a title may hold line breaks (and a header none), so each run of
    whitespace or control characters becomes one space."""
    return " ".join("".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text).split())
