"""Shields-style SVG badges: a grey label and a coloured value (flat style)."""

from __future__ import annotations

from xml.sax.saxutils import escape

COLOURS = {
    "green": "#4c1",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "grey": "#9f9f9f",
}
_NARROW = set("fijlrtI1.,:;!|' ()")
_WIDE = set("mwMW%@")


def text_width(text: str) -> int:
    """Approximate width in px of text in 11 px Verdana (what shields.io measures with)."""
    return sum(4 if c in _NARROW else 10 if c in _WIDE else 7 for c in text)


def badge(label: str, value: str, colour: str) -> str:
    """The SVG document of one badge; ``colour`` is a key of COLOURS."""
    lw, vw = text_width(label) + 10, text_width(value) + 10
    total = lw + vw
    label, value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img"'
        f' aria-label="{label}: {value}"><title>{label}: {value}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb"'
        ' stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{COLOURS[colour]}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        ' font-size="11">'
        f'<text x="{lw / 2}" y="15" fill="#010101" fill-opacity=".3">{label}</text>'
        f'<text x="{lw / 2}" y="14">{label}</text>'
        f'<text x="{lw + vw / 2}" y="15" fill="#010101" fill-opacity=".3">{value}</text>'
        f'<text x="{lw + vw / 2}" y="14">{value}</text></g></svg>'
    )


def uptime_colour(ratio: float | None) -> str:
    if ratio is None:
        return "grey"
    if ratio >= 0.999:
        return "green"
    if ratio >= 0.99:
        return "yellow"
    return "orange" if ratio >= 0.95 else "red"


def response_colour(seconds: float | None, slow: float | None) -> str:
    if seconds is None:
        return "grey"
    if slow is not None:
        return "green" if seconds <= slow else "orange"
    return "green" if seconds < 0.5 else "yellow" if seconds < 2 else "orange"
