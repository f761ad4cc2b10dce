"""``GET /api/v1/subscribers`` and ``DELETE /api/v1/subscribers/{address}`` (token), behind
``probed subscribers [--remove ADDR]`` (docs/design.md §18.4): the only place addresses are
shown, and only to a holder of the api_token."""

from __future__ import annotations

from aiohttp import web

from probed.errors import StoreError
from probed.subscriptions.service import normal_address
from probed.units import iso
from probed.web.context import API, authorize
from probed.web.errors import api_error
from probed.web.subscribe import SUBSCRIPTIONS


async def list_subscribers(request: web.Request) -> web.Response:
    if (refused := authorize(request.app[API], request)) is not None:
        return refused
    subs = request.config_dict[SUBSCRIPTIONS]
    rows = subs.table.all()
    return web.json_response(
        {
            "subscribers": [
                {
                    "address": r.address,
                    "state": r.state,
                    "created": iso(r.created),
                    "confirmed": iso(r.confirmed),
                }
                for r in rows
            ],
            "webhooks": len(subs.config.subscriptions.webhooks),
            "off": subs.off_reason,
        }
    )


async def remove_subscriber(request: web.Request) -> web.Response:
    if (refused := authorize(request.app[API], request)) is not None:
        return refused
    subs = request.config_dict[SUBSCRIPTIONS]
    address = normal_address(request.match_info["address"])
    if address is None or (row := subs.table.get(address)) is None:
        return api_error(404, "no such subscriber")
    try:
        subs.unsubscribe(row)
    except StoreError as exc:
        return api_error(503, f"{exc}: nothing was changed, try again once it can be written")
    return web.json_response({"removed": address})


def add_subscriber_routes(app: web.Application) -> None:
    """On the /api/v1 sub-app; the subscriptions come from the parent app."""
    app.router.add_get("/subscribers", list_subscribers)
    app.router.add_delete("/subscribers/{address}", remove_subscriber)
