"""The one-click acknowledgement link (docs/design.md §17.3) followed as a person does, on both
listeners: the GET shows one button and changes nothing (mail scanners follow links), the
page's POST acknowledges, and a wrong, expired or unknown link is the listener's plain 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from probed.config import EmailChannel
from probed.incidents.links import ack_path
from probed.model import AlertKind
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor

EMAIL = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))
BASE = "https://probed.example.test"
REASON = "HTTP 503 <script>alert(1)</script>"


async def outage(h: Harness, name: str) -> str:
    """Take ``name`` down; the acknowledgement path its DOWN alert carries."""
    for _ in range(3):
        await h.feed(name, failed(h.clock(), REASON))
        h.clock.advance(10)
    [down] = [r for r in h.rows() if r.kind is AlertKind.DOWN and r.monitor == name]
    assert down.payload.ack_url.startswith(BASE + "/ack/")
    return down.payload.ack_url.removeprefix(BASE)


@pytest.fixture
async def harness(harnesses, tmp_path):
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    config = make_config(
        tmp_path,
        [make_monitor("api", severity="critical"), make_monitor("db")],
        EMAIL,
        external_url=BASE,
    )
    return harnesses(config, clock)


@pytest.fixture(params=["listen", "public_listen"])
async def base(request, harness) -> AsyncIterator[str]:
    app = harness.parts.app if request.param == "listen" else harness.parts.public_app
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_following_the_link_shows_one_button_and_changes_nothing(harness, base, browser):
    path = await outage(harness, "api")
    for _ in range(3):
        async with browser.get(base + path) as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            assert resp.headers["Cache-Control"] == "no-store"
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            assert "form-action 'self'" in resp.headers["Content-Security-Policy"]
            page = await resp.text()
        assert "INC-2026-001" in page and ">api is down<" in page
        assert page.count("<button") == 1 and '<form method="post">' in page
        # The target's words are text, never markup.
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    row = harness.store.incidents.get("INC-2026-001")
    assert row is not None and row.acked is None and row.open
    assert [e.kind for e in harness.store.incidents.events(row.id)] == ["failed", "down"]


async def test_the_pages_post_acknowledges_once_with_the_name_given(harness, base, browser):
    path = await outage(harness, "api")
    harness.clock.advance(60)
    async with browser.post(base + path, data={"name": "  Alice\x07 Smith "}) as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "Acknowledged by Alice Smith." in page and "<button" not in page
    row = harness.store.incidents.get("INC-2026-001")
    assert row is not None and row.acked_by == "Alice Smith" and row.ack_seconds() == 70.0
    # The same link again: already done, and the first acknowledgement stays.
    async with browser.post(base + path, data={"name": "bob"}) as resp:
        page = await resp.text()
    assert "already acknowledged by Alice Smith" in page
    assert harness.store.incidents.get("INC-2026-001").acked_by == "Alice Smith"
    # Acknowledged, the DOWN's reminders stop: the link shows who did it.
    async with browser.get(base + path) as resp:
        assert "already acknowledged by Alice Smith" in await resp.text()


async def test_without_a_name_the_link_acknowledges_as_the_email_link(harness, base, browser):
    path = await outage(harness, "db")
    async with browser.post(base + path, data={}) as resp:
        assert resp.status == 200 and "Acknowledged by email link." in await resp.text()
    assert harness.store.incidents.get("INC-2026-001").acked_by == "email link"


async def test_a_closed_incident_is_said_to_be_closed_and_is_not_acknowledged(
    harness, base, browser
):
    path = await outage(harness, "api")
    await harness.feed("api", good(harness.clock()))
    for method in ("GET", "POST"):
        async with browser.request(method, base + path) as resp:
            assert resp.status == 200
            page = await resp.text()
        assert "INC-2026-001 is closed already" in page and "<button" not in page
    assert harness.store.incidents.get("INC-2026-001").acked is None


async def test_a_wrong_expired_or_unknown_link_is_the_plain_404_of_an_unknown_path(
    harness, base, browser
):
    path = await outage(harness, "api")
    url = urlsplit(path)
    query = dict(p.split("=", 1) for p in url.query.split("&"))
    sig, expires = query["sig"], int(query["expires"])
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    other = ack_path(harness.parts.incidents.key, "INC-2026-002", harness.clock())
    unknown = ack_path(harness.parts.incidents.key, "INC-1999-001", harness.clock())
    wrong = [
        f"{url.path}?expires={expires}&sig={flipped}",  # tampered signature
        f"{url.path}?expires={expires + 3600}&sig={sig}",  # extended expiry
        f"/ack/INC-2026-002?{url.query}",  # another incident's path
        other,  # validly signed, but no such incident yet
        unknown,
        url.path,  # no signature at all
        f"{url.path}?expires=&sig=",
        f"{url.path}?expires=-1&sig={sig}",
    ]
    for method in ("GET", "POST"):
        async with browser.request(method, base + "/no-such-path") as resp:
            want = (resp.status, resp.content_type, await resp.read())
        assert want[0] == 404
        for link in wrong:
            async with browser.request(method, base + link, data={"name": "mallory"}) as resp:
                assert (resp.status, resp.content_type, await resp.read()) == want, link
    # Expired: the real link a day and a bit later.
    harness.clock.advance(24 * 3600 + 1)
    for method in ("GET", "POST"):
        async with browser.request(method, base + "/no-such-path") as resp:
            want = (resp.status, resp.content_type, await resp.read())
        async with browser.request(method, base + path) as resp:
            assert (resp.status, resp.content_type, await resp.read()) == want
    assert harness.store.incidents.get("INC-2026-001").acked is None
