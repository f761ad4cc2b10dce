"""Planned work as the feeds and the summary read it (``probed.status.planned``): one-off
windows from 7 days before they start to 30 days after they end, weekly ones as their running
and coming occurrences, in the window's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from probed.config.maintenance import MaintenanceWindow
from probed.status.planned import AHEAD, planned

NOW = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)  # a Thursday, three days before Berlin's DST


def one_off(name: str, start: datetime, hours: float = 1) -> MaintenanceWindow:
    return MaintenanceWindow(
        name, frozenset({"Web"}), start=start, end=start + timedelta(hours=hours)
    )


def test_one_off_windows_show_from_a_week_before_until_a_month_after():
    windows = [
        one_off("too far", NOW + timedelta(days=7, minutes=1)),
        one_off("next week", NOW + timedelta(days=7)),
        one_off("running", NOW - timedelta(minutes=30)),
        one_off("last month", NOW - timedelta(days=29)),
        one_off("long gone", NOW - timedelta(days=31)),
    ]
    found = planned(windows, NOW)
    assert [(p.name, p.state(NOW)) for p in found] == [
        ("next week", "upcoming"),
        ("running", "in_progress"),
        ("last month", "completed"),
    ]
    upcoming, running, done = found
    assert upcoming.changed(NOW) == upcoming.start - AHEAD
    assert running.changed(NOW) == running.start
    assert done.changed(NOW) == done.end
    assert upcoming.monitors == ("Web",)


def test_a_weekly_window_gives_its_running_and_coming_occurrences_in_its_zone():
    sunday_nights = MaintenanceWindow(
        "Sunday backups", None, days=frozenset({6, 3}), time=time(2, 0), duration=3600,
        timezone="Europe/Berlin",
    )  # fmt: skip
    found = planned([sunday_nights], NOW)
    # Thursday 26 March 02:00 CET is over (no past weekly ones); Sunday 29 March is the DST
    # day (02:00 does not exist: 03:00 CEST, 01:00 UTC); Thursday 2 April 02:00 CEST.
    assert [(p.start, p.state(NOW)) for p in reversed(found)] == [
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "upcoming"),
        (datetime(2026, 4, 2, 0, 0, tzinfo=UTC), "upcoming"),
    ]
    during = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert [p.state(during) for p in planned([sunday_nights], during)][-1] == "in_progress"
    assert all(p.monitors is None for p in found)
