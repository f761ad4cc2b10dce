"""Channels side by side, through build()'s real dispatcher loop: routing by ``alert`` and
``kinds``, digests once per channel, and one channel's receiver hanging for two minutes (fake
clock) while the others deliver every alert at once."""

from __future__ import annotations

import asyncio
import itertools

from probed.alerts.dispatcher import backoff
from probed.alerts.outbox import AlertStatus
from probed.config.channels import AppriseChannel, WebhookChannel
from tests.kit.clock import FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.figures import report
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli


async def test_a_hung_webhook_for_two_minutes_delays_no_email_or_apprise_alert(
    tmp_path, smtp, request, receivers, harnesses
):
    clock = FakeClock()
    hook = await receivers([200], clock=clock)
    chat = await receivers([200])
    alerts = {
        "hook": WebhookChannel(url=hook.url + "/hook", timeout=5.0),
        "chat": AppriseChannel(urls=(f"json://{chat.url.removeprefix('http://')}/chat",)),
    }
    names = ("a", "b", "c")
    config = make_config(
        tmp_path,
        [make_monitor(n, down_after=1) for n in names],
        alerts=alerts,
        email=email_channel(smtp.port),
        storm_threshold=100,
    )
    h = harnesses(config, clock)
    hook.hang()
    h.dispatcher.start()
    events = 0
    try:
        # Every 10 s for 2 minutes of the clock, one monitor goes down or comes back up.
        for step in range(12):
            clock.advance(10)
            name = names[step % 3]
            up = step >= 3 and (step // 3) % 2 == 1
            kinds = await h.feed(name, good(clock()) if up else failed(clock()))
            assert kinds == (["up"] if up else ["down"])
            events += 1
            # Both arrive before the clock moves on: the webhook's trouble is its own.
            await smtp.wait_for(events, 10)
            await chat.wait_for(events, 10)
            if step == 0:
                await hook.wait_hung(10)  # its first attempt is in, and held unanswered
            elif step == 1:
                # The second alert reached email and apprise while that attempt was still
                # held: the webhook's worker waits alone.
                assert hook.hung == 1 and hook.requests == []
                hook.script = [503]  # from now on it answers, but is down
                hook.release()
                await settled(h, "hook", attempts=1)
        hook_rows = [r for r in h.rows() if r.channel == "hook"]
        assert len(hook_rows) == events and all(r.status is AlertStatus.PENDING for r in hook_rows)
        retries = [t for t in hook.arrivals[1:] if t is not None]
        schedule = [round((b - a).total_seconds()) for a, b in itertools.pairwise(retries)]
        # The backoff of docs/design.md §4 (5, 10, 20, 40 … s), seen at the clock's 10 s steps.
        assert len(schedule) >= 3
        for i, gap in enumerate(schedule, 2):
            assert backoff(i) <= gap < backoff(i) + 10

        # Back up: every held alert arrives, each once, in order.
        hook.script = [200]
        clock.advance(300)
        h.dispatcher.wake()
        await hook.wait_for(len(hook.requests) + events, 15)
        bodies = [r.json() for r in hook.requests if r.answered == 200]
        assert [b["message_id"] for b in bodies] == [r.message_id for r in hook_rows]
    finally:
        await h.dispatcher.stop(2)
        hook.release()  # so that the receivers fixture can stop it
    report(
        request,
        "one channel down for 2 minutes (fake clock), two others delivering",
        [
            f"{events} alerts: each reached email and apprise before the clock moved on,"
            " the second while the webhook's receiver held an attempt unanswered",
            f"webhook retries while down (answering 503), seconds apart: {schedule}"
            f" (backoff {[backoff(i) for i in range(2, 2 + len(schedule))]} s at 10 s steps)",
            f"after it answered again: {events} alerts, each once, in order",
        ],
    )


async def settled(h: Harness, channel: str, attempts: int) -> None:
    """Wait until the channel's oldest row has had ``attempts`` attempts."""
    for _ in range(200):
        if [r.attempts for r in h.rows() if r.channel == channel][:1] == [attempts]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{channel}: no attempt {attempts}")


async def test_alert_lists_and_kinds_route_and_a_storm_digest_goes_once_to_each_channel(
    tmp_path, smtp, receivers, harnesses
):
    clock = FakeClock()
    sms = await receivers([200])
    hook = await receivers([200])
    alerts = {
        "sms": WebhookChannel(url=sms.url, kinds=frozenset({"down"})),
        "hook": WebhookChannel(url=hook.url),
    }
    monitors = [
        make_monitor("db", down_after=1, alert=("email", "sms", "hook")),
        make_monitor("web", down_after=1, alert=("email", "hook")),
        make_monitor("cron", down_after=1, alert=("email",)),
        make_monitor("api", down_after=1, alert=("sms",)),
    ]
    config = make_config(
        tmp_path, monitors, alerts=alerts, email=email_channel(smtp.port), storm_threshold=1
    )
    h = harnesses(config, clock)
    for name in ("db", "web", "cron", "api"):
        await h.feed(name, failed(clock()))
    await h.dispatcher.run_once()
    # One alert each at once (the storm threshold), the rest in one digest per channel.
    clock.advance(60)
    await h.dispatcher.run_once()
    clock.advance(600)
    await h.dispatcher.run_once()
    by_channel = {
        c: sorted(r.monitor for r in h.rows() if r.channel == c) for c in ("email", "sms", "hook")
    }
    assert by_channel == {
        "email": ["cron", "db", "web"],
        "sms": ["api", "db"],
        "hook": ["db", "web"],
    }
    assert all(r.status is AlertStatus.SENT for r in h.rows())
    assert [m.subject for m in smtp.inbox] == [
        "[probed] DOWN: db (INC-2026-001)",
        "[probed] DOWN: 2 monitors",
    ]
    assert [r.json()["kind"] for r in sms.requests] == ["down", "digest"]
    digest = sms.requests[1].json()
    assert [m["name"] for m in digest["monitors"]] == ["api"]
    assert [r.json()["kind"] for r in hook.requests] == ["down", "digest"]

    # An UP goes to email and hook, not to the down-only sms channel.
    clock.advance(60)
    await h.feed("db", good(clock()))
    await h.dispatcher.run_once()
    assert len(sms.requests) == 2
    assert hook.requests[-1].json()["kind"] == "up"
    assert smtp.inbox[-1].subject.startswith("[probed] UP: db (INC-2026-001, down ")


async def test_probed_test_alert_sends_through_every_channel_type_and_prints_the_answers(
    tmp_path, smtp, receivers
):
    far = await receivers([200])
    down = await receivers([503])
    host = far.url.removeprefix("http://")
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nstate_dir = "{tmp_path}"\nlocation = "fra"\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        'from = "probed@example.test"\nto = ["oncall@example.test"]\n'
        f'[alerts.hook]\ntype = "webhook"\nurl = "{far.url}/hook?token=s3cr3t"\n'
        f'[alerts.am]\ntype = "alertmanager"\nurls = ["{far.url}"]\n'
        f'[alerts.chat]\ntype = "apprise"\nurls = ["json://{host}/chat"]\n'
        f'[alerts.broken]\ntype = "webhook"\nurl = "{down.url}/x"\n'
        '[[monitor]]\nname = "api"\nurl = "https://api.example.invalid/"\n'
        'alert = ["email", "hook", "am", "chat"]\n'
    )
    code, out, err = await run_cli("test-alert", "-c", str(config))
    assert code == 2, err  # one channel failed
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["email"].startswith("OK: 250 ")
    assert lines["hook"] == "OK: HTTP 200: ok"
    assert lines["am"] == f"OK: {far.url} HTTP 200: ok"
    assert lines["chat"] == "OK: taken by json://***"
    assert lines["broken"] == f"FAILED: {down.url} answered HTTP 503: not now (transient failure)"
    assert "s3cr3t" not in out + err
    by_path = {r.path.partition("?")[0]: r for r in far.requests}
    assert by_path["/hook"].json()["kind"] == "test"
    assert by_path["/hook"].json()["location"] == "fra"
    (alert,) = by_path["/api/v2/alerts"].json()
    assert alert["labels"]["alertname"] == "ProbedTest"
    assert by_path["/chat"].json()["title"].startswith("[probed] TEST: ")
    assert len(smtp.inbox) == 1

    code, out, err = await run_cli("test-alert", "--channel", "hook", "-c", str(config))
    assert (code, out) == (0, "hook: OK: HTTP 200: ok\n")
