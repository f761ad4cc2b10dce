"""The public surface (docs/design.md §6): the status page ``/``, ``/api/v1/status``, badges and
static assets, for public monitors only. ``add_public_routes`` is the one list of these
routes; both the admin app and the ``public_listen`` app are built with it."""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import jinja2

from probed.config.status_page import StatusPage
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.history import History
from probed.status.collect import collect
from probed.status.report import MonitorReport, StatusReport
from probed.status.views import status_json
from probed.units import iso, to_ms
from probed.web.badges import badge, response_colour, uptime_colour
from probed.web.branding import Branding, frame_ancestors, group_lines, load_branding
from probed.web.errors import path_errors
from probed.web.feeds import add_feed_routes
from probed.web.page_parts import PageParts, milliseconds, percent, posted_view

PAGE_MAX_AGE = 15
CACHE_SECONDS = 15.0
BADGE_WINDOWS = ("1d", "7d", "30d", "90d")
STATE_COLOURS = {
    "up": "green",
    "down": "red",
    "seems_down": "yellow",
    "degraded": "yellow",
    "partial": "orange",
    "paused": "blue",
}
_STATIC = resources.files("probed.web") / "static"
_STATIC_TYPES = {".svg": "image/svg+xml", ".css": "text/css", ".js": "text/javascript"}


@dataclass(slots=True)
class _Cached:
    key: object
    at: datetime
    report: StatusReport
    bodies: dict[str, bytes] = field(default_factory=dict)
    """The page and the JSON made from ``report``, plain and gzip-compressed, by name."""


@dataclass(slots=True)
class Public:
    """What the public handlers read; ``title``, ``show_urls`` and ``branding`` follow reloads
    (``configure``).

    The report (and the page made from it) is kept for up to ``CACHE_SECONDS`` while no
    monitor changes state, degradation or settings and the announcements and incident updates
    (docs/design.md §18.1) stay the same: a
    page of 500 monitors costs a good part of a second of CPU, and a public listener must not
    let a crowd of readers (or one abusive client) take the checks' CPU away."""

    pipeline: Pipeline
    history: History
    now: Callable[[], datetime]
    title: str = "probed status"
    show_urls: bool = False
    branding: Branding = field(default_factory=Branding)
    pauses: Pauses | None = None
    """Its maintenance windows (monitors.toml's and stored) go on the page; None shows none."""
    subscribe: bool = False
    """Whether the page shows the subscribe form (subscriptions are on)."""
    _cached: _Cached | None = None

    def configure(self, title: str, show_urls: bool, page: StatusPage | None = None) -> None:
        """Take a reload's page title, whether URLs are shown and [status_page] (whose
        ``title`` wins over ``title``); the cache keys on all three."""
        page = page or StatusPage()
        self.title, self.show_urls = page.title or title, show_urls
        self.branding = load_branding(page)

    def shown(self) -> list[Tracked]:
        """The monitors the page shows: [status_page] ``monitors`` in its order, else all in
        configuration order (``collect`` keeps the public ones)."""
        tracked = list(self.pipeline.monitors.values())
        names = self.branding.page.monitors
        if names is None:
            return tracked
        by_name = {t.monitor.name: t for t in tracked}
        return [by_name[n] for n in names if n in by_name]

    def report(self) -> StatusReport:
        """The status of every public monitor now (or at most ``CACHE_SECONDS`` ago, with
        nothing changed since), in configuration order."""
        now = self.now()
        now_ms = to_ms(now)
        assert now_ms is not None
        tracked = self.shown()
        windows = () if self.pauses is None else self.pauses.windows
        stored = () if self.pauses is None else self.pauses.stored
        key = (
            self.title,
            self.show_urls,
            self.branding.page,
            self.branding.version,
            self.subscribe,
            self.history.store.announcements.current(now_ms),
            self.history.store.incidents.last_update_id(),
            (windows, stored),
            [(t.id, t.monitor, t.state, t.degraded) for t in tracked],
        )
        cached = self._cached
        if (
            cached is not None
            and timedelta(0) <= now - cached.at < timedelta(seconds=CACHE_SECONDS)
            and cached.key == key
        ):
            return cached.report
        report = collect(
            tracked,
            self.history,
            now,
            title=self.title,
            show_urls=self.show_urls,
            windows=windows,
            stored=stored,
        )
        self._cached = _Cached(key, now, report)
        return report

    def body(self, kind: str, gzipped: bool) -> bytes:
        """The page (``kind`` "html") or the status JSON ("json") of ``report()``, UTF-8,
        gzip-compressed if asked; made once per cached report."""
        report = self.report()
        cached = self._cached
        bodies = cached.bodies if cached is not None and cached.report is report else {}
        name = kind + (".gz" if gzipped else "")
        if name not in bodies:
            if kind not in bodies:
                text = self._render(kind, report)
                bodies[kind] = text.encode()
            if gzipped:
                bodies[name] = gzip.compress(bodies[kind], 6)
        return bodies[name]

    def _render(self, kind: str, report: StatusReport) -> str:
        if kind == "html":
            return render_page(report, self.branding, self.subscribe)
        if kind == "embed":
            return render_embed(report, self.branding)
        return json.dumps(status_json(report))

    def monitor(self, text: str) -> MonitorReport | None:
        """One public monitor's report by its id (as text), or None."""
        if not (text.isascii() and text.isdigit() and len(text) < 19):
            return None
        wanted = int(text)
        tracked = [t for t in self.shown() if t.id == wanted and t.monitor.public]
        if not tracked:
            return None
        now = self.now()
        return collect(tracked, self.history, now, title="", show_urls=False).monitors[0]


PUBLIC = web.AppKey("public", Public)


@functools.cache
def template(name: str) -> jinja2.Template:
    """A page template of probed/web/templates, autoescaped."""
    # Imported and made on the first page, not at start-up: jinja2's import alone is 60 ms,
    # and the daemon reports READY (and starts checking) that much sooner.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("probed.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name)


def render_embed(report: StatusReport, branding: Branding) -> str:
    """The compact view of /embed: the banner and one line per group."""
    return template("embed.html.j2").render(
        report=report, branding=branding, groups=group_lines(report)
    )


def render_page(
    report: StatusReport, branding: Branding | None = None, subscribe: bool = False
) -> str:
    """The status page's HTML: compact rows or cards (``StatusPage.compact``), branded, with
    the subscribe form when ``subscribe`` (subscriptions are on)."""
    branding = branding or Branding()
    parts = PageParts(report.now, branding.zone)
    return template("status.html.j2").render(
        report=report,
        branding=branding,
        compact=branding.page.compact(len(report.monitors)),
        groups=[(g, [parts.monitor(m) for m in ms]) for g, ms in report.groups()],
        incidents=[parts.incident(i) for i in report.incidents],
        posted_open=[posted_view(p) for p in report.posted if p.open],
        posted_past=[posted_view(p) for p in report.posted if not p.open],
        zone=branding.page.timezone,
        first_day=report.monitors[0].daily.calendar[0].isoformat() if report.monitors else "",
        updated=iso(report.now),
        updated_text=branding.local_time(report.now),
        subscribe=subscribe,
    )


CONTENT_SECURITY_POLICY = (
    # Nothing from anywhere else, nothing inline: the style sheet and the refresh script are
    # files of our own (/static), so an injected <script> or style= would not run. The one
    # form (subscribe) posts to this origin.
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
    " connect-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Public and briefly cacheable: a reverse proxy or CDN in front can absorb a crowd;
    # the page reloads every 60 s anyway.
    "Cache-Control": f"public, max-age={PAGE_MAX_AGE}",
}


def _answer(
    request: web.Request, kind: str, content_type: str, headers: dict[str, str]
) -> web.Response:
    # Compressed once per cached report rather than per answer (aiohttp would compress each).
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    body = request.config_dict[PUBLIC].body(kind, gzipped)
    if gzipped:
        headers = {**headers, "Content-Encoding": "gzip"}
    headers["Vary"] = "Accept-Encoding"
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


async def status_page(request: web.Request) -> web.StreamResponse:
    return _answer(
        request,
        "html",
        "text/html",
        {"Content-Security-Policy": CONTENT_SECURITY_POLICY, **PAGE_HEADERS},
    )


async def embed_page(request: web.Request) -> web.StreamResponse:
    """/embed: the banner and a line per group, framable by [status_page] embed_origins only."""
    origins = request.config_dict[PUBLIC].branding.page.embed_origins
    policy = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", frame_ancestors(origins))
    return _answer(
        request, "embed", "text/html", {"Content-Security-Policy": policy, **PAGE_HEADERS}
    )


async def status_api(request: web.Request) -> web.StreamResponse:
    return _answer(
        request,
        "json",
        "application/json",
        {"Cache-Control": f"public, max-age={PAGE_MAX_AGE}", "Access-Control-Allow-Origin": "*"},
    )


def _svg(body: str, max_age: int) -> web.Response:
    return web.Response(
        text=body,
        content_type="image/svg+xml",
        headers={
            # Short: README badges are fetched through caches (GitHub's camo) that honour it.
            "Cache-Control": f"public, max-age={max_age}, s-maxage={max_age}",
            "Content-Security-Policy": "default-src 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _badge_monitor(request: web.Request) -> MonitorReport:
    found = request.config_dict[PUBLIC].monitor(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text="no public monitor with this id\n")
    return found


async def status_badge(request: web.Request) -> web.StreamResponse:
    m = _badge_monitor(request)
    colour = STATE_COLOURS.get(m.state, "grey")
    return _svg(badge("status", m.state_text.lower(), colour), 60)


async def uptime_badge(request: web.Request) -> web.StreamResponse:
    window = request.query.get("window", "30d")
    if window not in BADGE_WINDOWS:
        raise web.HTTPBadRequest(text=f"window must be one of {', '.join(BADGE_WINDOWS)}\n")
    m = _badge_monitor(request)
    ratio = m.uptime[window]
    return _svg(badge(f"uptime {window}", percent(ratio), uptime_colour(ratio)), 300)


async def response_badge(request: web.Request) -> web.StreamResponse:
    m = _badge_monitor(request)
    public = request.config_dict[PUBLIC]
    slow = next(
        (t.monitor.slow_threshold for t in public.pipeline.monitors.values() if t.id == m.id),
        None,
    )
    value = milliseconds(m.avg_response)
    return _svg(badge("response 24h", value, response_colour(m.avg_response, slow)), 300)


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    item = _STATIC / name
    own = request.config_dict[PUBLIC].branding.files.get(name)
    if own is None and ("/" in name or suffix not in _STATIC_TYPES or not item.is_file()):
        raise web.HTTPNotFound()
    response = web.Response(
        body=item.read_bytes() if own is None else own.body,
        content_type=_STATIC_TYPES[suffix] if own is None else own.content_type,
        # An hour: a new release's style reaches readers the same day.
        headers={
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            # An SVG logo opened on its own is a document: nothing in it may run or load.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )
    response.enable_compression()
    return response


def add_public_routes(app: web.Application, *, status_api_route: bool = True) -> None:
    """Every route the public listener serves (and the admin listener too); ``service.build``
    adds the push URLs to both. ``status_api_route`` is False where an /api/v1 sub-app serves
    it instead."""
    app.router.add_get("/", status_page)
    app.router.add_get("/embed", embed_page)
    if status_api_route:
        app.router.add_get("/api/v1/status", status_api)
    app.router.add_get("/badge/{id}/status.svg", status_badge)
    app.router.add_get("/badge/{id}/uptime.svg", uptime_badge)
    app.router.add_get("/badge/{id}/response.svg", response_badge)
    app.router.add_get("/static/{name}", static_file)
    add_feed_routes(app, summary=status_api_route)


def make_public_app(public: Public) -> web.Application:
    """The app of ``[probed] public_listen``: the public routes and nothing else."""
    app = web.Application(middlewares=[path_errors])
    app[PUBLIC] = public
    add_public_routes(app)
    return app
