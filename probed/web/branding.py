"""The status page's own assets from ``[status_page]`` (docs/design.md §18.5): the logo, served
as /static/logo.<ext>, and the accent colour, served as /static/theme.css so that the page's
Content-Security-Policy keeps ``style-src 'self'`` with nothing inline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import structlog

from probed.config.status_page import LOGO_MAX_BYTES, LOGO_TYPES, FooterLink, StatusPage
from probed.status.banner import Overall, overall
from probed.status.report import StatusReport

log = structlog.get_logger("probed.web")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Branding:
    """What the page takes from [status_page], ready to serve; made once per (re)load."""

    page: StatusPage = field(default_factory=StatusPage)
    files: dict[str, Asset] = field(default_factory=dict)
    """By name under /static: ``logo.png`` and ``theme.css`` when configured."""
    version: str = ""
    """A digest of ``files``: their URLs carry it (``?v=``), so a reload is seen at once
    despite /static's hour of caching."""

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.page.timezone)

    @property
    def logo_url(self) -> str | None:
        name = next((n for n in self.files if n.startswith("logo.")), None)
        return None if name is None else f"/static/{name}?v={self.version}"

    @property
    def theme_url(self) -> str | None:
        return f"/static/theme.css?v={self.version}" if "theme.css" in self.files else None

    @property
    def footer_links(self) -> tuple[FooterLink, ...]:
        return self.page.footer_links

    def local_time(self, at: datetime) -> str:
        """``2026-12-08 05:24:32 CET``: ``at`` in the page's timezone, to the second."""
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def load_branding(page: StatusPage) -> Branding:
    """The assets of ``page``; a logo that can no longer be read (it could at config time) is
    left out with a warning rather than failing a reload."""
    files: dict[str, Asset] = {}
    if page.logo is not None:
        suffix = page.logo.suffix.lower()
        try:
            body = page.logo.read_bytes()
        except OSError as exc:
            log.warning("status page logo unreadable", path=str(page.logo), error=str(exc))
        else:
            if len(body) <= LOGO_MAX_BYTES:
                files[f"logo{'.jpg' if suffix == '.jpeg' else suffix}"] = Asset(
                    body, LOGO_TYPES[suffix]
                )
    if page.accent is not None:
        css = f":root{{--accent:{page.accent}}}\n"
        files["theme.css"] = Asset(css.encode(), "text/css")
    digest = hashlib.sha256()
    for name, asset in sorted(files.items()):
        digest.update(name.encode() + b"\0" + asset.body)
    return Branding(page, files, digest.hexdigest()[:12] if files else "")


def frame_ancestors(origins: tuple[str, ...]) -> str:
    """The CSP ``frame-ancestors`` of /embed: the configured origins, or ``'none'``."""
    return "frame-ancestors " + (" ".join(origins) or "'none'")


def group_lines(report: StatusReport) -> list[tuple[str, Overall, str]]:
    """Each group's name (``Other`` for monitors without one), its state as the banner would
    say it of the group alone (its class and words): the lines of /embed."""
    lines = []
    for group, monitors in report.groups():
        state = overall((m.status, m.degraded) for m in monitors)
        text = "Operational" if state is Overall.OPERATIONAL else state.text
        lines.append((group or "Other", state, text))
    return lines
