"""Subscriber messages on their way (docs/design.md §18.4): only public news, webhooks signed
like the webhook channel, maintenance a day ahead, and the durable queue: a restart, a down
SMTP server and a full disk cost no message and send none twice."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import timedelta

import aiohttp

from probed.config.maintenance import MaintenanceWindow
from probed.config.subscriptions import SubscriberWebhook, Subscriptions
from probed.errors import StoreWriteError
from tests.kit.clock import FakeClock
from tests.kit.harness import failed
from tests.kit.subscribers import START, confirm_link, open_site, subscribe


async def test_private_outages_stay_private_and_webhooks_get_signed_json(
    harnesses, tmp_path, smtp, receivers
):
    hook = await receivers()
    subs = Subscriptions((SubscriberWebhook(hook.url + "/hook", secret="k3y"),))
    s = await open_site(harnesses, tmp_path, smtp, FakeClock(START), subscriptions=subs)
    try:
        for _ in range(3):
            await s.h.feed("Internal", failed(s.h.clock()))
            s.h.clock.advance(10)
        await s.deliver()
        assert hook.requests == []
        for _ in range(3):
            await s.h.feed("Voice API", failed(s.h.clock()))
            s.h.clock.advance(10)
        await s.deliver()
        [request] = hook.requests
        doc = json.loads(request.body)
        assert doc["event"] == "incident.opened" and doc["incident"]["monitors"] == "Voice API"
        expected = hmac.new(b"k3y", request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Probed-Signature"] == f"sha256={expected}"
    finally:
        await s.server.close()


async def test_a_restart_sends_what_waited_once(harnesses, tmp_path, smtp):
    clock = FakeClock(START)
    s = await open_site(harnesses, tmp_path, smtp, clock)
    async with aiohttp.ClientSession() as http:
        await subscribe(http, s, "reader@example.test")
        await s.deliver()
        async with http.post(confirm_link(smtp.inbox[0])) as resp:
            assert resp.status == 200
    await smtp.stop()
    s.h.parts.incidents.open_manual("Voice calls failing", ["Voice API"])
    await s.deliver()  # the server is down: the mail waits
    assert s.h.store.subscribers.pending() == 1
    await s.server.close()
    await s.h.close()
    await smtp.start()
    clock.advance(30)
    again = await open_site(harnesses, tmp_path, smtp, clock)
    try:
        await again.deliver()
        await again.deliver()
        clock.advance(600)
        await again.deliver()
        assert [m.subject for m in smtp.inbox[1:]] == [
            "[probed status] Incident: Voice calls failing (INC-2026-001)"
        ]
    finally:
        await again.server.close()


async def test_maintenance_is_announced_once_a_day_before_it_starts(harnesses, tmp_path, smtp):
    clock = FakeClock(START)
    hours = timedelta(hours=1)
    windows = (
        MaintenanceWindow("Database migration", frozenset({"Voice API"}), START + 30 * hours),
        MaintenanceWindow("Private work", frozenset({"Internal"}), START + 26 * hours),
    )
    windows = tuple(replace(w, end=w.start + hours) for w in windows)
    s = await open_site(harnesses, tmp_path, smtp, clock, maintenance=windows)
    async with aiohttp.ClientSession() as http:
        await subscribe(http, s, "reader@example.test")
        await s.deliver()
        async with http.post(confirm_link(smtp.inbox[0])) as resp:
            assert resp.status == 200
    assert s.h.parts.subscriptions.refresh_due() == START + 6 * hours
    clock.advance(5 * 3600)
    await s.deliver()
    assert len(smtp.inbox) == 1
    clock.advance(3600)
    await s.deliver()
    await s.deliver()
    [notice] = smtp.inbox[1:]
    assert notice.subject == "[probed status] Scheduled maintenance: Database migration"
    assert "2026-05-05 16:00 UTC – 17:00 UTC: Voice API" in notice.part("plain")
    await s.server.close()
    await s.h.close()
    again = await open_site(harnesses, tmp_path, smtp, clock, maintenance=windows)
    try:
        clock.advance(3600)
        await again.deliver()
        assert len(smtp.inbox) == 2  # not again after a restart
    finally:
        await again.server.close()


async def test_a_down_smtp_server_costs_one_attempt_per_backoff_and_keeps_the_order(site, smtp):
    h = site.h
    async with aiohttp.ClientSession() as http:
        for address in ("a@example.test", "b@example.test"):
            await subscribe(http, site, address)
        await site.deliver()
        for mail in smtp.inbox:
            async with http.post(confirm_link(mail)) as resp:
                assert resp.status == 200
    await smtp.stop()
    row = h.parts.incidents.open_manual("Voice calls failing", ["Voice API"])
    h.clock.advance(1)
    h.parts.incidents.add_update(row.code, "monitoring", "Fixed, watching.")
    await site.deliver()
    await site.deliver()
    waiting = h.store.subscribers.due(h.clock() + timedelta(days=1))
    assert len(waiting) == 4 and sum(r.attempts for r in waiting) == 1
    await smtp.start()
    h.clock.advance(5)
    await site.deliver()
    got = [(m.rcpt_tos[0], m.subject.split(":")[0]) for m in smtp.inbox[2:]]
    assert got == [
        ("a@example.test", "[probed status] Incident"),
        ("b@example.test", "[probed status] Incident"),
        ("a@example.test", "[probed status] Monitoring"),
        ("b@example.test", "[probed status] Monitoring"),
    ]


async def test_news_refused_by_a_full_disk_is_mailed_once_the_file_takes_it(site, smtp):
    h = site.h
    async with aiohttp.ClientSession() as http:
        await subscribe(http, site, "reader@example.test")
        await site.deliver()
        async with http.post(confirm_link(smtp.inbox[0])) as resp:
            assert resp.status == 200
    store = h.store
    with store.transaction():
        filler = store.incidents.open(
            h.tracked("Internal").id,
            code="INC-2026-001",
            year=2026,
            number=1,
            started=h.clock(),
            confirmed=h.clock(),
            severity="warning",
            runbook=None,
        )
    store.cap_pages(store.page_count())
    for size in (100_000, 10_000, 1_000, 100, 10):  # fill every page, incidents' own too
        while True:
            try:
                with store.transaction():
                    store.incidents.add_event(filler, h.clock(), "x" * size, {})
            except StoreWriteError:
                break
    n = 0
    for size in (1_000, 100, 10, 1):  # and the subscribers' pages
        while True:
            n += 1
            try:
                with store.transaction():
                    store.subscribers.add(f"{n}{'x' * size}", "nonce", h.clock())
            except StoreWriteError:
                break
    async with aiohttp.ClientSession() as http:
        async with http.post(site.base + "/api/v1/subscribe", json={"email": "n@ex.test"}) as r:
            assert r.status == 503 and "try again later" in (await r.json())["error"]
        async with http.post(site.base + "/subscribe", data={"email": "n@ex.test"}) as r:
            assert r.status == 503 and "Nothing was changed" in await r.text()
    assert h.store.subscribers.get("n@ex.test") is None
    for _ in range(3):
        await h.feed("Voice API", failed(h.clock()))
        h.clock.advance(10)
    await site.deliver()

    def news() -> list[str]:  # the on-call's alerts go through the same SMTP server
        return [m.subject for m in smtp.inbox[1:] if m.rcpt_tos == ["reader@example.test"]]

    assert news() == [] and h.store.incidents.get("INC-2026-002") is None  # not stored yet
    store.cap_pages(None)
    h.clock.advance(10)
    for _ in range(3):
        await site.deliver()
    assert news() == ["[probed status] Incident: Voice API is down (INC-2026-002)"]


async def test_a_message_that_cannot_be_built_is_failed_and_holds_nobody_up(site, smtp):
    h = site.h
    async with aiohttp.ClientSession() as http:
        await subscribe(http, site, "reader@example.test")
        await site.deliver()
        async with http.post(confirm_link(smtp.inbox[0])) as resp:
            assert resp.status == 200
    with h.store.transaction():  # a row no probed writes: its body is not a message
        h.store.subscribers.queue("reader@example.test", "opened", h.clock(), "{", "<x@y>")
    h.parts.incidents.open_manual("Voice calls failing", ["Voice API"])
    await site.deliver()
    assert [m.subject for m in smtp.inbox[1:]] == [
        "[probed status] Incident: Voice calls failing (INC-2026-001)"
    ]
    assert h.store.subscribers.pending() == 0
