"""Subscription routes (docs/design.md §18.4), on ``listen`` and ``public_listen``:
``POST /subscribe`` (the page's form) and ``POST /api/v1/subscribe`` (JSON or form ``email``),
``/subscribe/confirm`` and ``/unsubscribe`` (GET: a page with one button; POST: done; the
unsubscribe POST is also RFC 8058's one-click ``List-Unsubscribe=One-Click``).

A new, pending or confirmed address gets the same answer, so nobody learns who subscribed;
a wrong, expired or spent link is the listener's plain 404.
"""

from __future__ import annotations

from aiohttp import web

from probed.errors import StoreError
from probed.subscriptions.service import Outcome, Subscriptions
from probed.web.ack import HEADERS
from probed.web.public import template

SUBSCRIPTIONS = web.AppKey("subscriptions", Subscriptions)
CHECK_INBOX = "Check your inbox: we sent a link to confirm the subscription."
MAX_BODY = 4096
UNSTORED = "the state database cannot take it now, try again later"


async def _address(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            return ""
        value = data.get("email") if isinstance(data, dict) else None
    else:
        value = (await request.post()).get("email")
    return value if isinstance(value, str) else ""


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def subscribe_api(request: web.Request) -> web.Response:
    subs = request.config_dict[SUBSCRIPTIONS]
    try:
        outcome = subs.subscribe(await _address(request), _client(request))
    except StoreError as exc:
        return web.json_response({"error": f"{exc}: {UNSTORED}"}, status=503)
    if outcome is Outcome.OFF:
        return web.json_response({"error": subs.off_reason}, status=404)
    if outcome is Outcome.LIMITED:
        return web.json_response(
            {"error": "too many requests: try again in a minute"},
            status=429,
            headers={"Retry-After": "60"},
        )
    if outcome is Outcome.INVALID:
        return web.json_response({"error": "email: not an email address"}, status=400)
    return web.json_response({"status": CHECK_INBOX}, status=202)


async def subscribe_form(request: web.Request) -> web.Response:
    subs = request.config_dict[SUBSCRIPTIONS]
    try:
        outcome = subs.subscribe(await _address(request), _client(request))
    except StoreError:
        return _unstored()
    if outcome is Outcome.OFF:
        raise web.HTTPNotFound()
    answers = {
        Outcome.LIMITED: (429, "Too many requests", "Please try again in a minute."),
        Outcome.INVALID: (400, "Not an email address", "Go back and check the address."),
        Outcome.ACCEPTED: (200, "Almost subscribed", CHECK_INBOX),
    }
    status, heading, text = answers[outcome]
    return _page(heading, text, None, status)


def _unstored() -> web.Response:
    return _page("Please try again later", f"Nothing was changed: {UNSTORED}.", None, 503)


def _page(heading: str, text: str, button: str | None, status: int = 200) -> web.Response:
    html = template("subscription.html.j2").render(heading=heading, text=text, button=button)
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=dict(HEADERS)
    )


async def confirm_page(request: web.Request) -> web.Response:
    subs = request.config_dict[SUBSCRIPTIONS]
    row = subs.signed("confirm", dict(request.query))
    if row is None:
        raise web.HTTPNotFound()
    if row.state == "confirmed":
        return _page("Subscribed", "This address is subscribed already.", None)
    return _page("Confirm your subscription", "Press the button to get updates.", "Confirm")


async def confirm(request: web.Request) -> web.Response:
    subs = request.config_dict[SUBSCRIPTIONS]
    row = subs.signed("confirm", dict(request.query))
    if row is None:
        raise web.HTTPNotFound()
    try:
        subs.confirm(row)
    except StoreError:
        return _unstored()
    return _page(
        "Subscribed", "You will get a mail when an incident opens, is updated or ends.", None
    )


async def unsubscribe_page(request: web.Request) -> web.Response:
    subs = request.config_dict[SUBSCRIPTIONS]
    if subs.signed("unsubscribe", dict(request.query)) is None:
        raise web.HTTPNotFound()
    return _page("Unsubscribe", "Press the button to stop the mails.", "Unsubscribe")


async def unsubscribe(request: web.Request) -> web.Response:
    # RFC 8058: a mail client's one-click POST carries List-Unsubscribe=One-Click and expects
    # no page; the page's own button posts an empty form. Both end the subscription.
    subs = request.config_dict[SUBSCRIPTIONS]
    row = subs.signed("unsubscribe", dict(request.query))
    if row is None:
        raise web.HTTPNotFound()
    try:
        subs.unsubscribe(row)
    except StoreError:
        return _unstored()
    return _page("Unsubscribed", "This address gets no more mails from us.", None)


def add_subscribe_routes(app: web.Application, subs: Subscriptions, *, api: bool = True) -> None:
    """The form's, the links' and (``api``) the API's routes on ``app``."""
    app[SUBSCRIPTIONS] = subs
    app.router.add_post("/subscribe", subscribe_form)
    app.router.add_get("/subscribe/confirm", confirm_page)
    app.router.add_post("/subscribe/confirm", confirm)
    app.router.add_get("/unsubscribe", unsubscribe_page)
    app.router.add_post("/unsubscribe", unsubscribe)
    if api:
        app.router.add_post("/api/v1/subscribe", subscribe_api)
