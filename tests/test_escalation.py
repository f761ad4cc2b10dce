"""Escalation (docs/design.md §17.3): while an incident is open and not acknowledged, each
``escalate`` step sends the DOWN to its channels once, ``after`` past the confirmed DOWN; the
channels that got a DOWN get the UP; a step due while probed was stopped goes out once at
start."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from probed.alerts.outbox import OutboxRow
from probed.config import EmailChannel
from probed.config.oncall import EscalationStep
from probed.model import AlertKind
from tests.kit.clock import FakeClock
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import wait_for

NOWHERE = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))
CHANNELS = {"email": NOWHERE, "sms": NOWHERE, "pagerduty": NOWHERE}
STEPS = (EscalationStep(900.0, ("sms",)), EscalationStep(3600.0, ("pagerduty",)))


def api(**settings: object):
    return make_monitor("api", alert=("email",), escalate=STEPS, **settings)


def sent(h: Harness, kind: AlertKind) -> list[str]:
    return [r.channel for r in h.rows() if r.kind is kind]


def escalated(rows: list[OutboxRow]) -> list[tuple[str, str]]:
    return [(r.channel, r.payload.incident) for r in rows if r.kind is AlertKind.DOWN]


async def go_down(h: Harness) -> None:
    for _ in range(3):
        await h.feed("api", failed(h.clock()))
        h.clock.advance(10)


async def test_each_step_goes_once_when_due_and_the_up_follows_every_channel(harnesses, tmp_path):
    from tests.kit.configs import make_config

    clock = FakeClock()
    h = harnesses(make_config(tmp_path, [api()], alerts=CHANNELS), clock)
    await go_down(h)
    confirmed = clock() - timedelta(seconds=10)
    assert sent(h, AlertKind.DOWN) == ["email"]
    clock.advance(900 - 10 - 1)
    assert h.recorder.tick(clock()) == confirmed + timedelta(seconds=900)
    assert sent(h, AlertKind.DOWN) == ["email"]
    clock.advance(1)
    h.recorder.tick(clock())
    h.recorder.tick(clock())
    assert sent(h, AlertKind.DOWN) == ["email", "sms"]
    code = h.rows()[0].payload.incident
    assert escalated(h.rows())[1] == ("sms", code)
    clock.advance(3600)
    h.recorder.tick(clock())
    assert sent(h, AlertKind.DOWN) == ["email", "sms", "pagerduty"]
    await h.feed("api", good(clock()))
    assert sorted(sent(h, AlertKind.UP)) == ["email", "pagerduty", "sms"]
    row = h.store.incidents.get(code)
    assert row is not None
    steps = [e.detail for e in h.store.incidents.events(row.id) if e.kind == "escalated"]
    assert [(s["step"], s["channels"]) for s in steps] == [(1, ["sms"]), (2, ["pagerduty"])]


async def test_an_acknowledged_incident_is_not_escalated(harnesses, tmp_path):
    from tests.kit.configs import make_config

    clock = FakeClock()
    h = harnesses(make_config(tmp_path, [api()], alerts=CHANNELS), clock)
    await go_down(h)
    h.parts.incidents.ack(h.rows()[0].payload.incident, "alice")
    clock.advance(7200)
    assert h.recorder.tick(clock()) is None
    await h.feed("api", good(clock()))
    assert sent(h, AlertKind.DOWN) == ["email"] and sent(h, AlertKind.UP) == ["email"]


async def test_a_step_due_while_stopped_is_sent_once_at_start(tmp_path):
    from tests.kit.configs import make_config

    clock = FakeClock()
    config = make_config(tmp_path, [api()], alerts=CHANNELS)
    h = Harness(config, clock)
    await go_down(h)
    await h.close()
    clock.advance(1200)  # step 1 fell due while stopped
    for _ in range(2):
        h = Harness(config, clock)
        await h.dispatcher.run_once()
        rows = h.rows()
        await h.close()
        assert [r.channel for r in rows if r.kind is AlertKind.DOWN] == ["email", "sms"]
    assert rows[-1].payload.incident == rows[0].payload.incident


async def test_escalation_in_real_time_reaches_a_webhook(tmp_path, switchable, receivers):
    """The whole daemon on the real clock: a DOWN to email, one second later to the pager."""
    pager = await receivers()
    port = free_port()
    switchable.status = 503
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path}"\n'
        f'[alerts.pager]\ntype = "webhook"\nurl = "{pager.url}/page"\n'
        f'[alerts.team]\ntype = "webhook"\nurl = "{pager.url}/team"\n'
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\ninterval = "1s"\n'
        'timeout = "1s"\nretry_interval = "1s"\ndown_after = 2\nalert = ["team"]\n'
        'escalate = [{ after = "1s", alert = ["pager"] }]\n'
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        await wait_for(lambda: any(r.path == "/page" for r in pager.requests), 15, "the page")
        paths = [r.path for r in pager.requests]
        assert paths[0] == "/team"  # the DOWN first, the escalation after
        team, page = paths.index("/team"), paths.index("/page")
        assert pager.requests[page].at - pager.requests[team].at >= 0.9
        body = pager.requests[page].json()
        assert body["kind"] == "down"
        switchable.status = 200
        await wait_for(lambda: sum(r.path == "/page" for r in pager.requests) == 2, 15, "the UP")
        await asyncio.sleep(1.5)
        pages = [r.json()["kind"] for r in pager.requests if r.path == "/page"]
        assert pages == ["down", "up"]
    finally:
        await daemon.stop()
