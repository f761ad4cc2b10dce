"""Uptime maths on constructed timelines, against values computed by hand in each test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from probed.history.uptime import Change, PeriodKind, incidents, periods, ratio, timeline
from probed.model import Status
from probed.model import TransitionKind as K

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ALWAYS = [(T0 - timedelta(days=400), None)]
"""The daemon ran the whole time."""


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def first_up(at: float) -> Change:
    return Change(h(at), K.FIRST_UP, Status.UP, "HTTP 200")


def seems_down(at: float) -> Change:
    return Change(h(at), K.SEEMS_DOWN, Status.SEEMS_DOWN, "HTTP 503", h(at))


def down(at: float, outage_start: float) -> Change:
    return Change(h(at), K.DOWN, Status.DOWN, "HTTP 503", h(outage_start))


def up(at: float, outage_start: float) -> Change:
    return Change(h(at), K.UP, Status.UP, "HTTP 503", h(outage_start))


def paused(at: float) -> Change:
    return Change(h(at), K.PAUSED, Status.PAUSED, "paused via API")


def resumed(at: float) -> Change:
    return Change(h(at), K.RESUMED, Status.PENDING, "resumed via API")


def test_downtime_runs_from_the_backdated_outage_start_to_the_recovery():
    # Up 0-3h, seems down from 3h, confirmed down at 3h10m, up again at 5h; now 10h.
    changes = [first_up(0), seems_down(3), down(3 + 10 / 60, 3), up(5, 3)]
    # monitored 10h, down 3h-5h = 2h
    assert ratio(changes, ALWAYS, h(0), h(10), now=h(10)) == pytest.approx(8 / 10)
    line = timeline(changes, ALWAYS, h(10))
    assert line.seconds(h(0), h(10)) == (8 * 3600, 2 * 3600)


def test_an_outage_across_the_window_edge_counts_only_inside_the_window():
    # Down from 23h (day 1) until 26h (day 2); the 1-day window is [24h, 48h).
    changes = [first_up(0), seems_down(23), down(23.5, 23), up(26, 23)]
    assert ratio(changes, ALWAYS, h(24), h(48), now=h(48)) == pytest.approx(22 / 24)
    # and the day before holds the other hour: [0h, 24h) has 1h down
    assert ratio(changes, ALWAYS, h(0), h(24), now=h(48)) == pytest.approx(23 / 24)


def test_a_pause_inside_an_outage_ends_the_downtime_and_its_time_is_left_out():
    # Up at 0, fails at 2h, down at 2h10m, paused at 3h, resumed at 5h, first good check 5h05m.
    changes = [
        first_up(0),
        seems_down(2),
        down(2 + 10 / 60, 2),
        paused(3),
        resumed(5),
        first_up(5 + 5 / 60),
    ]
    # monitored: 0-3h (180 min) + 5h05m-10h (295 min) = 475 min; down: 2h-3h = 60 min
    assert ratio(changes, ALWAYS, h(0), h(10), now=h(10)) == pytest.approx(415 / 475)
    # A window that lies wholly inside the pause has nothing monitored.
    assert ratio(changes, ALWAYS, h(3.5), h(4.5), now=h(10)) is None


def test_time_the_daemon_was_not_running_is_left_out():
    # The daemon ran 0-4h and from 6h; the monitor went down at 3h and recovered at 7h.
    runs = [(h(0), h(4)), (h(6), None)]
    changes = [first_up(0), seems_down(3), down(3.1, 3), up(7, 3)]
    # monitored 4h + 4h = 8h; down 3h-4h and 6h-7h = 2h
    assert ratio(changes, runs, h(0), h(10), now=h(10)) == pytest.approx(6 / 8)


def test_pending_time_before_the_first_check_is_not_monitored():
    assert ratio([first_up(1)], ALWAYS, h(0), h(10), now=h(10)) == 1.0
    assert ratio([], ALWAYS, h(0), h(10), now=h(10)) is None
    # The first check failed: seems down from 1h, down at 1h20m; now 3h → 2h down of 2h.
    changes = [seems_down(1), down(1 + 20 / 60, 1)]
    assert ratio(changes, ALWAYS, h(0), h(3), now=h(3)) == 0.0


def test_a_blip_counts_as_up():
    changes = [first_up(0), seems_down(2), Change(h(2.1), K.BLIP, Status.UP, "HTTP 200", h(2))]
    assert ratio(changes, ALWAYS, h(0), h(10), now=h(10)) == 1.0


def test_an_ongoing_outage_counts_until_now():
    changes = [first_up(0), seems_down(7.5), down(8, 7.5)]
    assert ratio(changes, ALWAYS, h(0), h(10), now=h(10)) == pytest.approx(7.5 / 10)
    # the future is not monitored: a window reaching past now is measured up to now
    assert ratio(changes, ALWAYS, h(0), h(20), now=h(10)) == pytest.approx(7.5 / 10)


def test_down_after_one_is_down_from_the_failed_check():
    changes = [first_up(0), down(4, 4), up(4.5, 4)]
    assert ratio(changes, ALWAYS, h(0), h(10), now=h(10)) == pytest.approx(9.5 / 10)


def test_a_crash_during_an_outage_and_a_restart_much_later():
    # Down from 1h; the daemon crashed at 2h (last heartbeat) and came back at 30h, when the
    # first check was good. Only the watched hour of the outage is downtime.
    runs = [(h(0), h(2)), (h(30), None)]
    changes = [first_up(0), seems_down(1), down(1.2, 1), up(30.01, 1)]
    up_s, down_s = timeline(changes, runs, h(40)).seconds(h(0), h(40))
    assert down_s == pytest.approx(3600 + 36)  # 1h-2h and 30h-30h00m36s
    assert up_s + down_s == pytest.approx(12 * 3600)  # 0-2h and 30h-40h


def test_periods_follow_uptimerobot_logs_and_incidents_are_the_down_periods():
    changes = [
        first_up(0),
        seems_down(1),
        Change(h(1.1), K.BLIP, Status.UP, "HTTP 200", h(1)),
        seems_down(2),
        down(2.5, 2),
        up(3, 2),
        paused(4),
        resumed(5),
        first_up(5.1),
    ]
    got = [(p.kind, p.start, p.end) for p in periods(changes)]
    assert got == [
        (PeriodKind.UP, h(0), h(2)),  # the blip stays inside the up period
        (PeriodKind.DOWN, h(2), h(3)),
        (PeriodKind.UP, h(3), h(4)),
        (PeriodKind.PAUSED, h(4), h(5)),
        (PeriodKind.STARTED, h(5), h(5.1)),
        (PeriodKind.UP, h(5.1), None),
    ]
    (incident,) = incidents(changes)
    assert (incident.start, incident.end, incident.reason) == (h(2), h(3), "HTTP 503")
    assert incident.duration(h(10)) == 3600


def test_an_incident_forgotten_by_a_pause_ends_at_the_pause_and_an_open_one_has_no_end():
    changes = [first_up(0), seems_down(1), down(1.5, 1), paused(2), resumed(3), down(4, 4)]
    assert [(p.start, p.end) for p in incidents(changes)] == [(h(1), h(2)), (h(4), None)]
    assert incidents(changes)[-1].duration(h(5)) == 3600
