"""``[status_page]``: the public page's branding, which monitors it shows, its timezone, who
may frame ``/embed`` and its layout (docs/design.md §18.5), read through a Section like every
table."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from probed.config.reader import Section, describe, url_problem

STATUS_PAGE_KEYS: tuple[str, ...] = ("title", "logo", "accent", "footer_links", "monitors")
STATUS_PAGE_KEYS += ("timezone", "embed_origins", "layout")
LAYOUTS = ("compact", "cards")
COMPACT_PAST = 20
"""Without ``layout``, a page of more public monitors than this is compact."""
LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
LOGO_MAX_BYTES = 256 * 1024
"""A logo is read into memory and sent with every first visit: a header image, not a photo."""
MAX_FOOTER_LINKS = 20
_ACCENT = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# What a CSP source may be (scheme://host[:port], host may start with "*."): it goes into a
# response header, so nothing else (no path, space, comma or semicolon) is let through.
_ORIGIN = re.compile(r"https?://(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class FooterLink:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class StatusPage:
    """[status_page] as read; every key optional."""

    title: str | None = None
    """Wins over ``[probed] status_page_title``."""
    logo: Path | None = None
    """A png, svg, jpg or webp file of at most ``LOGO_MAX_BYTES``, served as /static/logo.<ext>."""
    accent: str | None = None
    """``#rgb`` or ``#rrggbb``: links, the chart line and the header rule."""
    footer_links: tuple[FooterLink, ...] = ()
    monitors: tuple[str, ...] | None = None
    """Names of the monitors shown, in this order; None: every public monitor, in file order."""
    timezone: str = "UTC"
    """IANA name: times on the page are shown in it (day bars stay UTC days)."""
    embed_origins: tuple[str, ...] = ()
    """Origins that may frame /embed; none: no one may."""
    layout: str | None = None
    """"compact" or "cards"; None: compact past ``COMPACT_PAST`` public monitors."""

    def compact(self, shown: int) -> bool:
        """Whether a page of ``shown`` monitors uses the compact layout."""
        if self.layout is None:
            return shown > COMPACT_PAST
        return self.layout == "compact"


def read_status_page(sec: Section, monitors: Mapping[str, bool]) -> StatusPage:
    """[status_page] as StatusPage; ``monitors`` maps every monitor's name to whether it is
    public (what ``monitors`` may name)."""
    sec.reject_unknown(STATUS_PAGE_KEYS)
    if not sec.data:
        return StatusPage()
    timezone = sec.string("timezone", nonempty=True)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            sec.problem(
                "timezone", f'unknown timezone "{timezone}" (expected e.g. "Europe/Berlin")'
            )
            timezone = None
    accent = sec.string("accent")
    if accent is not None and not _ACCENT.fullmatch(accent):
        sec.problem("accent", f'expected a colour like "#0969da" or "#09d", got "{accent}"')
        accent = None
    return StatusPage(
        title=sec.label("title"),
        logo=_logo(sec),
        accent=accent,
        footer_links=_footer_links(sec),
        monitors=_monitors(sec, monitors),
        timezone=timezone or "UTC",
        embed_origins=_origins(sec),
        layout=sec.choice("layout", LAYOUTS),
    )


def _logo(sec: Section) -> Path | None:
    path = sec.path("logo")
    if path is None:
        return None
    if path.suffix.lower() not in LOGO_TYPES:
        sec.problem("logo", f'must be a {", ".join(LOGO_TYPES)} file, got "{path.name}"')
        return None
    size = path.stat().st_size
    if size > LOGO_MAX_BYTES:
        sec.problem("logo", f'"{path}" is {size:,} bytes; at most {LOGO_MAX_BYTES:,}')
        return None
    return path


def _footer_links(sec: Section) -> tuple[FooterLink, ...]:
    raw = sec.data.get("footer_links")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        sec.problem(
            "footer_links",
            f'expected an array of {{ title = "…", url = "…" }}, got {describe(raw)}',
        )
        return ()
    if len(raw) > MAX_FOOTER_LINKS:
        sec.problem("footer_links", f"at most {MAX_FOOTER_LINKS} links, got {len(raw)}")
        return ()
    links: list[FooterLink] = []
    for number, item in enumerate(raw, 1):
        link = Section(sec.reader, f"{sec.prefix}footer_links #{number} ", item)
        link.reject_unknown(("title", "url"))
        title = link.label("title")
        if "title" not in item:
            link.problem("title", "missing (required)")
        url = link.string("url", required=True)
        if url is not None and (problem := url_problem(url)):
            link.problem("url", problem)
            url = None
        if title is not None and url is not None:
            links.append(FooterLink(title, url))
    if len(links) < len(raw):
        sec.failed.add("footer_links")
    return tuple(links)


def _monitors(sec: Section, monitors: Mapping[str, bool]) -> tuple[str, ...] | None:
    names = sec.strings("monitors")
    if names is None:
        return None
    seen: set[str] = set()
    for name in names:
        if name not in monitors:
            close = difflib.get_close_matches(name, list(monitors), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            sec.problem("monitors", f'no monitor named "{name}"{hint}')
        elif not monitors[name]:
            sec.problem("monitors", f'"{name}" has public = false: it cannot be shown')
        elif name in seen:
            sec.problem("monitors", f'"{name}" is listed twice')
        seen.add(name)
    return None if "monitors" in sec.failed else names


def _origins(sec: Section) -> tuple[str, ...]:
    origins = sec.strings("embed_origins") or ()
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            sec.problem(
                "embed_origins",
                f'expected an origin like "https://www.example.com" (scheme, host and'
                f' optional port; no path), got "{origin}"',
            )
    return () if "embed_origins" in sec.failed else origins
