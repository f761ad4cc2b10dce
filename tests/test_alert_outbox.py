"""The durable outbox and its dispatcher, in-process against a real SMTP server on loopback,
with a fake clock: retries and backoff, restarts, ordering, expiry, storms, reminders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from probed.alerts.outbox import AlertStatus
from probed.model import Status
from probed.probes import make_session
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.figures import report
from tests.kit.harness import Harness, failed, good
from tests.kit.incident_ids import incident_ids
from tests.kit.monitors import make_monitor


def harness(tmp_path, smtp, names=("api",), clock=None, **settings) -> Harness:
    monitors = [make_monitor(n) for n in names]
    config = make_config(tmp_path, monitors, email_channel(smtp.port), **settings)
    return Harness(config, clock or FakeClock())


async def down_in_turn(h: Harness, every: float | None = None) -> None:
    """Takes each of ``h``'s monitors down in config order; with ``every``, the dispatcher
    runs after each and the clock then moves on ``every`` seconds."""
    for monitor in h.config.monitors:
        await h.go_down(monitor.name)
        if every is not None:
            await h.dispatcher.run_once()
            h.clock.advance(every)


async def test_a_down_alert_written_while_smtp_is_down_arrives_once_it_is_back(
    tmp_path, smtp, request
):
    await smtp.stop()  # the SMTP server goes away before the outage
    h = harness(tmp_path, smtp)
    await h.go_down("api")
    await h.dispatcher.run_once()
    delays = []
    for _ in range(8):
        (row,) = h.rows()
        assert row.status is AlertStatus.PENDING and "Connect call failed" in row.last_error
        delays.append((row.next_attempt_at - h.clock()).total_seconds())
        h.clock.advance(delays[-1] - 0.5)
        await h.dispatcher.run_once()
        assert h.rows()[0].attempts == row.attempts  # not before its time
        h.clock.advance(0.5)
        await h.dispatcher.run_once()
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300]
    assert h.metric("probed_alert_queue_length", channel="email") == 1
    age = (h.clock() - T0).total_seconds()
    assert h.metric("probed_alert_oldest_pending_seconds", channel="email") == age
    await smtp.start()
    h.clock.advance((h.rows()[0].next_attempt_at - h.clock()).total_seconds())
    await h.dispatcher.run_once()
    (mail,) = smtp.inbox
    (row,) = h.rows()
    assert mail.subject == "[probed] DOWN: api (INC-2026-001)"
    assert mail.message_id == row.message_id and row.status is AlertStatus.SENT
    assert h.metric("probed_alerts_total", channel="email", kind="down", outcome="sent") == 1
    assert h.metric("probed_alert_queue_length", channel="email") == 0
    report(
        request,
        "SMTP outage (in-process, fake clock)",
        [
            f"retry delays while the SMTP server was down: {delays} s",
            f"DOWN delivered after {row.attempts + 1} attempts, {age:.0f} s of SMTP outage: "
            f"{len(smtp.inbox)} email",
        ],
    )
    await h.close()


async def test_pending_alerts_are_sent_at_once_after_a_restart_with_their_stored_message_id(
    tmp_path, smtp
):
    await smtp.stop()
    h = harness(tmp_path, smtp)
    await h.go_down("api")
    await h.dispatcher.run_once()
    (pending,) = h.rows()
    assert pending.attempts == 1
    await h.close()  # the daemon stops (or is killed) with the alert unsent
    await smtp.start()
    h = harness(tmp_path, smtp)
    assert h.tracked("api").state.status is Status.DOWN
    await h.dispatcher.run_once()  # before the stored retry time: a restart tries at once
    (mail,) = smtp.inbox
    assert mail.message_id == pending.message_id
    await h.close()


async def test_a_monitors_alerts_arrive_in_order(tmp_path, smtp):
    await smtp.stop()
    h = harness(tmp_path, smtp)
    await h.go_down("api")
    await h.dispatcher.run_once()
    h.clock.advance(30)
    assert await h.feed("api", good(h.clock())) == ["up"]
    await smtp.start()
    h.clock.advance(5)
    await h.dispatcher.run_once()
    assert smtp.subjects() == [
        "[probed] DOWN: api (INC-2026-001)",
        "[probed] UP: api (INC-2026-001, down 32s)",
    ]
    await h.close()


async def test_blips_first_checks_and_pauses_write_no_alert(tmp_path, smtp):
    h = harness(tmp_path, smtp, names=("a", "b"))
    t = h.clock()
    assert await h.feed("a", good(t)) == ["first_up"]
    assert await h.feed("a", failed(t)) == ["seems_down"]
    assert await h.feed("a", good(t)) == ["blip"]
    for _ in range(2):
        await h.feed("a", failed(t))
    assert await h.feed("a", good(t)) == ["blip"]
    await h.go_down("b")
    h.pause("b")
    assert [r.kind for r in h.rows()] == ["down"]  # only b's outage
    await h.close()


async def test_without_a_channel_nothing_is_written(tmp_path):
    config = make_config(tmp_path, [make_monitor("api")], None)
    h = Harness(config, FakeClock())
    await h.go_down("api")
    await h.dispatcher.run_once()
    assert h.rows() == []
    await h.close()


async def test_a_restart_while_down_writes_no_second_down(tmp_path, smtp):
    h = harness(tmp_path, smtp)
    await h.go_down("api")
    await h.dispatcher.run_once()
    await h.close()
    h = harness(tmp_path, smtp, clock=FakeClock(T0 + timedelta(minutes=5)))
    for _ in range(5):
        assert await h.feed("api", failed(h.clock.advance(1))) == []
    await h.dispatcher.run_once()
    assert smtp.subjects() == ["[probed] DOWN: api (INC-2026-001)"]
    await h.close()


async def test_an_undeliverable_alert_is_given_up_after_alert_max_age_loudly(tmp_path, smtp):
    await smtp.stop()
    h = harness(tmp_path, smtp, alert_max_age=3600.0)
    await h.go_down("api")
    await h.dispatcher.run_once()
    h.clock.advance(3599)
    await h.dispatcher.run_once()
    assert h.rows()[0].status is AlertStatus.PENDING
    h.clock.advance(2)
    with capture_logs() as logs:
        await h.dispatcher.run_once()
    (row,) = h.rows()
    assert row.status is AlertStatus.EXPIRED and "Connect call failed" in row.last_error
    (event,) = [e for e in logs if e["log_level"] == "error"]
    assert event["event"] == "alert given up: undeliverable for too long"
    assert h.metric("probed_alerts_total", channel="email", kind="down", outcome="failed") == 1
    assert h.metric("probed_alert_queue_length", channel="email") == 0
    await h.close()


@pytest.fixture
async def target():
    """/ok/<name> answers 200, /down/<name> 503; ``state["down"]`` switches every path."""
    state = {"down": False}

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=503 if state["down"] else 200)

    app = web.Application()
    app.router.add_get("/{name}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield state, str(server.make_url(""))
    await server.close()


async def test_twenty_monitors_failing_in_the_same_second_send_three_emails_and_one_digest(
    tmp_path, smtp, target, request
):
    state, base = target
    names = [f"site-{i:02}" for i in range(20)]
    monitors = [make_monitor(n, url=f"{base}/{n}", down_after=1, timeout=2.0) for n in names]
    config = make_config(tmp_path, monitors, email_channel(smtp.port))
    async with make_session() as session:
        h = Harness(config, FakeClock(), session)
        pipeline = h.pipeline
        await asyncio.gather(*(pipeline.check(n) for n in names))  # all up
        state["down"] = True
        await asyncio.gather(*(pipeline.check(n) for n in names))
        assert all(t.state.status is Status.DOWN for t in pipeline.monitors.values())
        await h.dispatcher.run_once()
        singles = list(smtp.subjects())
        h.clock.advance(59)
        await h.dispatcher.run_once()
        assert smtp.subjects() == singles  # the digest waits for the end of the window
        h.clock.advance(1)
        await h.dispatcher.run_once()
        down_subjects = list(smtp.subjects())
        assert all(r.status is AlertStatus.SENT for r in h.rows())
        h.clock.advance(600)
        state["down"] = False
        await asyncio.gather(*(pipeline.check(n) for n in names))
        await h.dispatcher.run_once()
        h.clock.advance(60)
        await h.dispatcher.run_once()
        incidents = incident_ids(h.store)
    up_subjects = smtp.subjects()[len(down_subjects) :]
    # Which three go singly is the checks' race; each names its own outage's incident.
    single_names = [s.split()[2] for s in singles]
    assert len(singles) == 3 and all(n.startswith("site-") for n in single_names)
    assert sorted(incidents) == names and all(len(i) == 1 for i in incidents.values())
    assert singles == [f"[probed] DOWN: {n} ({incidents[n][0]})" for n in single_names]
    assert down_subjects[3:] == ["[probed] DOWN: 17 monitors"]
    assert len(up_subjects) == 4 and up_subjects[3] == "[probed] UP: 17 monitors"
    assert sorted(up_subjects[:3]) == sorted(  # 60 s + 600 s
        f"[probed] UP: {n} ({incidents[n][0]}, down 11m)" for n in single_names
    )
    digest = smtp.inbox[3]
    in_digest = [n for n in names if n in digest.part("plain")]
    assert len(in_digest) == 17 and not set(in_digest) & set(single_names)
    assert digest.message_id.startswith("<digest-")
    assert h.metric("probed_alerts_total", channel="email", kind="digest", outcome="sent") == 2
    report(
        request,
        "alert storm: 20 monitors down in the same second, then all up again",
        [
            f"DOWN: {len(singles)} single emails at once + 1 digest 60 s later "
            f"({down_subjects[3]!r})",
            f"UP:   3 single emails + 1 digest ({up_subjects[3]!r})",
            f"emails in total: {len(smtp.inbox)} (instead of 40)",
        ],
    )
    await h.close()


async def test_a_held_digest_survives_a_restart_and_goes_out_at_the_end_of_its_window(
    tmp_path, smtp
):
    names = [f"m{i}" for i in range(6)]
    h = harness(tmp_path, smtp, names=names)
    await down_in_turn(h)
    await h.dispatcher.run_once()
    assert len(smtp.inbox) == 3
    await h.close()
    h = harness(tmp_path, smtp, names=names, clock=FakeClock(T0 + timedelta(seconds=10)))
    await h.dispatcher.run_once()
    assert len(smtp.inbox) == 3
    h.clock.advance(50)
    await h.dispatcher.run_once()
    assert smtp.subjects()[3:] == ["[probed] DOWN: 3 monitors"]
    await h.close()


async def test_stopping_flushes_what_is_due_and_held_digests_within_the_grace(tmp_path, smtp):
    names = [f"m{i}" for i in range(5)]
    h = harness(tmp_path, smtp, names=names)
    h.dispatcher.start()
    await down_in_turn(h)
    await h.dispatcher.stop(5.0)
    assert sorted(smtp.subjects())[-1] == "[probed] DOWN: m2 (INC-2026-003)"
    assert "[probed] DOWN: 2 monitors" in smtp.subjects() and len(smtp.inbox) == 4
    assert [r for r in h.rows() if r.status is not AlertStatus.SENT] == []
    await h.close()


async def test_reminders_repeat_every_remind_every_while_down_and_survive_a_restart(tmp_path, smtp):
    config = make_config(
        tmp_path, [make_monitor("api", remind_every=3600.0)], email_channel(smtp.port)
    )
    h = Harness(config, FakeClock())
    await h.go_down("api")
    await h.dispatcher.run_once()
    h.clock.advance(3599)
    await h.dispatcher.run_once()
    assert len(smtp.inbox) == 1
    h.clock.advance(1)
    await h.dispatcher.run_once()
    await h.dispatcher.run_once()
    assert smtp.subjects() == [
        "[probed] DOWN: api (INC-2026-001)",
        "[probed] STILL DOWN: api (INC-2026-001, down 1h)",
    ]
    await h.close()
    h = Harness(config, FakeClock(T0 + timedelta(seconds=3700)))
    await h.dispatcher.run_once()
    assert len(smtp.inbox) == 2  # the restart does not remind again early
    h.clock.advance(3500)
    await h.dispatcher.run_once()
    assert smtp.subjects()[-1] == "[probed] STILL DOWN: api (INC-2026-001, down 2h)"
    await h.close()


async def test_ssl_warnings_go_out_once_per_threshold_even_across_a_restart(tmp_path, smtp):
    expires = T0 + timedelta(days=40)
    cert = make_monitor("cert", "ssl", ssl_expiry_days=30)
    config = make_config(tmp_path, [cert], email_channel(smtp.port))

    async def check(h: Harness, days_left: float) -> None:
        at = expires - timedelta(days=days_left)
        h.clock.t = at
        await h.feed("cert", good(at, cert_expires_at=expires))

    h = Harness(config, FakeClock())
    for days in (35, 29, 15, 14.5):
        await check(h, days)
        await h.dispatcher.run_once()
    await h.close()
    h = Harness(config, FakeClock())
    for days in (14.2, 13, 7.5, 3):
        await check(h, days)
        await h.dispatcher.run_once()
    assert smtp.subjects() == [
        "[probed] SSL: cert certificate expires in 14 days",
        "[probed] SSL: cert certificate expires in 7 days",
    ]
    assert "expires in 14 days" in smtp.inbox[0].part("plain")
    await h.close()


async def test_a_storm_longer_than_its_window_sends_a_digest_per_window_not_per_round(
    tmp_path, smtp
):
    # One monitor down every second for two minutes, the dispatcher running every second:
    # the storm outlasts the first digest's window, and the rest must not leave as dozens
    # of digests of one or two monitors each.
    names = [f"m{i:03}" for i in range(120)]
    h = harness(tmp_path, smtp, names=names)
    await down_in_turn(h, every=1)
    h.clock.advance(60)
    await h.dispatcher.run_once()
    subjects = smtp.subjects()
    assert subjects[:3] == [
        "[probed] DOWN: m000 (INC-2026-001)",
        "[probed] DOWN: m001 (INC-2026-002)",
        "[probed] DOWN: m002 (INC-2026-003)",
    ]
    # The first digest closes a window after the storm's first alert (m003…m059), the
    # second a window after it opened (m060…m119).
    assert subjects[3:] == ["[probed] DOWN: 57 monitors", "[probed] DOWN: 60 monitors"]
    assert all(r.status is AlertStatus.SENT for r in h.rows())
    await h.close()
