"""``/feed.atom``, ``/feed.rss`` and ``/api/v1/status/summary`` (docs/design.md §18.3): the
public news as feeds, and the banner's summary, each cached and answered 304 when unchanged.

A body is made at most once per ``CACHE_SECONDS`` while nothing it shows changes (no incident
news, the same report): a crowd of feed readers or of browsers polling the summary costs one
render, like the page. Its ``ETag`` is a hash of the body, so a render that changed nothing
still answers ``If-None-Match`` with a 304.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

from probed.config.maintenance import MaintenanceWindow
from probed.engine.pauses import Pauses, stored_window
from probed.engine.pipeline import Tracked
from probed.history import History
from probed.incidents.book import News
from probed.status.feed_entries import MAX_ENTRIES, feed_entries
from probed.status.news import public_incidents
from probed.status.planned import planned
from probed.status.report import StatusReport
from probed.status.summary import summary_json
from probed.store.announcements import AnnouncementRow
from probed.units import to_ms
from probed.web.feed_xml import atom, rss


class PublicSide(Protocol):
    """What the feeds read of ``probed.web.public.Public`` (named by what it offers, so that
    the public module can register the feed routes without a circle)."""

    title: str
    history: History
    pauses: Pauses | None

    def now(self) -> datetime: ...

    def report(self) -> StatusReport: ...

    def shown(self) -> list[Tracked]: ...


CACHE_SECONDS = 15.0
MAX_AGE = 15
"""Seconds, as the page's."""
MAX_BASES = 8
"""Bodies kept for this many base URLs (the Host header picks one when external_url is unset)."""

_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "summary": "application/json",
}


@dataclass(slots=True)
class _Body:
    body: bytes
    etag: str
    gzipped: bytes | None = None


@dataclass(slots=True)
class _Made:
    key: object
    report: object
    """The report a summary was made from (compared by identity: it is the page's cached one)."""
    at: datetime
    template: bytes
    """Rendered on ``external_url``, or else on ``PLACEHOLDER`` for each request's base."""
    bodies: dict[str, _Body] = field(default_factory=dict)
    """By base URL."""


PLACEHOLDER = "https://probed-base.invalid"
"""The base a body is rendered on without ``external_url``: replaced by each request's, so a
stream of made-up ``Host`` headers costs a byte replacement each, never a render."""


@dataclass(slots=True)
class Newsroom:
    """What the feed and summary handlers read, and their cache; ``configure`` takes a reload's
    ``external_url`` and maintenance windows, ``heard`` is an ``IncidentBook`` listener."""

    public: PublicSide
    external_url: str | None = None
    windows: tuple[MaintenanceWindow, ...] = ()
    generation: int = 0
    """Counts incident news: any makes the next answer fresh."""
    _made: dict[str, _Made] = field(default_factory=dict)

    def configure(self, external_url: str | None, windows: Sequence[MaintenanceWindow]) -> None:
        self.external_url, self.windows = external_url, tuple(windows)
        self._made.clear()

    def heard(self, news: News) -> None:
        self.generation += 1

    def base(self, request: web.Request) -> str:
        """The status page's URL without the trailing slash: ``external_url``, else this
        request's scheme and host."""
        if self.external_url:
            return self.external_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    def made(self, kind: str, base: str) -> _Body:
        """The body of ``kind`` (``atom``, ``rss``, ``summary``) on ``base``, from the cache
        when fresh."""
        made = self._rendered(kind)
        body = made.bodies.get(base)
        if body is None:
            if len(made.bodies) >= MAX_BASES:
                made.bodies.clear()
            raw = made.template
            if not self.external_url:
                raw = raw.replace(PLACEHOLDER.encode(), _escaped(kind, base))
            # Weak: the plain and the gzip-compressed answers are the same content.
            etag = 'W/"' + hashlib.sha256(raw).hexdigest()[:24] + '"'
            body = made.bodies[base] = _Body(raw, etag)
        return body

    def _rendered(self, kind: str) -> _Made:
        now = self.public.now()
        if kind == "summary":
            report = self.public.report()
            key: object = self.generation
        else:
            report = None
            key = (self.generation, self._public_ids(), self._announcements(now))
        cached = self._made.get(kind)
        if (
            cached is not None
            and timedelta(0) <= now - cached.at < timedelta(seconds=CACHE_SECONDS)
            and cached.report is report
            and cached.key == key
        ):
            return cached
        store = self.public.history.store
        public = self._public_ids()
        base = self.external_url.rstrip("/") if self.external_url else PLACEHOLDER
        if report is not None:
            # Every open one: the summary counts them (open incidents are few, one per monitor
            # at most besides the manual ones).
            incidents = public_incidents(store.incidents, public, open_only=True)
            data = summary_json(report, incidents, planned(self._windows(), now), base)
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        else:
            entries = feed_entries(
                public_incidents(store.incidents, public, limit=MAX_ENTRIES),
                self._announcements(now),
                planned(self._windows(), now),
                now,
                public_monitors=frozenset(public.values()),
            )
            body = (atom if kind == "atom" else rss)(self.public.title, base, entries)
        made = self._made[kind] = _Made(key, report, now, body)
        return made

    def _public_ids(self) -> dict[int, str]:
        # The monitors the page shows ([status_page] monitors, else every public one).
        return {t.id: t.monitor.name for t in self.public.shown() if t.monitor.public}

    def _windows(self) -> tuple[MaintenanceWindow, ...]:
        """monitors.toml's windows and those stored through the API (``probed maintenance``)."""
        pauses = self.public.pauses
        stored = () if pauses is None else tuple(stored_window(r) for r in pauses.stored)
        return (*self.windows, *stored)

    def _announcements(self, now: datetime) -> tuple[AnnouncementRow, ...]:
        now_ms = to_ms(now)
        assert now_ms is not None
        return tuple(self.public.history.store.announcements.current(now_ms))


NEWSROOM = web.AppKey("newsroom", Newsroom)


def _escaped(kind: str, base: str) -> bytes:
    """``base`` as it must appear in a body of ``kind`` (XML text and attributes, or JSON)."""
    if kind == "summary":
        return json.dumps(base, ensure_ascii=False)[1:-1].encode()
    return xml_escape(base, {'"': "&quot;"}).encode()


def _matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _answer(request: web.Request, kind: str, headers: dict[str, str]) -> web.Response:
    newsroom = request.config_dict[NEWSROOM]
    made = newsroom.made(kind, newsroom.base(request))
    headers = {
        **headers,
        "ETag": made.etag,
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(request.headers.get("If-None-Match", ""), made.etag):
        return web.Response(status=304, headers=headers)
    body = made.body
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        if made.gzipped is None:
            made.gzipped = gzip.compress(made.body, 6)
        body, headers["Content-Encoding"] = made.gzipped, "gzip"
    return web.Response(body=body, content_type=_TYPES[kind], charset="utf-8", headers=headers)


async def atom_feed(request: web.Request) -> web.StreamResponse:
    return _answer(request, "atom", {})


async def rss_feed(request: web.Request) -> web.StreamResponse:
    return _answer(request, "rss", {})


async def status_summary(request: web.Request) -> web.StreamResponse:
    # Polled from every user's browser on other origins, like /api/v1/status.
    return _answer(request, "summary", {"Access-Control-Allow-Origin": "*"})


def add_feed_routes(app: web.Application, *, summary: bool = True) -> None:
    """The feeds, and the summary unless an /api/v1 sub-app serves it (``make_api_app``)."""
    app.router.add_get("/feed.atom", atom_feed)
    app.router.add_get("/feed.rss", rss_feed)
    if summary:
        app.router.add_get("/api/v1/status/summary", status_summary)
