"""The report mail (docs/design.md §18.6): due while probed was stopped, it goes out at the
start, once; a second start or a second round sends nothing more; it arrives through a real
SMTP server (aiosmtpd) with a text and an HTML part; a first start sends nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from structlog.testing import capture_logs

from probed.config import EmailChannel
from probed.config.channels import WebhookChannel
from probed.config.report import ReportSettings
from probed.reports import schedule
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.test_disk_full import cap_and_fill

WEEKLY = ReportSettings("1w", 0, time(8, 0), "Europe/Berlin", ("email",))


@pytest.fixture
def config(tmp_path, smtp):
    email = EmailChannel(
        host="127.0.0.1",
        port=smtp.port,
        security="none",
        sender="probed@example.test",
        to=("ops@example.test",),
    )
    base = make_config(tmp_path, [make_monitor("api & co", alert=("email",))], email)
    return replace(base, report=WEEKLY)


async def run_week(h: Harness, hours: int) -> None:
    for _ in range(hours):
        await h.check("api & co", duration=0.2)
        h.clock.advance(3600)


async def test_a_report_due_while_stopped_goes_out_at_start_once(config, harnesses, smtp):
    # Tuesday 1 December: the first start marks the week that ended on Monday, sends nothing.
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    first = harnesses(config, clock)
    await first.dispatcher.run_once()
    await run_week(first, 24 * 5)
    await first.dispatcher.run_once()
    assert smtp.inbox == [] and [r.kind for r in first.rows()] == []
    await first.close()

    # Stopped over Monday 7 December 08:00 Berlin; started on Wednesday.
    clock.advance(2 * 86400)
    second = harnesses(config, clock)
    await second.dispatcher.run_once()
    (mail,) = await smtp.wait_for(1, 10)
    assert mail.subject == (
        "[probed] probed weekly report: 2026-11-30 08:00 to 2026-12-07 08:00 Europe/Berlin"
    )
    text, html = mail.part("plain"), mail.part("html")
    assert "api & co" in text and "Uptime" in text and "mean 200 ms" in text
    assert "api &amp; co" in html and "api & co" not in html
    await second.dispatcher.run_once()
    await second.close()

    third = harnesses(config, clock)
    await third.dispatcher.run_once()
    await third.dispatcher.run_once()
    assert len(smtp.inbox) == 1
    marks = third.store.report_marks.all()
    assert [(every, sent) for every, _, _, sent in marks] == [("1w", False), ("1w", True)]


async def test_the_next_round_after_the_moment_sends_the_new_week(config, harnesses, smtp):
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    h = harnesses(config, clock)
    await h.dispatcher.run_once()
    await run_week(h, 24 * 6 - 3)  # to Monday 7 December 07:00 UTC, 08:00 in Berlin
    clock.t = datetime(2026, 12, 7, 6, 59, tzinfo=UTC)
    await h.dispatcher.run_once()
    assert smtp.inbox == []
    clock.t = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    await h.dispatcher.run_once()
    await h.dispatcher.run_once()
    (mail,) = await smtp.wait_for(1, 10)
    assert "to 2026-12-07 08:00 Europe/Berlin" in mail.subject


async def test_a_webhook_channel_gets_the_report_text(tmp_path, harnesses, receivers, smtp):
    receiver = await receivers([200])
    config = make_config(
        tmp_path, [make_monitor("api & co")], alerts={"hook": WebhookChannel(url=receiver.url)}
    )
    config = replace(config, report=replace(WEEKLY, alert=("hook",)))
    clock = FakeClock(datetime(2026, 12, 7, 6, 0, tzinfo=UTC))
    h = harnesses(config, clock)
    await h.dispatcher.run_once()
    await run_week(h, 2)
    await h.dispatcher.run_once()
    (request,) = await receiver.wait_for(1)
    body = request.json()
    assert body["kind"] == "report" and body["monitor"] is None
    assert body["text"].startswith("probed weekly report: 2026-11-30 08:00 to 2026-12-07 08:00")
    assert "\napi & co\n  Uptime      100.00%" in body["text"]
    assert smtp.inbox == []


@pytest.mark.parametrize(
    ("settings", "now", "period"),
    [
        # Weekly, Monday 08:00 in Berlin (07:00 UTC in winter, 06:00 in summer).
        (WEEKLY, "2026-12-08T04:00", ("2026-11-30T07:00", "2026-12-07T07:00")),
        (WEEKLY, "2026-12-07T07:00", ("2026-11-30T07:00", "2026-12-07T07:00")),
        (WEEKLY, "2026-12-07T06:59", ("2026-11-23T07:00", "2026-11-30T07:00")),
        # Across the change to summer time the week is an hour shorter.
        (WEEKLY, "2026-03-31T00:00", ("2026-03-23T07:00", "2026-03-30T06:00")),
        # Monthly on the 1st at 08:00 UTC.
        (
            ReportSettings("1mo", 1, time(8, 0), "UTC", ("email",)),
            "2026-12-08T04:00",
            ("2026-11-01T08:00", "2026-12-01T08:00"),
        ),
        (
            ReportSettings("1mo", 28, time(0, 0), "UTC", ("email",)),
            "2026-03-27T00:00",
            ("2026-01-28T00:00", "2026-02-28T00:00"),
        ),
    ],
)
def test_periods_end_at_the_scheduled_moment(settings, now, period):
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    end = schedule.latest_end(settings, at)
    got = schedule.period_before(settings, end)
    assert tuple(t.strftime("%Y-%m-%dT%H:%M") for t in got) == period
    assert schedule.next_end(settings, at) > at >= end
    assert schedule.latest_end(settings, schedule.next_end(settings, at)) - end > timedelta(0)


async def test_a_report_that_cannot_be_made_holds_up_no_alert(config, harnesses, smtp):
    clock = FakeClock(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    h = harnesses(config, clock)
    # Damage from outside: another connection drops the marks table under the daemon.
    with sqlite3.connect(h.store.path) as other:
        other.execute("DROP TABLE report_marks")
    await h.go_down("api & co")
    with capture_logs() as logs:
        await h.dispatcher.run_once()
    (mail,) = await smtp.wait_for(1, 10)
    assert mail.subject.startswith("[probed] DOWN: api & co")
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["report failed"]
    # Not tried again at every round, only after a while.
    with capture_logs() as logs:
        await h.dispatcher.run_once()
    assert not [e for e in logs if e["event"] == "report failed"]


async def test_a_full_disk_still_sends_the_report_once(config, harnesses, smtp):
    # Forty monitors: a report larger than the free room left in the file's pages.
    more = tuple(make_monitor(f"service {i}", alert=("email",)) for i in range(39))
    config = replace(config, monitors=config.monitors + more)
    clock = FakeClock(datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    h = harnesses(config, clock)
    await h.dispatcher.run_once()
    await run_week(h, 24 * 3)  # to Tuesday 8 December 10:00
    cap_and_fill(h.store, h.tracked("api & co"), clock)
    await h.dispatcher.run_once()
    (mail,) = await smtp.wait_for(1, 10)
    assert "to 2026-12-07 08:00" in mail.subject
    assert h.store.report_marks.all()[-1][3] is False  # only the first start's mark is in

    h.store.cap_pages(None)  # room again: the held rows and the mark are written
    await h.dispatcher.run_once()
    await h.dispatcher.run_once()
    assert [sent for *_, sent in h.store.report_marks.all()] == [False, True]
    await h.close()
    again = harnesses(config, clock)
    await again.dispatcher.run_once()
    assert len(smtp.inbox) == 1
