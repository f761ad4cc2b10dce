"""A local RDAP server (RFC 9083 domain answers) and the bootstrap file that points at it.

Each domain's answer is chosen by the test (``answers``): an expiry date, a registrar's
malformed date, no expiration event, 5 MB, or a hang. ``asked`` counts queries per domain.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

HUGE_BYTES = 5 * 1024 * 1024


def domain_answer(domain: str, expiration: str | None) -> dict[str, object]:
    """An RFC 9083 domain object; ``expiration`` None leaves the expiration event out."""
    events = [
        {"eventAction": "registration", "eventDate": "2001-05-04T12:00:00Z"},
        {"eventAction": "last changed", "eventDate": "2026-05-04T12:00:00Z"},
    ]
    if expiration is not None:
        events.append({"eventAction": "expiration", "eventDate": expiration})
    return {
        "objectClassName": "domain",
        "ldhName": domain.upper(),
        "rdapConformance": ["rdap_level_0"],
        "status": ["client transfer prohibited"],
        "events": events,
    }


@dataclass
class RdapServer:
    answers: dict[str, str | None] = field(default_factory=dict)
    """Per domain: its expiration eventDate as sent (None: no expiration event), or one of
    "HANG", "HUGE"; a domain not listed is answered 404."""
    asked: Counter[str] = field(default_factory=Counter)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        domain = request.match_info["name"].lower()
        self.asked[domain] += 1
        if domain not in self.answers:
            return web.json_response({"errorCode": 404}, status=404)
        answer = self.answers[domain]
        if answer == "HANG":
            await asyncio.sleep(3600)
        if answer == "HUGE":
            body = domain_answer(domain, "2030-01-01T00:00:00Z")
            body["remarks"] = [{"description": ["x" * HUGE_BYTES]}]
            return web.json_response(body, content_type="application/rdap+json")
        return web.json_response(
            domain_answer(domain, answer), content_type="application/rdap+json"
        )

    def bootstrap(self, path: Path, *tlds: str) -> Path:
        """An IANA-format bootstrap at ``path`` sending ``tlds`` to this server."""
        doc = {
            "description": "RDAP bootstrap file for Domain Name System registrations",
            "publication": "2026-10-01T00:00:00Z",
            "services": [[list(tlds), [self.url + "/"]]],
            "version": "1.0",
        }
        path.write_text(json.dumps(doc))
        return path


@asynccontextmanager
async def rdap_server() -> AsyncIterator[RdapServer]:
    state = RdapServer()
    app = web.Application()
    app.router.add_get("/domain/{name}", state.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("")).rstrip("/")
    try:
        yield state
    finally:
        await server.close()
