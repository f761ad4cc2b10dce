"""The HTML part of an alert email: a state-coloured band, the facts, the evidence and the
incident's buttons, readable on a phone (docs/design.md §4.2).

Mail clients drop ``<style>`` blocks and ignore most of CSS, so every style is inline and the
layout is one centred column of at most 600 px that narrows with the screen. Every value is
HTML-escaped here; callers pass plain text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from probed.alerts.evidence_text import Excerpt, safe_href
from probed.model import AlertKind

RED, GREEN, AMBER, GREY = "#b42318", "#1a7f37", "#9a6700", "#57606a"
COLOURS: Final = {
    AlertKind.DOWN: RED,
    AlertKind.UP: GREEN,
    AlertKind.REMINDER: AMBER,
    AlertKind.SSL: AMBER,
    AlertKind.DEGRADED: AMBER,
    AlertKind.RECOVERED: GREEN,
    AlertKind.DOMAIN: AMBER,
}
WORDS: Final = {
    AlertKind.DOWN: "DOWN",
    AlertKind.UP: "UP",
    AlertKind.REMINDER: "STILL DOWN",
    AlertKind.SSL: "CERTIFICATE EXPIRING",
    AlertKind.DEGRADED: "DEGRADED",
    AlertKind.RECOVERED: "RECOVERED",
    AlertKind.TEST: "TEST",
    AlertKind.DOMAIN: "DOMAIN EXPIRING",
}
MAX_HEADERS: Final = 40
"""Response headers shown; the incident keeps all of them."""

_FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,monospace"
# Long URLs and bodies without spaces must wrap instead of widening the page on a phone.
_WRAP = "overflow-wrap:anywhere;word-break:break-word;"
_PRE = (
    f"margin:0;padding:10px 12px;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;"
    f"font:12px/1.45 {_MONO};white-space:pre-wrap;{_WRAP}overflow-x:auto;max-width:100%;"
)
# Headings are also names (a digest's monitors): shown as written, never in capitals.
_H = f"margin:18px 0 6px;font-size:15px;{_WRAP}"


@dataclass(frozen=True, slots=True)
class Page:
    """What one alert's HTML shows; every string is plain text."""

    kind: AlertKind
    """The kind whose colour the band takes (a digest: the kind it gathers)."""
    title: str
    """The band's large line: the monitor, or ``17 monitors``."""
    intro: str
    subject: str
    reason: str = ""
    incident: str = ""
    fields: Sequence[tuple[str, str]] = ()
    excerpt: Excerpt | None = None
    headers: Sequence[tuple[str, str]] = ()
    sections: Sequence[tuple[str, Sequence[str]]] = ()
    links: Sequence[tuple[str, str]] = field(default=())
    """Button label and URL: Acknowledge, Runbook, Incident."""
    footer: str = ""


def page(p: Page) -> str:
    """The whole HTML document."""
    colour = COLOURS.get(p.kind, GREY)
    word = WORDS.get(p.kind, str(p.kind).upper())
    tag = f"{word} · {p.incident}" if p.incident else word
    band = (
        f"<div style='background:{colour};color:#fff;padding:14px 18px'>"
        f"<div style='font-size:12px;font-weight:700;letter-spacing:.08em'>{_e(tag)}</div>"
        f"<div style='font-size:21px;font-weight:700;line-height:1.3;{_WRAP}'>{_e(p.title)}</div>"
        "</div>"
    )
    body = [f"<p style='margin:0 0 10px;font-size:16px;{_WRAP}'>{_e(p.intro)}</p>"]
    if p.reason:
        body.append(
            f"<p style='margin:0 0 14px;padding:8px 12px;border-left:4px solid {colour};"
            f"background:#f6f8fa;font-weight:600;{_WRAP}'>{_e(p.reason)}</p>"
        )
    body.append(_buttons(p.links, colour))
    body.append(_table(p.fields))
    if p.excerpt is not None:
        body.append(f"<h3 style='{_H}'>Response body</h3>")
        body.append(f"<pre style='{_PRE}'>{_e(p.excerpt.text)}</pre>")
        if p.excerpt.truncated:
            body.append("<p style='margin:4px 0 0;font-size:12px;color:#57606a'>(truncated)</p>")
    if p.headers:
        shown = "\n".join(f"{k}: {v}" for k, v in p.headers[:MAX_HEADERS])
        body.append(f"<h3 style='{_H}'>Response headers</h3>")
        body.append(f"<pre style='{_PRE}color:#57606a'>{_e(shown)}</pre>")
    for heading, lines in p.sections:
        items = "".join(f"<li style='margin:0 0 4px;{_WRAP}'>{_e(line)}</li>" for line in lines)
        body.append(f"<h3 style='{_H}'>{_e(heading)}</h3>")
        body.append(f"<ul style='margin:0;padding-left:18px;font-size:13px'>{items}</ul>")
    card = (
        "<div style='background:#fff;border:1px solid #d0d7de;border-radius:8px;overflow:hidden'>"
        f"{band}<div style='padding:16px 18px'>{''.join(body)}</div></div>"
    )
    footer = f"<p style='margin:12px 4px;font-size:12px;color:#57606a;{_WRAP}'>{_e(p.footer)}</p>"
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_e(p.subject)}</title></head>"
        "<body style='margin:0;padding:0;background:#eaeef2'>"
        # Outlook on Windows ignores max-width: a fixed table keeps its column at 600 px.
        "<!--[if mso]><table role='presentation' width='600' align='center'><tr><td>"
        "<![endif]-->"
        "<div style='box-sizing:border-box;max-width:600px;margin:0 auto;padding:12px 8px;"
        f"font:15px/1.45 {_FONT};color:#1f2328'>{card}{footer}</div>"
        "<!--[if mso]></td></tr></table><![endif]--></body></html>"
    )


def _buttons(links: Sequence[tuple[str, str]], colour: str) -> str:
    out: list[str] = []
    for label, url in links:
        href = safe_href(url)
        if href is None:
            continue
        # The first button (Acknowledge when there is one) is the one to press.
        filled = not out
        look = f"background:{colour};color:#fff;" if filled else f"color:{colour};"
        out.append(
            f"<a href='{_e(href)}' style='display:inline-block;margin:0 8px 8px 0;"
            f"padding:10px 18px;border:2px solid {colour};border-radius:6px;{look}"
            f"font-weight:700;text-decoration:none'>{_e(label)}</a>"
        )
    return f"<div style='margin:0 0 8px'>{''.join(out)}</div>" if out else ""


def _table(fields: Sequence[tuple[str, str]]) -> str:
    if not fields:
        return ""
    rows = "".join(
        "<tr>"
        f"<th align='left' valign='top' style='padding:4px 10px 4px 0;width:108px;"
        f"font-weight:600;color:#57606a;font-size:13px'>{_e(label)}</th>"
        f"<td style='padding:4px 0;font-size:14px;{_WRAP}'>{_e(value)}</td></tr>"
        for label, value in fields
    )
    return (
        "<table role='presentation' cellpadding='0' cellspacing='0' "
        f"style='width:100%;table-layout:fixed;border-collapse:collapse'>{rows}</table>"
    )


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
