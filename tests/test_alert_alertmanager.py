"""The Alertmanager channel against Debian's real prometheus-alertmanager, started by the test
with a webhook receiver of its own. Alertmanager judges ``endsAt`` by its own clock, so these
tests run probed on the real wall clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from probed.alerts.alertmanager import AlertmanagerNotifier
from probed.alerts.channels import send_test
from probed.alerts.outbox import AlertStatus
from probed.config.channels import AlertmanagerChannel
from probed.units import utcnow
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.figures import report
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor
from tests.kit.processes import free_port
from tests.kit.receiver import Receiver
from tests.kit.smtp import SmtpServer
from tests.kit.stack import Alertmanager
from tests.kit.tools import require_tool


class WallClock:
    def __call__(self) -> datetime:
        return utcnow()


async def until(receiver: Receiver, check, timeout: float) -> None:
    """Wait until ``check()`` holds, looking again at each request the receiver gets."""
    async with asyncio.timeout(timeout):
        while True:
            receiver.arrived.clear()
            if check():
                return
            await receiver.arrived.wait()


def statuses(am: Alertmanager) -> list[str]:
    return [n["status"] for n in am.notifications()]


@require_tool("prometheus-alertmanager")
async def test_a_down_monitor_fires_in_alertmanager_survives_a_probed_restart_and_resolves_on_up(
    tmp_path, request
):
    receiver = await Receiver([200]).start()
    am = await Alertmanager(tmp_path / "am", receiver).start()
    # A second URL where nothing listens: an HA peer that is down must not fail delivery.
    dead = f"http://127.0.0.1:{free_port()}"
    # Re-sent every second, so valid 4 s: a restart without the stored state would let it lapse.
    channel = AlertmanagerChannel(urls=(am.url, dead), resend_every=1.0, timeout=2.0)
    api = make_monitor("api", severity="critical", tags=(("team", "db"),))
    config = make_config(tmp_path, [api], alerts={"am": channel}, location="fra")
    clock = WallClock()
    h = Harness(config, clock)  # type: ignore[arg-type]
    try:
        await h.go_down("api")
        decided = time.monotonic()
        await h.dispatcher.run_once()
        assert h.rows()[0].status is AlertStatus.SENT
        await until(receiver, lambda: statuses(am) == ["firing"], 15)
        notified = receiver.requests[-1].at - decided
        (firing,) = am.notifications()[0]["alerts"]
        assert firing["labels"] == {
            "alertname": "ProbedMonitorDown",
            "monitor": "api",
            "severity": "critical",
            "team": "db",
            "location": "fra",
        }
        # On the wall clock the ID's year is the confirmed DOWN's (docs/design.md §17.1).
        (down, *_) = h.store.transitions(h.tracked("api").id)
        assert down.kind.value == "down"
        incident = f"INC-{down.at.year}-001"
        assert firing["annotations"]["summary"] == f"DOWN: api ({incident})"
        assert firing["annotations"]["incident"] == incident
        assert firing["annotations"]["reason"] == "HTTP 503, expected 2xx"
        assert firing["annotations"]["url"] == "https://api.example.test/health"
        outage_start = h.tracked("api").state.outage_start
        assert datetime.fromisoformat(firing["startsAt"]) == outage_start.replace(microsecond=0)
        await h.close()

        # probed is away for 1 s, then a new one runs on the same state for 6 s more: well
        # past the 4 s the last send was valid for.
        await asyncio.sleep(1)
        h = Harness(config, clock)  # type: ignore[arg-type]
        for _ in range(12):  # the daemon's loop, for 6 s
            await h.dispatcher.run_once()
            await asyncio.sleep(0.5)
        assert statuses(am) == ["firing"]  # never resolved across the restart

        assert await h.feed("api", good(clock())) == ["up"]
        recovered = time.monotonic()
        await h.dispatcher.run_once()
        await until(receiver, lambda: statuses(am) == ["firing", "resolved"], 15)
        resolved_after = receiver.requests[-1].at - recovered
        (resolved,) = am.notifications()[1]["alerts"]
        assert resolved["labels"]["alertname"] == "ProbedMonitorDown"
        assert resolved["status"] == "resolved"
        assert resolved["startsAt"] == firing["startsAt"]
    finally:
        await h.close()
        await am.stop()
        await receiver.stop()
    report(
        request,
        "alertmanager channel (real prometheus-alertmanager, group_wait 1s)",
        [
            f"DOWN decided → Alertmanager's webhook notified: {notified * 1000:.0f} ms",
            f"UP decided → resolved notification: {resolved_after * 1000:.0f} ms",
            "probed restarted while down (1 s away, then 6 s of re-sends each valid 4 s):"
            " no resolved in between",
        ],
    )


@require_tool("prometheus-alertmanager")
async def test_a_test_message_reaches_alertmanager_and_says_what_it_answered(tmp_path):
    receiver = await Receiver([200]).start()
    am = await Alertmanager(tmp_path / "am", receiver).start()
    try:
        config = make_config(
            tmp_path, [make_monitor("api")], alerts={"am": AlertmanagerChannel(urls=(am.url,))}
        )
        (outcome,) = await send_test(config, utcnow())
        assert outcome.ok and outcome.channel == "am"
        assert outcome.answer == f"{am.url} HTTP 200"
        await until(receiver, lambda: statuses(am) == ["firing"], 15)
        (alert,) = am.notifications()[0]["alerts"]
        assert alert["labels"]["alertname"] == "ProbedTest"
    finally:
        await am.stop()
        await receiver.stop()


def test_the_notifier_is_a_refreshing_channel():
    channel = AlertmanagerNotifier("am", AlertmanagerChannel(urls=("http://127.0.0.1:1",)), utcnow)
    assert channel.refresh_due() is None  # nothing stored, nothing to re-send


async def test_an_alert_left_firing_by_a_monitor_removed_on_reload_is_resolved(
    tmp_path, receivers, harnesses
):
    am = await receivers([200])  # Alertmanager's API, as far as probed can tell
    channel = AlertmanagerChannel(urls=(am.url,))
    config = make_config(
        tmp_path, [make_monitor("api"), make_monitor("web")], alerts={"am": channel}
    )
    clock = FakeClock()
    h = harnesses(config, clock)
    await h.go_down("api")
    await h.dispatcher.run_once()
    (fired,) = am.requests[-1].json()
    assert fired["endsAt"] == "2026-03-01T12:04:00Z"  # valid for four resend intervals
    clock.advance(60)
    await h.dispatcher.run_once()
    (refreshed,) = am.requests[-1].json()
    assert refreshed["endsAt"] == "2026-03-01T12:05:00Z"
    h.parts.apply(replace(config, monitors=config.monitors[1:]))  # "api" is gone
    clock.advance(1)
    await h.dispatcher.run_once()
    (resolved,) = am.requests[-1].json()
    assert resolved["labels"]["monitor"] == "api"
    assert resolved["endsAt"] == "2026-03-01T12:01:01Z"
    assert resolved["startsAt"] == fired["startsAt"]


TEMPLATE = Path(__file__).parent.parent / "contrib/alertmanager/probed-subjects.tmpl"
MAIL_CONFIG = """\
templates: ["{template}"]
route:
  receiver: mail
  group_by: [alertname, monitor]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: mail
    email_configs:
      - to: oncall@example.test
        from: alertmanager@example.test
        smarthost: 127.0.0.1:{port}
        require_tls: false
        send_resolved: true
        headers:
          Subject: '{{{{ template "probed.subject" . }}}}'
"""


@require_tool("prometheus-alertmanager")
async def test_the_contrib_template_gives_alertmanager_mail_probed_s_own_subjects(tmp_path):
    smtp = await SmtpServer().start()
    receiver = await Receiver([200]).start()
    config = MAIL_CONFIG.format(template=TEMPLATE, port=smtp.port)
    am = await Alertmanager(tmp_path / "am", receiver, config).start()
    clock = WallClock()
    api = make_monitor("api", down_after=1)
    channels = {"am": AlertmanagerChannel(urls=(am.url,))}
    h = Harness(make_config(tmp_path, [api], alerts=channels), clock)
    try:
        start = clock() - timedelta(seconds=750)
        assert await h.feed("api", failed(start)) == ["down"]
        await h.dispatcher.run_once()
        await smtp.wait_for(1, 15)
        # Recovered exactly 750 s after the start, however long the first mail took to arrive.
        assert await h.feed("api", good(start + timedelta(seconds=750))) == ["up"]
        await h.dispatcher.run_once()
        await smtp.wait_for(2, 15)
        # The template appends the `incident` annotation, as probed's own subjects do.
        (_, down, *_) = h.store.transitions(h.tracked("api").id)
        assert down.kind.value == "down"
        incident = f"INC-{down.at.year}-001"
        assert [m.subject for m in smtp.inbox] == [
            f"[probed] DOWN: api ({incident})",
            f"[probed] UP: api ({incident}, down 12m 30s)",
        ]
    finally:
        await h.close()
        await am.stop()
        await receiver.stop()
        await smtp.stop()
