"""The webhook channel against a real aiohttp receiver on loopback, through build()'s real
pipeline → outbox → dispatcher, with a fake clock for the retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from structlog.testing import capture_logs

from probed.alerts.dispatcher import backoff
from probed.alerts.outbox import AlertStatus
from probed.config import Config
from probed.config.channels import WebhookChannel
from tests.kit.configs import make_config
from tests.kit.figures import report
from tests.kit.harness import good
from tests.kit.monitors import make_monitor

SECRET = "hook-secret-7f3a"


def hook_config(tmp_path, hook: WebhookChannel, **monitor_settings) -> Config:
    settings = {"severity": "critical", "tags": (("team", "db"),)} | monitor_settings
    return make_config(
        tmp_path, [make_monitor("api", **settings)], alerts={"hook": hook}, location="fra"
    )


def verify(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def test_a_webhook_answering_500_twice_gets_the_same_alert_until_it_takes_it_once(
    tmp_path, request, receivers, harnesses
):
    receiver = await receivers([500, 500, 200])
    hook = WebhookChannel(
        url=receiver.url + "/probed?token=abc",
        secret=SECRET,
        headers=(("Authorization", "Bearer t0k"),),
    )
    h = harnesses(hook_config(tmp_path, hook))
    await h.go_down("api")
    decided = time.monotonic()
    await h.dispatcher.run_once()
    latency = receiver.requests[0].at - decided
    for attempt in (1, 2):
        (row,) = h.rows()
        assert row.status is AlertStatus.PENDING and row.attempts == attempt
        assert "answered HTTP 500" in row.last_error
        h.clock.advance(backoff(attempt))
        await h.dispatcher.run_once()
    (row,) = h.rows()
    assert row.status is AlertStatus.SENT
    await h.dispatcher.run_once()
    assert len(receiver.requests) == 3  # delivered exactly once after two refusals
    assert [r.answered for r in receiver.requests] == [500, 500, 200]
    bodies = [r.json() for r in receiver.requests]
    assert {b["message_id"] for b in bodies} == {row.message_id}
    assert len({r.body for r in receiver.requests}) == 1  # every retry sends the same bytes
    for r in receiver.requests:
        assert verify(SECRET, r.body, r.headers["X-Probed-Signature"])
        assert r.headers["Authorization"] == "Bearer t0k"
        assert r.headers["Content-Type"] == "application/json"
        assert r.path == "/probed?token=abc"
    down = bodies[0]
    tracked = h.tracked("api")
    assert down["version"] == 1 and down["kind"] == "down"
    assert down["monitor"] == {
        "id": tracked.id,
        "name": "api",
        "url": "https://api.example.test/health",
        "type": "http",
        "severity": "critical",
        "tags": {"team": "db"},
        "group": None,
    }
    assert (down["status"], down["state"]) == (9, "down")
    assert down["reason"] == "HTTP 503, expected 2xx"
    assert down["outage_start"] == "2026-03-01T11:59:58Z"
    assert down["at"] == "2026-03-01T12:00:00Z"
    assert down["location"] == "fra" and down["text"] == "[probed] DOWN: api (INC-2026-001)"
    # No external_url in this config: the incident has no links to give (docs/alerts.md).
    assert down["incident"] == {"id": "INC-2026-001", "url": None, "ack_url": None}
    assert h.metric("probed_alerts_total", channel="hook", kind="down", outcome="sent") == 1
    assert h.metric("probed_alert_queue_length", channel="hook") == 0

    h.clock.advance(733)  # 2 s to confirm + 15 s of retries + 733 s = 12m 30s
    assert await h.feed("api", good(h.clock())) == ["up"]
    await h.dispatcher.run_once()
    up = receiver.requests[3].json()
    assert verify(
        SECRET, receiver.requests[3].body, receiver.requests[3].headers["X-Probed-Signature"]
    )
    assert (up["kind"], up["status"], up["state"]) == ("up", 2, "up")
    assert up["outage_seconds"] == 750.0
    assert up["outage_start"] == down["outage_start"]
    assert up["text"] == "[probed] UP: api (INC-2026-001, down 12m 30s)"
    assert up["incident"] == down["incident"]
    assert up["message_id"] != down["message_id"]
    report(
        request,
        "webhook channel (in-process, loopback receiver)",
        [
            f"DOWN decided → receiver got it: {latency * 1000:.1f} ms",
            f"answers 500, 500, 200: retried after {backoff(1):g} s and {backoff(2):g} s, "
            "delivered once, same message_id and signature each time",
        ],
    )


async def test_a_webhook_refusing_with_404_is_given_up_at_once_and_counted(
    tmp_path, receivers, harnesses
):
    receiver = await receivers([404])
    h = harnesses(hook_config(tmp_path, WebhookChannel(url=receiver.url + "/gone")))
    await h.go_down("api")
    await h.dispatcher.run_once()
    h.clock.advance(600)
    await h.dispatcher.run_once()
    (row,) = h.rows()
    assert row.status is AlertStatus.FAILED and "HTTP 404" in row.last_error
    assert len(receiver.requests) == 1
    assert h.metric("probed_alerts_total", channel="hook", kind="down", outcome="failed") == 1


@pytest.mark.parametrize("status", [408, 429, 503])
async def test_a_webhook_answering_a_retryable_status_is_retried(
    tmp_path, status, receivers, harnesses
):
    receiver = await receivers([status, 204])
    h = harnesses(hook_config(tmp_path, WebhookChannel(url=receiver.url)))
    await h.go_down("api")
    await h.dispatcher.run_once()
    h.clock.advance(backoff(1))
    await h.dispatcher.run_once()
    assert [r.answered for r in receiver.requests] == [status, 204]
    assert h.rows()[0].status is AlertStatus.SENT


async def test_a_body_template_renders_in_a_sandbox_and_is_what_gets_signed(
    tmp_path, receivers, harnesses
):
    receiver = await receivers([200])
    template = (
        '{"content": {{ text | tojson }}, "who": {{ monitor.name | tojson }},'
        ' "tags": {{ monitor.tags | tojson }}, "escape": "{{ ().__class__ }}"}'
    )
    hook = WebhookChannel(url=receiver.url, template=template, secret=SECRET)
    h = harnesses(hook_config(tmp_path, hook))
    await h.go_down("api")
    await h.dispatcher.run_once()
    (r,) = receiver.requests
    assert json.loads(r.body)["content"] == "[probed] DOWN: api (INC-2026-001)"
    assert json.loads(r.body)["who"] == "api"
    assert json.loads(r.body)["tags"] == {"team": "db"}
    assert verify(SECRET, r.body, r.headers["X-Probed-Signature"])


async def test_a_template_reaching_for_unsafe_attributes_sends_the_default_body_instead(
    tmp_path, receivers, harnesses
):
    receiver = await receivers([200])
    template = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    h = harnesses(hook_config(tmp_path, WebhookChannel(url=receiver.url, template=template)))
    await h.go_down("api")
    with capture_logs() as logs:
        await h.dispatcher.run_once()
    (row,) = h.rows()
    assert row.status is AlertStatus.SENT
    (r,) = receiver.requests
    assert json.loads(r.body)["monitor"]["name"] == "api"
    assert "<class" not in r.body.decode()  # nothing of what the sandbox refused leaked
    (problem,) = [e for e in logs if e["log_level"] == "error"]
    assert problem["channel"] == "hook" and "SecurityError" in problem["error"]
