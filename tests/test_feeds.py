"""The public feeds (docs/design.md §18.3): ``/feed.atom`` and ``/feed.rss`` list incidents,
their updates, announcements and planned maintenance, newest first, with IDs stable across
renders and restarts, parsed by a real feed parser (feedparser); nothing private, no evidence,
titles escaped; cached, answered 304 to a matching ``If-None-Match``; capped in size."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import feedparser
from aiohttp.test_utils import TestClient, TestServer

from probed.config.maintenance import MaintenanceWindow
from probed.units import iso, to_ms
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor

BASE = "https://status.example.test"
NASTY = "Voice <script>alert(1)</script> & calls"


async def _client(app: Any) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def _harness(harnesses, tmp_path, clock, windows=()) -> Harness:
    monitors = [
        make_monitor("Voice API", group="Calls"),
        make_monitor("Web", group="Front"),
        make_monitor("Internal DB", public=False),
    ]
    config = make_config(tmp_path, monitors, windows=windows, external_url=BASE + "/")
    return harnesses(config, clock)


async def _story(h: Harness, clock: FakeClock) -> dict[str, str]:
    """An outage of Web (resolved), one of the private DB (open), a manual incident with three
    updates, an announcement; the codes by what they are."""
    for _ in range(3):
        await h.feed("Web", failed(clock()))
    web_code = h.store.incidents.find()[0][0].code
    h.parts.incidents.ack(web_code, "alice", "root password is hunter2")
    clock.advance(60)
    await h.feed("Web", good(clock()))
    clock.advance(60)
    for _ in range(3):
        await h.feed("Internal DB", failed(clock(), reason="leaky internal reason"))
    clock.advance(60)
    book = h.parts.incidents
    row = book.open_manual(NASTY, ["Voice API"], stage="investigating", impact="major", by="al")
    for stage, text in (
        ("identified", "A carrier dropped <b>our</b> trunk & more."),
        ("monitoring", "Calls go through again."),
        ("resolved", "Fixed by the carrier."),
    ):
        clock.advance(600)
        book.add_update(row.code, stage, text)
    clock.advance(60)
    h.store.announcements.add("Planned <upgrade> tonight", "warning", to_ms(clock()), None)
    return {"web": web_code, "manual": row.code}


def _parse(body: bytes) -> Any:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def _check_entries(parsed: Any, rss: bool = False) -> list[Any]:
    """Every entry: a unique urn:uuid ID, a date, a link into the page, a title; newest first."""
    entries = parsed.entries
    ids = [e.id for e in entries]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("urn:uuid:") for i in ids)
    stamps = [calendar.timegm(e.updated_parsed if not rss else e.published_parsed) for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    for e in entries:
        assert e.link.startswith(BASE + "/")
        assert e.title.strip()
        assert e.get("summary") or e.get("content")
    return entries


async def test_the_atom_feed_lists_incidents_updates_announcements_and_maintenance(
    harnesses, tmp_path
):
    clock = FakeClock()
    soon = clock() + timedelta(days=3)
    later = clock() + timedelta(days=20)
    windows = (
        MaintenanceWindow(
            "DB migration", frozenset({"Web"}), start=soon, end=soon + timedelta(hours=1)
        ),
        MaintenanceWindow("Far off", None, start=later, end=later + timedelta(hours=1)),
    )
    h = _harness(harnesses, tmp_path, clock, windows)
    codes = await _story(h, clock)
    async for client in _client(h.parts.app):
        response = await client.get("/feed.atom")
        assert response.status == 200
        assert response.content_type == "application/atom+xml"
        body = await response.read()
    parsed = _parse(body)
    assert parsed.version == "atom10"
    assert parsed.feed.title == "probed status"
    assert parsed.feed.generator == "probed"
    entries = _check_entries(parsed)
    titles = [e.title for e in entries]
    # The manual incident, its three updates and its opening update, Web's outage, the
    # announcement, the maintenance within 7 days; not the private monitor's outage, not the
    # window 20 days ahead.
    assert titles == [
        "Warning: Planned <upgrade> tonight",
        f"{NASTY} (resolved)",
        f"{NASTY}: Resolved",
        f"{NASTY}: Monitoring",
        f"{NASTY}: Identified",
        f"{NASTY}: Investigating",
        "Web down (resolved)",
        "Scheduled maintenance: DB migration",
    ]
    # Escaped in the XML, text again once parsed.
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    identified = entries[4]
    assert identified.content[0].value == "A carrier dropped <b>our</b> trunk & more."
    assert identified.content[0].type == "text/plain"
    assert identified.link == f"{BASE}/#incident-{codes['manual']}"
    assert entries[6].link == f"{BASE}/#incident-{codes['web']}"
    assert [t.term for t in entries[6].tags] == ["incident"]
    maintenance = entries[7]
    assert maintenance.content[0].value == (
        f"Scheduled maintenance, {soon:%a %d %b} 12:00–13:00 UTC: Web"
    )
    # Nothing private: the private monitor, its reason, the acknowledgement's note and name.
    for secret in (b"Internal DB", b"leaky", b"hunter2", b"alice"):
        assert secret not in body
    assert parsed.feed.updated == entries[0].updated
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {"self": f"{BASE}/feed.atom", "alternate": f"{BASE}/"}


async def test_the_rss_feed_has_the_same_entries(harnesses, tmp_path):
    clock = FakeClock()
    h = _harness(harnesses, tmp_path, clock)
    await _story(h, clock)
    async for client in _client(h.parts.app):
        atom = _parse(await (await client.get("/feed.atom")).read())
        response = await client.get("/feed.rss")
        assert response.content_type == "application/rss+xml"
        body = await response.read()
    parsed = _parse(body)
    assert parsed.version == "rss20"
    entries = _check_entries(parsed, rss=True)
    assert [(e.id, e.title, e.link) for e in entries] == [
        (e.id, e.title, e.link) for e in atom.entries
    ]
    # A description is HTML: the text arrives as HTML that shows it, never as markup.
    assert entries[4].summary == "A carrier dropped &lt;b&gt;our&lt;/b&gt; trunk &amp; more."
    assert all(e.guidislink is False for e in entries)


async def test_ids_are_stable_across_renders_and_a_restart(harnesses, tmp_path):
    clock = FakeClock()
    h = _harness(harnesses, tmp_path, clock)
    await _story(h, clock)

    async def entries(app: Any) -> list[tuple[str, str, str]]:
        async for client in _client(app):
            parsed = _parse(await (await client.get("/feed.atom")).read())
        return [(e.id, e.title, e.updated) for e in parsed.entries]

    first = await entries(h.parts.app)
    clock.advance(3600)  # past the cache: rendered again
    assert await entries(h.parts.app) == first
    await h.close()
    again = _harness(harnesses, tmp_path, clock)
    assert await entries(again.parts.app) == first
    # The public listener serves the same feed.
    assert await entries(again.parts.public_app) == first


async def test_news_reaches_the_feed_at_once_and_etags_answer_304(harnesses, tmp_path):
    clock = FakeClock()
    h = _harness(harnesses, tmp_path, clock)
    book = h.parts.incidents
    async for client in _client(h.parts.public_app):
        empty = await client.get("/feed.atom")
        assert empty.status == 200
        assert _parse(await empty.read()).entries == []
        etag = empty.headers["ETag"]
        assert empty.headers["Cache-Control"] == "public, max-age=15"
        again = await client.get("/feed.atom", headers={"If-None-Match": etag})
        assert again.status == 304 and again.headers["ETag"] == etag
        assert await again.read() == b""
        row = book.open_manual("Slow logins", ["Web"], stage="investigating", impact="minor")
        # News is heard at once, not after the cache's 15 s.
        fresh = await client.get("/feed.atom", headers={"If-None-Match": etag})
        assert fresh.status == 200 and fresh.headers["ETag"] != etag
        assert _parse(await fresh.read()).entries[0].title == "Slow logins (investigating)"
        rss = await client.get("/feed.rss")
        tag = rss.headers["ETag"]
        assert tag.startswith('W/"')  # the same for the plain and the gzipped answer
        # Weak comparison: the tag with or without W/, among others.
        for header in (f'"x", {tag}', tag.removeprefix("W/"), "*"):
            assert (await client.get("/feed.rss", headers={"If-None-Match": header})).status == 304
        assert (await client.get("/feed.rss", headers={"If-None-Match": '"x"'})).status == 200
        gz = await client.get("/feed.atom", headers={"Accept-Encoding": "gzip"})
        assert gz.headers["Content-Encoding"] == "gzip"
        plain = await client.get("/feed.atom", headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers
        assert gz.headers["ETag"] == plain.headers["ETag"]
        assert _parse(await gz.read()).entries[0].title == "Slow logins (investigating)"
        # An update changes the incident's entry too: its stage and latest update are in it.
        clock.advance(60)
        book.add_update(row.code, "identified", "Found it.")
        entries = _parse(await (await client.get("/feed.atom")).read()).entries
        assert [(e.title, e.updated) for e in entries[:2]] == [
            ("Slow logins (identified)", iso(clock())),
            ("Slow logins: Identified", iso(clock())),
        ]
        assert "Latest update (Identified): Found it." in entries[0].content[0].value


async def test_a_feed_of_1000_incidents_stays_under_1_mb(harnesses, tmp_path):
    clock = FakeClock()
    h = _harness(harnesses, tmp_path, clock)
    book = h.parts.incidents
    for n in range(1000):
        row = book.open_manual(
            f"Incident {n} " + "t" * 100, ["Web"], stage="investigating", impact="minor"
        )
        clock.advance(60)
        book.add_update(row.code, "resolved", "Long words. " * 166)
    async for client in _client(h.parts.app):
        for path in ("/feed.atom", "/feed.rss"):
            body = await (await client.get(path)).read()
            assert len(body) < 1_000_000
            entries = _parse(body).entries
            assert len(entries) == 100
            assert entries[0].title.startswith("Incident 999 ")
        # Texts at the limit made of characters escaped the most: fewer entries, the newest.
        for n in range(1000, 1100):
            row = book.open_manual(
                f"Incident {n} " + "&" * 1900, ["Web"], stage="investigating", impact="minor"
            )
            clock.advance(60)
            book.add_update(row.code, "resolved", "&<" * 1000)
        for path in ("/feed.atom", "/feed.rss"):
            body = await (await client.get(path)).read()
            assert len(body) < 1_000_000
            entries = _parse(body).entries
            assert 10 <= len(entries) < 100
            assert entries[0].title.startswith("Incident 1099 ")


async def test_without_external_url_links_take_the_requests_host_escaped(harnesses, tmp_path):
    clock = FakeClock()
    h = harnesses(make_config(tmp_path, [make_monitor("Web")]), clock)
    row = h.parts.incidents.open_manual("Slow", ["Web"], stage="identified", impact="minor")
    async for client in _client(h.parts.public_app):
        for host in ("status.example.test:8080", 'a&b"<c>.test'):
            for path in ("/feed.atom", "/feed.rss"):
                body = await (await client.get(path, headers={"Host": host})).read()
                assert b"probed-base.invalid" not in body
                parsed = _parse(body)
                assert parsed.entries[0].link == f"http://{host}/#incident-{row.code}"
            summary = await client.get("/api/v1/status/summary", headers={"Host": host})
            assert (await summary.json())["page"] == f"http://{host}/"
