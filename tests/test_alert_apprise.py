"""The apprise channel through the real apprise library: json:// and form:// services pointed at
loopback receivers, delivered by build()'s real dispatcher with a fake clock; and `probed check`
judging real service URL shapes offline."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from probed.alerts.dispatcher import backoff
from probed.alerts.outbox import AlertStatus
from probed.config.channels import AppriseChannel
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.figures import report
from tests.kit.harness import good
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli


async def test_json_and_form_services_get_the_alert_once_and_a_retry_skips_the_one_that_took_it(
    tmp_path, request, receivers, harnesses
):
    chat = await receivers([200])
    form = await receivers([500, 200])
    host = lambda r: r.url.removeprefix("http://")  # noqa: E731
    channel = AppriseChannel(urls=(f"json://{host(chat)}/chat", f"form://{host(form)}/sms"))
    config = make_config(tmp_path, [make_monitor("api")], alerts={"chat": channel})
    h = harnesses(config, FakeClock())
    await h.go_down("api")
    decided = time.monotonic()
    await h.dispatcher.run_once()
    latency = chat.requests[0].at - decided
    (row,) = h.rows()
    assert row.status is AlertStatus.PENDING and "form://***" in row.last_error
    assert "json://" not in row.last_error
    h.clock.advance(backoff(1))
    await h.dispatcher.run_once()
    assert h.rows()[0].status is AlertStatus.SENT
    h.clock.advance(600)
    await h.dispatcher.run_once()
    assert len(chat.requests) == 1  # it took the first attempt: not sent again
    assert [r.answered for r in form.requests] == [500, 200]
    sent = chat.requests[0].json()
    assert sent["title"] == "[probed] DOWN: api (INC-2026-001)"
    assert "Reason:        HTTP 503, expected 2xx" in sent["message"]
    assert sent["type"] == "failure"
    fields = parse_qs(form.requests[1].body.decode())
    assert fields["title"] == ["[probed] DOWN: api (INC-2026-001)"]
    assert form.requests[0].body == form.requests[1].body
    assert h.metric("probed_alerts_total", channel="chat", kind="down", outcome="sent") == 1

    assert await h.feed("api", good(h.clock())) == ["up"]
    await h.dispatcher.run_once()
    up = chat.requests[1].json()
    assert (
        up["title"].startswith("[probed] UP: api (INC-2026-001, down ") and up["type"] == "success"
    )
    assert len(form.requests) == 3
    report(
        request,
        "apprise channel (json:// and form:// to loopback)",
        [f"DOWN decided → json receiver got it: {latency * 1000:.1f} ms"],
    )


async def test_probed_check_accepts_real_service_url_shapes_and_rejects_broken_ones_offline(
    tmp_path,
):
    good_urls = [
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        "tgram://123456789:abcdefg_hijklmnop/12315544",
        "ntfy://ntfy.example.invalid/probed-alerts",
        "twilio://AC735c307c62944b5a:e29dfbcebad0d0d6d8d92e1e5c8d8d0b@12345678901/12345678902",
    ]
    bad_urls = ["slack://T1JJ3T3L2/only-one", "tgram://bot/", "twilio://AC735c307c62944b5a"]
    config = tmp_path / "monitors.toml"

    def write(urls: list[str]) -> None:
        quoted = ", ".join(f'"{u}"' for u in urls)
        config.write_text(
            f'[probed]\nstate_dir = "{tmp_path}"\n'
            f'[alerts.chat]\ntype = "apprise"\nurls = [{quoted}]\n'
            '[[monitor]]\nname = "api"\nurl = "https://api.example.invalid/"\n'
            'alert = ["chat"]\n'
        )

    write(good_urls)
    code, out, err = await run_cli("check", "-c", str(config))
    assert code == 0, err
    write(bad_urls)
    code, out, err = await run_cli("check", "-c", str(config))
    assert code == 1
    for scheme in ("slack", "tgram", "twilio"):
        assert f'[alerts.chat] urls: apprise cannot use "{scheme}://***"' in err
    # The tokens of the refused URLs are nowhere in what it printed.
    assert "only-one" not in err + out
    assert "AC735c307c62944b5a" not in err + out


async def test_a_service_that_never_answers_costs_the_channel_its_timeout_not_the_loop(
    tmp_path, receivers, harnesses
):
    hung = await receivers([200])
    hung.hang()
    host = hung.url.removeprefix("http://")
    channel = AppriseChannel(urls=(f"json://{host}/chat",), timeout=1.0)
    config = make_config(tmp_path, [make_monitor("api")], alerts={"chat": channel})
    h = harnesses(config, FakeClock())
    try:
        await h.go_down("api")
        started = time.monotonic()
        await h.dispatcher.run_once()
        waited = time.monotonic() - started
        (row,) = h.rows()
        assert row.status is AlertStatus.PENDING and row.attempts == 1
        assert row.last_error == "apprise: no answer within 1s"
        assert waited < 3.5  # bounded by the channel's timeout, not apprise's own 4 s read
    finally:
        hung.release()  # so that the receivers fixture can stop it
