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

from probed.engine.pipeline import Pipeline
from probed.history import History
from probed.status.collect import collect
from probed.status.report import MonitorReport, StatusReport
from probed.status.views import status_json
from probed.units import iso, to_ms
from probed.web.badges import badge, response_colour, uptime_colour
from probed.web.errors import path_errors
from probed.web.page_parts import PageParts, milliseconds, percent

PAGE_MAX_AGE = 15
CACHE_SECONDS = 15.0
BADGE_WINDOWS = ("1d", "7d", "30d", "90d")
STATE_COLOURS = {"up": "green", "down": "red", "seems_down": "yellow", "paused": "blue"}
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
    """What the public handlers read; ``title`` and ``show_urls`` follow reloads (``configure``).

    The report (and the page made from it) is kept for up to ``CACHE_SECONDS`` while no
    monitor changes state, degradation or settings and the announcements stay the same: a
    page of 500 monitors costs a good part of a second of CPU, and a public listener must not
    let a crowd of readers (or one abusive client) take the checks' CPU away."""

    pipeline: Pipeline
    history: History
    now: Callable[[], datetime]
    title: str = "probed status"
    show_urls: bool = False
    subscribe: bool = False
    """Whether the page shows the subscribe form (subscriptions are on)."""
    _cached: _Cached | None = None

    def configure(self, title: str, show_urls: bool) -> None:
        """Take a reload's page title and whether URLs are shown (the cache keys on both)."""
        self.title, self.show_urls = title, show_urls

    def report(self) -> StatusReport:
        """The status of every public monitor now (or at most ``CACHE_SECONDS`` ago, with
        nothing changed since), in configuration order."""
        now = self.now()
        now_ms = to_ms(now)
        assert now_ms is not None
        tracked = list(self.pipeline.monitors.values())
        key = (
            self.title,
            self.show_urls,
            self.subscribe,
            self.history.store.announcements.current(now_ms),
            [(t.id, t.monitor, t.state, t.degraded) for t in tracked],
        )
        cached = self._cached
        if (
            cached is not None
            and timedelta(0) <= now - cached.at < timedelta(seconds=CACHE_SECONDS)
            and cached.key == key
        ):
            return cached.report
        report = collect(tracked, self.history, now, title=self.title, show_urls=self.show_urls)
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
                text = (
                    render_page(report, self.subscribe)
                    if kind == "html"
                    else json.dumps(status_json(report))
                )
                bodies[kind] = text.encode()
            if gzipped:
                bodies[name] = gzip.compress(bodies[kind], 6)
        return bodies[name]

    def monitor(self, text: str) -> MonitorReport | None:
        """One public monitor's report by its id (as text), or None."""
        if not (text.isascii() and text.isdigit() and len(text) < 19):
            return None
        wanted = int(text)
        tracked = [
            t for t in self.pipeline.monitors.values() if t.id == wanted and t.monitor.public
        ]
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


def render_page(report: StatusReport, subscribe: bool = False) -> str:
    """The status page's HTML (with the subscribe form when ``subscribe``)."""
    parts = PageParts(report.now)
    return template("status.html.j2").render(
        report=report,
        groups=[(g, [parts.monitor(m) for m in ms]) for g, ms in report.groups()],
        incidents=[parts.incident(i) for i in report.incidents],
        first_day=report.monitors[0].daily.calendar[0].isoformat() if report.monitors else "",
        updated=iso(report.now),
        updated_text=report.now.strftime("%Y-%m-%d %H:%M:%S"),
        subscribe=subscribe,
    )


CONTENT_SECURITY_POLICY = (
    # Nothing from anywhere else, nothing inline: the style sheet and the refresh script are
    # files of our own (/static), so an injected <script> or style= would not run. The one
    # form (subscribe) posts to this origin.
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
    " connect-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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
        {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # Public and briefly cacheable: a reverse proxy or CDN in front can absorb a crowd;
            # the page reloads every 60 s anyway.
            "Cache-Control": f"public, max-age={PAGE_MAX_AGE}",
        },
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
    state = "degraded" if m.degraded and m.status.label == "up" else m.status.label
    colour = "yellow" if state == "degraded" else STATE_COLOURS.get(state, "grey")
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
    if "/" in name or suffix not in _STATIC_TYPES or not item.is_file():
        raise web.HTTPNotFound()
    response = web.Response(
        body=item.read_bytes(),
        content_type=_STATIC_TYPES[suffix],
        # An hour: a new release's style reaches readers the same day.
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
    response.enable_compression()
    return response


def add_public_routes(app: web.Application, *, status_api_route: bool = True) -> None:
    """Every route the public listener serves (and the admin listener too); ``service.build``
    adds the push URLs to both. ``status_api_route`` is False where an /api/v1 sub-app serves
    it instead."""
    app.router.add_get("/", status_page)
    if status_api_route:
        app.router.add_get("/api/v1/status", status_api)
    app.router.add_get("/badge/{id}/status.svg", status_badge)
    app.router.add_get("/badge/{id}/uptime.svg", uptime_badge)
    app.router.add_get("/badge/{id}/response.svg", response_badge)
    app.router.add_get("/static/{name}", static_file)


def make_public_app(public: Public) -> web.Application:
    """The app of ``[probed] public_listen``: the public routes and nothing else."""
    app = web.Application(middlewares=[path_errors])
    app[PUBLIC] = public
    add_public_routes(app)
    return app
