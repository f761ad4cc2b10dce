"""Status page subscriptions (docs/design.md §18.4) against a real SMTP server: subscribe on
the page, confirm by following the mailed link as a person does (the GET only shows a button),
get incident news, leave with RFC 8058's one-click POST, and hear nothing after; the same
answer for every address; the daily and per-client limits and a flood; the token-only list."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from probed.config.subscriptions import SubscriberWebhook, Subscriptions
from probed.web.subscribe import CHECK_INBOX
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, email_channel, make_config
from tests.kit.figures import report
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli
from tests.kit.subscribers import START, confirm_link, subscribe


async def test_subscribe_confirm_hear_news_and_leave_with_one_click(site, smtp):
    h = site.h
    async with aiohttp.ClientSession() as http:
        async with http.get(site.base + "/") as resp:
            page = await resp.text()
        assert (
            'action="/subscribe"' in page
            and "form-action 'self'" in resp.headers["Content-Security-Policy"]
        )
        status, text = await subscribe(http, site, "Reader@Example.test")
        assert status == 200 and "Check your inbox" in text
        await site.deliver()
        [mail] = smtp.inbox
        assert mail.rcpt_tos == ["reader@example.test"]
        assert "Confirm your subscription" in mail.subject
        assert "List-Unsubscribe" not in mail.message  # not on the list yet
        link = confirm_link(mail)

        # A mail scanner's GET changes nothing: the page has a button.
        async with http.get(link) as resp:
            assert resp.status == 200 and "<button" in await resp.text()
        assert h.store.subscribers.get("reader@example.test").state == "pending"
        h.parts.incidents.open_manual("Hidden before confirming", ["Voice API"])
        await site.deliver()
        assert len(smtp.inbox) == 1
        async with http.post(link) as resp:
            assert resp.status == 200 and "Subscribed" in await resp.text()
        assert h.store.subscribers.get("reader@example.test").state == "confirmed"

        row = h.parts.incidents.open_manual("Voice calls <failing>", ["Voice API"])
        h.clock.advance(60)
        h.parts.incidents.add_update(row.code, "identified", "A carrier dropped our trunk.")
        await site.deliver()
        opened, update = smtp.inbox[1:]
        assert opened.subject == f"[probed status] Incident: Voice calls <failing> ({row.code})"
        assert "Voice calls &lt;failing&gt;" in opened.part("html")
        assert update.subject.startswith("[probed status] Identified: Voice calls <failing>")
        assert "A carrier dropped our trunk." in update.part("plain")
        assert update.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = update.message["List-Unsubscribe"].strip("<>")
        assert unsubscribe.startswith(site.base + "/unsubscribe?")
        assert opened.message_id != update.message_id

        # RFC 8058: the mail client POSTs the one-click body, no page involved.
        async with http.post(
            unsubscribe,
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as resp:
            assert resp.status == 200
        assert h.store.subscribers.get("reader@example.test") is None
        h.parts.incidents.add_update(row.code, "resolved", "Fixed.")
        await site.deliver()
        assert len(smtp.inbox) == 3  # nothing after
        for spent in (unsubscribe, link):
            async with http.get(spent) as resp:
                assert resp.status == 404


async def test_every_address_gets_the_same_answer(site, smtp):
    h = site.h
    async with aiohttp.ClientSession() as http:
        await subscribe(http, site, "pending@example.test")
        await subscribe(http, site, "member@example.test")
        await site.deliver()
        member = next(m for m in smtp.inbox if m.rcpt_tos == ["member@example.test"])
        async with http.post(confirm_link(member)) as resp:
            assert resp.status == 200
        h.clock.advance(61)  # past the per-client limit
        answers = set()
        for address in ("new@example.test", "pending@example.test", "member@example.test"):
            answers.add(await subscribe(http, site, address))
        assert len(answers) == 1, answers
        h.clock.advance(61)
        for address in ("new@example.test", "pending@example.test", "member@example.test"):
            async with http.post(site.base + "/api/v1/subscribe", json={"email": address}) as r:
                answers.add((r.status, await r.text()))
        assert len(answers) == 2 and (202, json.dumps({"status": CHECK_INBOX})) in answers
        # Addresses never appear on the public surface.
        for path in ("/", "/api/v1/status"):
            async with http.get(site.base + path) as resp:
                assert "example.test" not in await resp.text()


async def test_three_confirmation_mails_per_address_per_day(site, smtp):
    async with aiohttp.ClientSession() as http:
        for _ in range(6):
            assert (await subscribe(http, site, "someone@example.test"))[0] == 200
            site.h.clock.advance(61)
        await site.deliver()
        assert len(smtp.inbox) == 3
        site.h.clock.advance(86400)
        await subscribe(http, site, "someone@example.test")
        await site.deliver()
        assert len(smtp.inbox) == 4


async def test_a_flood_from_one_client_sends_at_most_the_limits_mails(site, smtp, request):
    sent, limited, began = 0, 0, time.monotonic()
    page_ok, page_slowest = 0, 0.0
    async with aiohttp.ClientSession() as http:
        for i in range(10_000):
            status, _ = await subscribe(http, site, f"victim{i}@example.test")
            sent += status == 200
            limited += status == 429
            if i % 1000 == 0:
                asked = time.monotonic()
                async with http.get(site.base + "/") as resp:
                    page_ok += resp.status == 200 and "subscribe" in await resp.text()
                page_slowest = max(page_slowest, time.monotonic() - asked)
    took = time.monotonic() - began
    await site.deliver()
    report(
        request,
        "subscribe flood: 10,000 POST /subscribe from one client, each a new address",
        [
            f"{took:.1f} s in all; {sent} accepted, {limited} answered 429",
            f"confirmation mails sent: {len(smtp.inbox)}",
            f"the page during it: {page_ok}/10 answered, slowest {page_slowest * 1000:.0f} ms",
        ],
    )
    assert (sent, limited, page_ok) == (5, 9995, 10)
    assert len(smtp.inbox) == 5
    assert len(site.h.store.subscribers.all()) == 5


async def test_probed_subscribers_lists_and_removes_with_the_token_only(site, smtp):
    async with aiohttp.ClientSession() as http:
        await subscribe(http, site, "one@example.test")
        await subscribe(http, site, "two@example.test")
        await site.deliver()
        async with http.post(confirm_link(smtp.inbox[0])) as resp:
            assert resp.status == 200
        async with TestClient(TestServer(site.h.parts.app, host="127.0.0.1")) as admin:
            url = str(admin.make_url("")).rstrip("/")
            # Without the token the addresses stay hidden.
            async with http.get(url + "/api/v1/subscribers") as resp:
                assert resp.status == 401 and "example.test" not in await resp.text()
            # The admin listener takes the API's subscribe too (the /api/v1 sub-app lets it by).
            async with http.post(url + "/api/v1/subscribe", json={"email": "x@example.test"}) as r:
                assert r.status == 202
            env = {k: v for k, v in os.environ.items() if k != "PROBED_LISTEN"}
            env["PROBED_API_TOKEN"] = TOKEN
            code, out, err = await run_cli("subscribers", "--url", url, env=env)
            assert code == 0, err
            assert "one@example.test" in out and "confirmed" in out and "two@example.test" in out
            assert "1 confirmed, 2 pending, 0 webhooks" in out
            code, out, err = await run_cli(
                "subscribers", "--remove", "One@Example.test", "--url", url, env=env
            )
            assert code == 0 and "one@example.test removed" in out, err
            code, out, err = await run_cli(
                "subscribers", "--remove", "one@example.test", "--url", url, env=env
            )
            assert code != 0 and "no such subscriber" in err
    assert site.h.store.subscribers.get("one@example.test") is None


async def test_without_external_url_subscriptions_are_off_but_webhooks_still_hear(
    harnesses, tmp_path, smtp, receivers
):
    hook = await receivers()
    config = make_config(tmp_path, [make_monitor("api")], email_channel(smtp.port))
    subs = Subscriptions((SubscriberWebhook(hook.url + "/hook"),))
    h = harnesses(replace(config, subscriptions=subs), FakeClock(START))
    server = TestServer(h.parts.public_app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            base = str(server.make_url("")).rstrip("/")
            async with http.get(base + "/") as resp:
                assert 'action="/subscribe"' not in await resp.text()
            async with http.post(base + "/api/v1/subscribe", json={"email": "a@b.test"}) as r:
                assert r.status == 404 and "external_url" in (await r.json())["error"]
            async with http.post(base + "/subscribe", data={"email": "a@b.test"}) as r:
                assert r.status == 404
        h.parts.incidents.open_manual("Logins failing", ["api"])
        await h.dispatcher.run_once()
        [request] = hook.requests
        assert json.loads(request.body)["incident"]["title"] == "Logins failing"
        assert "X-Probed-Signature" not in request.headers  # no secret, no signature
        assert smtp.inbox == []
    finally:
        await server.close()


async def test_probed_check_says_whether_subscriptions_are_on(tmp_path):
    text = """
[probed]
external_url = "https://status.example.test"
[alerts.email]
host = "127.0.0.1"
from = "probed@example.test"
to = ["ops@example.test"]
[subscriptions]
webhooks = [{ url = "https://hooks.example.test/status", secret = "s" }]
[[monitor]]
name = "api"
url = "https://example.test"
"""
    path = tmp_path / "monitors.toml"
    path.write_text(text)
    code, out, err = await run_cli("check", "-c", str(path))
    assert code == 0, err
    assert "subscriptions: the status page's form, and 1 webhook subscriber\n" in out
    path.write_text(text.replace('external_url = "https://status.example.test"', ""))
    code, out, _ = await run_cli("check", "-c", str(path))
    assert "note: subscriptions need [probed] external_url (the links in the mails)" in out


async def test_a_title_with_a_line_break_stays_in_the_subject(site, smtp):
    async with aiohttp.ClientSession() as http:
        await subscribe(http, site, "reader@example.test")
        await site.deliver()
        async with http.post(confirm_link(smtp.inbox[0])) as resp:
            assert resp.status == 200
    title = "Calls failing\nBcc: evil@example.test"
    row = site.h.parts.incidents.open_manual(title, ["Voice API"])
    await site.deliver()
    [mail] = smtp.inbox[1:]
    # (A subject this long is folded onto a continuation line; the unfolded value keeps a space.)
    expected = f"[probed status] Incident: Calls failing Bcc: evil@example.test ({row.code})"
    assert mail.subject.strip() == expected
    assert mail.message["Bcc"] is None and mail.rcpt_tos == ["reader@example.test"]
