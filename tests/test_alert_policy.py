"""The alert policy as a pure function: tables of events → the alerts they cause."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from probed.alerts.policy import AlertKind, CertMarks, Event, alerts_for
from probed.config import HttpCheck, SslCheck
from probed.model import MonitorState, Status, Transition, TransitionKind
from tests.kit.clock import T0
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor

M = make_monitor("api", alert=("email",))
K = TransitionKind


def transition(kind: TransitionKind, at: datetime = T0, **kw: object) -> Transition:
    olds = {K.DOWN: Status.SEEMS_DOWN, K.UP: Status.DOWN, K.BLIP: Status.SEEMS_DOWN}
    news = {K.DOWN: Status.DOWN, K.SEEMS_DOWN: Status.SEEMS_DOWN, K.PAUSED: Status.PAUSED}
    return Transition(
        monitor="api",
        kind=kind,
        old=olds.get(kind, Status.UP),
        new=news.get(kind, Status.UP),
        at=at,
        reason=str(kw.get("reason", "HTTP 503, expected 2xx")),
        outage_start=kw.get("outage_start"),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (K.DOWN, ["down"]),
        (K.UP, ["up"]),
        (K.SEEMS_DOWN, []),
        (K.BLIP, []),
        (K.FIRST_UP, []),
        (K.PAUSED, []),
        (K.RESUMED, []),
    ],
)
def test_only_entering_down_and_recovering_from_down_alert(kind, expected):
    event = Event(M, T0, MonitorState(), good(T0), [transition(kind, outage_start=T0)])
    assert [str(a.kind) for a in alerts_for(event, CertMarks()).alerts] == expected


def test_the_up_alert_carries_the_outage_duration_from_the_first_failure_and_its_reason():
    start = T0 - timedelta(minutes=12, seconds=30)
    up = transition(K.UP, reason="HTTP 200 in 20 ms", outage_start=start)
    before = MonitorState(Status.DOWN, reason="timeout after 30s")
    (alert,) = alerts_for(Event(M, T0, before, good(T0), [up]), CertMarks()).alerts
    assert alert.kind is AlertKind.UP
    assert alert.payload.outage_seconds == 750.0
    assert alert.payload.reason == "timeout after 30s"
    assert alert.payload.outage_start == start
    assert alert.payload.url == M.url


def test_the_down_alert_lists_the_failed_checks_of_the_streak_with_their_timings():
    checks = [failed(T0 + timedelta(seconds=i)) for i in range(3)]
    down = transition(K.DOWN, at=checks[-1].at, outage_start=T0)
    event = Event(M, T0, MonitorState(), checks[-1], [down], failed_checks=checks)
    (alert,) = alerts_for(event, CertMarks()).alerts
    listed = alert.payload.checks
    assert len(listed) == 3
    assert listed[0].timings.connect == 0.002
    assert alert.outage_start == T0


# ---- SSL certificate expiry -------------------------------------------------------------------

SSL = make_monitor("cert", "ssl", ssl_expiry_days=30, alert=("email",))


def run_days(mon, days_left: list[float], expires=T0 + timedelta(days=400), marks=None):
    """Check the same certificate with ``days_left`` days to go; the SSL subjects' days."""
    marks = marks or CertMarks()
    warned: list[int] = []
    for days in days_left:
        at = expires - timedelta(days=days)
        result = replace(good(at), cert_expires_at=expires)
        decision = alerts_for(Event(mon, at, MonitorState(status=Status.UP), result), marks)
        marks = decision.marks
        warned += [a.payload.days_left for a in decision.alerts]
    return warned, marks


def test_an_ssl_monitor_warns_once_at_each_threshold_below_its_down_threshold():
    # 30 days is the DOWN threshold (the probe fails, the DOWN alert covers it); 14, 7 and 1
    # each warn once however many checks see them.
    days = [45, 31, 30.5, 29.5, 20, 14.9, 14.5, 14.2, 13, 8, 7.5, 7.1, 6, 2, 1.5, 0.5, 0.2]
    warned, _ = run_days(SSL, days)
    assert warned == [14, 7, 1]


def test_a_renewed_certificate_resets_the_warnings():
    warned, marks = run_days(SSL, [29, 14.5, 7.5])
    assert warned == [14, 7]
    renewed = T0 + timedelta(days=900)
    warned, marks = run_days(SSL, [89, 29, 14.5, 13], expires=renewed, marks=marks)
    assert warned == [14]
    assert marks.expires_at == renewed


def test_a_certificate_replaced_by_one_expiring_sooner_warns_at_the_threshold_it_sits_under():
    first = T0 + timedelta(days=400)
    _, marks = run_days(SSL, [20], expires=first)  # under 30: the DOWN alert's threshold
    sooner = first - timedelta(days=10)  # at the same moment, 10 days left instead of 20
    warned, marks = run_days(SSL, [10, 9.5], expires=sooner, marks=marks)
    assert warned == [10]  # 14 passed: warned once, not taken for a renewal's fresh start
    assert marks.expires_at == sooner and 30 in marks.passed


def test_a_certificate_first_seen_late_warns_only_at_the_thresholds_still_ahead():
    warned, _ = run_days(SSL, [5.5, 5, 3, 1.5])  # 30, 14 and 7 already passed: DOWN says so
    assert warned == [1]


def test_several_thresholds_passed_between_two_checks_give_one_warning():
    warned, _ = run_days(SSL, [29, 20, 6.5])
    assert warned == [6]


def test_a_lower_ssl_expiry_days_caps_the_thresholds():
    warned, _ = run_days(
        replace(SSL, check=SslCheck(ssl_expiry_days=10)), [40, 20, 14.5, 9.5, 7.5, 1.5]
    )
    assert warned == [7, 1]


def test_http_monitors_only_record_certificate_expiry():
    warned, _ = run_days(replace(SSL, check=HttpCheck()), [29, 14.5, 7.5, 1.5])
    assert warned == []


# ---- reminders ------------------------------------------------------------------------------

DOWN_SINCE = MonitorState(status=Status.DOWN, since=T0, failures=3, outage_start=T0, reason="x")


@pytest.mark.parametrize(
    ("remind_every", "minutes", "last_alert", "state", "expected"),
    [
        (0, 600, None, DOWN_SINCE, 0),  # off by default
        (3600, 59, None, DOWN_SINCE, 0),
        (3600, 60, None, DOWN_SINCE, 1),
        (3600, 90, 60, DOWN_SINCE, 0),  # reminded at 60 min: next at 120
        (3600, 120, 60, DOWN_SINCE, 1),
        (3600, 600, None, replace(DOWN_SINCE, status=Status.UP), 0),
        (3600, 600, None, replace(DOWN_SINCE, status=Status.PAUSED), 0),
    ],
)
def test_a_reminder_is_due_every_remind_every_while_down(
    remind_every, minutes, last_alert, state, expected
):
    mon = replace(M, remind_every=remind_every)
    last = None if last_alert is None else T0 + timedelta(minutes=last_alert)
    now = T0 + timedelta(minutes=minutes)
    alerts = alerts_for(Event(mon, now, state, last_alert_at=last), CertMarks()).alerts
    assert [a.kind for a in alerts] == [AlertKind.REMINDER] * expected
    if alerts:
        assert alerts[0].payload.outage_seconds == minutes * 60


def test_a_monitor_without_channels_gets_no_reminder():
    mon = replace(M, remind_every=60, alert=())
    now = T0 + timedelta(hours=5)
    assert alerts_for(Event(mon, now, DOWN_SINCE), CertMarks()).alerts == ()
