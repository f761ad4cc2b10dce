"""Maintenance windows in monitors.toml, when they are open, and how they and operator pauses
pause and resume monitors (with no alert-causing transitions)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from probed.cli import summary_table
from probed.config import load_config
from probed.config.maintenance import MaintenanceWindow, describe_window
from probed.engine.pauses import ConfigPaused, Pauses
from probed.model import Status
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor

SITES = '[[monitor]]\nname = "A"\nurl = "https://a.example"\n\n'
SITES += '[[monitor]]\nname = "B"\nurl = "https://b.example"\n\n'


def load(tmp_path, text):
    path = tmp_path / "monitors.toml"
    path.write_text(SITES + text, encoding="utf-8")
    return load_config(path, {})


def test_one_off_windows_take_toml_datetimes_or_rfc3339_strings(tmp_path):
    config = load(
        tmp_path,
        '[[maintenance]]\nname = "upgrade"\nmonitors = ["A"]\n'
        "start = 2026-03-01T22:00:00+01:00\nend = 2026-03-02T01:30:00+01:00\n\n"
        '[[maintenance]]\nname = "db"\nmonitors = "*"\n'
        'start = "2026-03-05T10:00:00Z"\nend = "2026-03-05T11:00:00+00:00"\n',
    )
    upgrade, db = config.maintenance
    assert (upgrade.start, upgrade.end) == (
        datetime(2026, 3, 1, 21, tzinfo=UTC),
        datetime(2026, 3, 2, 0, 30, tzinfo=UTC),
    )
    assert upgrade.monitors == frozenset({"A"}) and db.monitors is None
    assert upgrade.covers("A") and not upgrade.covers("B") and db.covers("B")
    assert describe_window(upgrade) == "2026-03-01 21:00 – 2026-03-02 00:30 UTC"


def test_weekly_windows_have_days_a_local_time_a_duration_and_a_timezone(tmp_path):
    config = load(
        tmp_path,
        '[[maintenance]]\nname = "backup"\nmonitors = ["A", "B"]\ndays = ["sun", "Wednesday"]\n'
        'time = "02:00"\nduration = "1h30m"\ntimezone = "Europe/Berlin"\n\n'
        '[[maintenance]]\nname = "utc"\nmonitors = "*"\ndays = ["mon"]\ntime = 23:30:00\n'
        "duration = 3600\n",
    )
    backup, utc = config.maintenance
    assert (backup.days, backup.time, backup.duration) == (frozenset({6, 2}), time(2), 5400.0)
    assert (backup.timezone, utc.timezone, utc.time) == ("Europe/Berlin", "UTC", time(23, 30))
    assert describe_window(backup) == "weekly wed,sun 02:00 Europe/Berlin for 90m"


def test_a_one_off_window_is_open_from_start_up_to_but_not_including_end():
    w = MaintenanceWindow("x", None, start=T0, end=T0 + timedelta(hours=1))
    assert w.occurrence(T0 - timedelta(seconds=1)) is None
    assert w.occurrence(T0) == (T0, T0 + timedelta(hours=1))
    assert w.occurrence(T0 + timedelta(minutes=59, seconds=59)) is not None
    assert w.occurrence(T0 + timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("now", "start_utc"),
    [
        # Sunday 2026-03-01 02:00 CET is 01:00 UTC
        (datetime(2026, 3, 1, 1, 30, tzinfo=UTC), datetime(2026, 3, 1, 1, tzinfo=UTC)),
        # Sunday 2026-04-05 02:00 CEST is 00:00 UTC: the window follows the wall clock
        (datetime(2026, 4, 5, 0, 30, tzinfo=UTC), datetime(2026, 4, 5, 0, tzinfo=UTC)),
        # Sunday 2026-03-29 is the switch: 02:00 does not exist, zoneinfo reads it as 03:00 CEST
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC)),
    ],
)
def test_a_weekly_window_follows_its_timezone_across_daylight_saving(now, start_utc):
    w = MaintenanceWindow(
        "backup", None, days=frozenset({6}), time=time(2), duration=3600, timezone="Europe/Berlin"
    )
    assert w.occurrence(now) == (start_utc, start_utc + timedelta(hours=1))
    assert w.occurrence(start_utc - timedelta(seconds=1)) is None
    assert w.occurrence(start_utc + timedelta(hours=1)) is None


def test_a_weekly_window_can_run_past_midnight_into_the_next_day():
    # Saturday 23:00 UTC for 3 hours: open on Sunday at 01:00, shut on Sunday at 02:00 and Friday.
    w = MaintenanceWindow("night", None, days=frozenset({5}), time=time(23), duration=3 * 3600)
    saturday = datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert w.occurrence(datetime(2026, 3, 1, 1, tzinfo=UTC)) == (
        saturday,
        saturday + timedelta(hours=3),
    )
    assert w.occurrence(datetime(2026, 3, 1, 2, tzinfo=UTC)) is None
    assert w.occurrence(datetime(2026, 2, 27, 23, 30, tzinfo=UTC)) is None


@pytest.fixture
async def harness(make_harness):
    window = MaintenanceWindow(
        "backup", frozenset({"a"}), start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2)
    )
    return make_harness(
        [make_monitor("a", down_after=2), make_monitor("b", down_after=2)], windows=[window]
    )


def tick_at(h: Harness, hours: float, minutes: float = 0) -> None:
    """Sets the clock to ``hours`` and ``minutes`` after T0 and lets the pauses catch up."""
    h.clock.t = T0 + timedelta(hours=hours, minutes=minutes)
    h.pauses.tick()


async def test_a_window_pauses_its_monitors_and_resumes_them_to_pending_when_it_ends(harness):
    h = harness
    await h.check("a")
    tick_at(h, hours=1)
    a = h.tracked("a")
    assert a.state.status is Status.PAUSED and a.state.reason == 'maintenance window "backup"'
    assert h.tracked("b").state.status is Status.PENDING  # not named by the window
    assert h.pauses.paused_until(a) == T0 + timedelta(hours=2)
    assert await h.check("a") is None  # a paused monitor is not checked
    tick_at(h, hours=2)
    assert a.state.status is Status.PENDING
    assert a.state.reason == 'maintenance window "backup" ended'
    assert h.kinds("a") == ["first_up", "paused", "resumed"]


async def test_pausing_during_an_outage_sends_no_alert_and_resuming_starts_from_pending(harness):
    h = harness
    await h.check("a")
    await h.check("a", ok=False)
    await h.check("a", ok=False)
    assert h.tracked("a").state.status is Status.DOWN
    h.pauses.pause(h.tracked("a"), None, "API")
    h.clock.advance(600)
    h.pauses.resume(h.tracked("a"), "API")
    assert h.tracked("a").state.status is Status.PENDING
    await h.check("a")  # the target is back: no UP for the forgotten outage
    assert h.kinds("a") == ["first_up", "seems_down", "down", "paused", "resumed", "first_up"]
    h.pauses.pause(h.tracked("a"), None, "API")
    h.pauses.resume(h.tracked("a"), "API")
    await h.check("a", ok=False)  # still down after a resume: a new outage, confirmed anew
    assert h.kinds("a")[-1] == "seems_down"


async def test_an_operator_pause_before_the_window_outlasts_it(harness):
    h = harness
    a = h.tracked("a")
    h.pauses.pause(a, None, "API")
    tick_at(h, hours=1, minutes=30)
    tick_at(h, hours=3)
    assert a.state.status is Status.PAUSED and a.state.reason == "paused via API"
    assert h.kinds("a") == ["paused"]


async def test_an_operator_pause_inside_the_window_outlasts_it(harness):
    h = harness
    a = h.tracked("a")
    tick_at(h, hours=1)
    assert a.state.reason == 'maintenance window "backup"'
    h.pauses.pause(a, None, "CLI")
    assert h.pauses.paused_until(a) is None
    tick_at(h, hours=2)
    assert a.state.status is Status.PAUSED
    assert h.kinds("a") == ["paused"]


async def test_an_operator_resume_inside_a_window_holds_until_the_window_ends(harness):
    h = harness
    a = h.tracked("a")
    tick_at(h, hours=1)
    h.pauses.resume(a, "API")
    h.clock.advance(60)
    h.pauses.tick()
    assert a.state.status is Status.PENDING  # not paused again by the same window
    h.add_window(
        MaintenanceWindow("later", None, start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=4))
    )
    tick_at(h, hours=3)
    assert a.state.status is Status.PAUSED  # the next window pauses it again


async def test_a_timed_pause_ends_on_time_even_across_a_restart(tmp_path, monkeypatch):
    clock = FakeClock()
    h = Harness.of(tmp_path / "probed.db", [make_monitor("a", down_after=2)], clock)
    h.pauses.pause(h.tracked("a"), 1800, "API")
    assert h.tracked("a").state.reason == "paused via API for 30m"
    assert h.pauses.paused_until(h.tracked("a")) == T0 + timedelta(minutes=30)
    await h.close()

    clock.advance(3600)  # the daemon was down when the pause ran out
    h = Harness.of(tmp_path / "probed.db", [make_monitor("a", down_after=2)], clock)
    assert h.tracked("a").state.status is Status.PAUSED
    h.pauses.tick()
    assert h.tracked("a").state.status is Status.PENDING
    assert h.tracked("a").state.reason == "timed pause ended"
    assert Pauses(h.pipeline, h.store, (), clock).overrides == {}
    await h.close()


async def test_monitors_paused_in_monitors_toml_are_left_to_the_file(tmp_path, monkeypatch):
    h = Harness.of(tmp_path / "probed.db", [make_monitor("a", paused=True, down_after=2)])
    h.pipeline.pause("a", "paused in monitors.toml")
    h.add_window(MaintenanceWindow("w", None, start=T0, end=T0 + timedelta(hours=1)))
    h.clock.advance(7200)
    h.pauses.tick()
    assert h.tracked("a").state.reason == "paused in monitors.toml"
    with pytest.raises(ConfigPaused, match=r"paused = true in monitors\.toml"):
        h.pauses.resume(h.tracked("a"), "API")
    await h.close()


def test_probed_check_lists_the_windows(tmp_path):
    config = load(
        tmp_path,
        '[[maintenance]]\nname = "backup"\nmonitors = ["B", "A"]\ndays = ["sun"]\n'
        'time = "02:00"\nduration = "1h"\ntimezone = "Europe/Berlin"\n',
    )
    assert summary_table(config).splitlines()[-1] == (
        'maintenance "backup": weekly sun 02:00 Europe/Berlin for 60m: A, B'
    )


async def test_the_alert_outbox_gets_a_down_but_no_up_when_an_outage_is_paused_away(
    tmp_path, monkeypatch
):
    site = make_monitor("a", alert=("email",), down_after=2)
    h = Harness.of(tmp_path / "probed.db", [site], email=email_channel(port=1))
    outbox = h.parts.outbox
    await h.check("a")
    await h.check("a", ok=False)
    await h.check("a", ok=False)  # DOWN: one alert
    h.add_window(MaintenanceWindow("fix", None, start=h.clock(), end=h.clock() + timedelta(1)))
    h.pauses.tick()
    h.clock.advance(86400)
    h.pauses.tick()  # the window is over: resumed, pending
    await h.check("a")
    assert [str(row.kind) for row in outbox.rows()] == ["down"]
    await h.close()
