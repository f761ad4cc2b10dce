"""The one-click acknowledgement link ``/ack/{id}?expires=&sig=`` (docs/design.md §17.3), on
``listen`` and ``public_listen``.

The signature is the credential, so no token is asked. A GET only shows the confirmation page
(mail scanners follow links); the page's POST acknowledges. A wrong, tampered or expired
signature, or an unknown incident, is the listener's own 404 for an unknown path, so the route
tells nobody which incidents exist.
"""

from __future__ import annotations

import unicodedata

from aiohttp import web

from probed.incidents.book import IncidentBook
from probed.incidents.links import valid
from probed.store.incidents import AckOutcome, IncidentRow
from probed.units import iso
from probed.web.public import template

BOOK = web.AppKey("incident_book", IncidentBook)
BY_LINK = "email link"
MAX_NAME = 100
HEADERS = {
    # The URL holds the signature: it must not leak through a Referer or a cache.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none';"
        " form-action 'self'; frame-ancestors 'none'"
    ),
}


def _signed(request: web.Request) -> tuple[IncidentBook, IncidentRow]:
    """The book and the incident the link signs; the unknown path's 404 for anything else."""
    book = request.app[BOOK]
    code = request.match_info["id"]
    q = request.query
    if not valid(book.key, code, q.get("expires", ""), q.get("sig", ""), book.now()):
        raise web.HTTPNotFound()
    row = book.store.incidents.get(code)
    if row is None:
        raise web.HTTPNotFound()
    return book, row


async def show(request: web.Request) -> web.Response:
    book, row = _signed(request)
    return _page(book, row, None)


async def acknowledge(request: web.Request) -> web.Response:
    book, row = _signed(request)
    form = await request.post()
    name = form.get("name")
    by = _name(name) if isinstance(name, str) else ""
    outcome, after = book.ack(row.code, by or BY_LINK, None)
    if outcome is AckOutcome.UNKNOWN or after is None:
        raise web.HTTPNotFound()
    return _page(book, after, outcome)


def _name(text: str) -> str:
    """A person's name as typed, without control characters, on one line, bounded."""
    clean = "".join(c for c in text if unicodedata.category(c) != "Cc")
    return " ".join(clean.split())[:MAX_NAME]


def _page(book: IncidentBook, row: IncidentRow, outcome: AckOutcome | None) -> web.Response:
    events = book.store.incidents.events(row.id)
    reason = next((str(e.detail.get("reason", "")) for e in events if e.kind == "down"), "")
    html = template("ack.html.j2").render(
        row=row,
        reason=reason,
        outcome=None if outcome is None else outcome.name.lower(),
        started=iso(row.started),
        ended=iso(row.ended),
        acked=iso(row.acked),
        max_name=MAX_NAME,
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers=dict(HEADERS))


def add_ack_routes(app: web.Application, book: IncidentBook) -> None:
    """The link's GET (the page) and POST (the acknowledgement) on ``app``."""
    app[BOOK] = book
    app.router.add_get("/ack/{id}", show)
    app.router.add_post("/ack/{id}", acknowledge)
