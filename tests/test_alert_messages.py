"""Alert messages: exact subjects, the facts in the body, and HTML that escapes the target."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from probed.alerts.messages import Message, render, subject
from probed.alerts.payload import Payload
from probed.alerts.policy import AlertKind, CertMarks, Event, alerts_for
from probed.model import MonitorState, Transition, TransitionKind
from probed.units import format_span
from tests.kit.clock import T0
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.4, "0s"),
        (45, "45s"),
        (60, "1m"),
        (750, "12m 30s"),
        (3600, "1h"),
        (3900, "1h 5m"),
        (3905, "1h 5m"),
        (3 * 86400 + 4 * 3600 + 7, "3d 4h"),
    ],
)
def test_durations_read_as_their_two_largest_units(seconds, text):
    assert format_span(seconds) == text


def payloads(kind: TransitionKind, name: str = "DutyCall API", reason: str = "HTTP 503"):
    mon = make_monitor(name, alert=("email",))
    start = T0 - timedelta(minutes=12, seconds=30)
    checks = [failed(start), failed(start + timedelta(seconds=30)), failed(T0)]
    t = Transition(name, kind, MonitorState().status, MonitorState().status, T0, reason, start)
    result = good(T0) if kind is TransitionKind.UP else checks[-1]
    event = Event(mon, T0, MonitorState(reason=reason), result, [t], failed_checks=checks)
    (alert,) = alerts_for(event, CertMarks()).alerts
    return alert.kind, alert.payload


def test_subjects_are_exactly_as_documented():
    assert subject(*wrap(payloads(TransitionKind.DOWN))) == "[probed] DOWN: DutyCall API"
    up = subject(*wrap(payloads(TransitionKind.UP)))
    assert up == "[probed] UP: DutyCall API (down 12m 30s)"
    ssl = Payload(monitor="DutyCall SSL", days_left=14)
    expected = "[probed] SSL: DutyCall SSL certificate expires in 14 days"
    assert subject(AlertKind.SSL, [ssl]) == expected
    still = Payload(monitor="DutyCall API", outage_seconds=3900)
    assert subject(AlertKind.REMINDER, [still]) == "[probed] STILL DOWN: DutyCall API (down 1h 5m)"
    many = [Payload(monitor=f"m{i}") for i in range(17)]
    assert subject(AlertKind.DIGEST, many, AlertKind.DOWN) == "[probed] DOWN: 17 monitors"
    assert subject(AlertKind.DIGEST, many, AlertKind.UP) == "[probed] UP: 17 monitors"


def wrap(pair):
    kind, payload = pair
    return kind, [payload]


def rendered(transition: TransitionKind, number: int, url: str = "", **keys: str) -> Message:
    """The message of ``transition``'s alert, ``keys`` going to payloads(), with ``url`` in
    place of the monitor's if given, and Message-ID number ``number``."""
    kind, payload = payloads(transition, **keys)
    payload = replace(payload, url=url) if url else payload
    return render(kind, [payload], f"<alert-{number}-ab@example.test>", T0)


def test_a_down_message_has_url_reason_utc_outage_start_and_the_failed_checks_timings():
    message = rendered(TransitionKind.DOWN, 1, reason="HTTP 503, expected 2xx")
    assert "https://DutyCall API.example.test/health" in message.text
    assert "Reason:        HTTP 503, expected 2xx" in message.text
    assert "Outage start:  2026-03-01 11:47:30 UTC" in message.text
    assert "Failed checks" in message.text
    assert "connect 2.0 ms" in message.text and "first byte 30.0 ms" in message.text
    assert message.text.count("status 503") == 3
    assert "2026-03-01 11:47:30 UTC" in message.html


def test_an_up_message_states_the_downtime():
    message = rendered(TransitionKind.UP, 2, reason="timeout after 30s")
    assert "is UP again after 12m 30s down" in message.text
    assert "Downtime:      12m 30s" in message.text
    assert "Down because:  timeout after 30s" in message.text


def test_everything_from_the_target_is_escaped_in_html():
    name = "<script>alert(1)</script> & co"
    reason = 'keyword "<b>success</b>" not found'
    url = "https://x.test/?a=1&b=<i>"
    message = rendered(TransitionKind.DOWN, 3, url, name=name, reason=reason)
    assert "<script>" not in message.html and "<b>success" not in message.html
    assert "<i>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in message.html
    assert "&quot;&lt;b&gt;success&lt;/b&gt;&quot;" in message.html
    assert "a=1&amp;b=&lt;i&gt;" in message.html
    assert name in message.text  # the plain text part is shown as it is


def test_a_digest_lists_every_monitor_in_one_message():
    members = []
    for i in range(5):
        _, payload = payloads(TransitionKind.DOWN, name=f"site {i}")
        members.append(payload)
    message = render(AlertKind.DIGEST, members, "<digest-9-ab@x>", T0, AlertKind.DOWN)
    assert message.subject == "[probed] DOWN: 5 monitors"
    for i in range(5):
        assert f"site {i}" in message.text and f"site {i}" in message.html
