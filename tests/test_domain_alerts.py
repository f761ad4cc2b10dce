"""DOMAIN warnings: one per threshold below domain_expiry_days, once per registration, never a
DOWN; their message; and the config problems of the keys (docs/design.md §19.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from probed.alerts.domain_policy import domain_alerts
from probed.alerts.messages import render
from probed.alerts.policy import CertMarks
from probed.config.domain import DomainCheck
from probed.model import AlertKind
from tests.kit.clock import T0
from tests.kit.configs import load_monitors, load_problems
from tests.kit.monitors import make_monitor


def _days_left_run(warn: int, days: list[float]) -> list[int | None]:
    """The days_left of the alert each successive day gives (None: no alert)."""
    monitor = make_monitor("site", url="https://www.example.com/", domain_expiry_days=warn)
    expires, marks, seen = T0 + timedelta(days=60), CertMarks(), []
    for left in days:
        now = expires - timedelta(days=left)
        alerts, marks = domain_alerts(monitor, "example.com", expires, now, marks)
        seen.append(alerts[0].payload.days_left if alerts else None)
        assert all(a.kind is AlertKind.DOMAIN for a in alerts)
    return seen


def test_each_threshold_below_domain_expiry_days_warns_once():
    days = [50, 45.5, 44.5, 40, 30.5, 29.5, 20, 14.5, 13.5, 8, 6.5, 3, 0.5, -1]
    assert _days_left_run(45, days) == [
        None, None, 44, None, 30, None, None, 14, None, None, 6, None, 0, None
    ]  # fmt: skip


def test_first_seen_inside_the_range_warns_once_for_every_level_passed():
    assert _days_left_run(30, [10.2, 9, 6.5]) == [10, None, 6]


def test_a_renewal_starts_over_and_a_monitor_without_the_key_never_warns():
    monitor = make_monitor("site", url="https://www.example.com/", domain_expiry_days=30)
    expires = T0 + timedelta(days=10)
    alerts, marks = domain_alerts(monitor, "example.com", expires, T0, CertMarks())
    assert len(alerts) == 1
    renewed = expires + timedelta(days=365)
    assert domain_alerts(monitor, "example.com", renewed, T0, marks)[0] == []
    later = renewed - timedelta(days=20)
    assert len(domain_alerts(monitor, "example.com", renewed, later, marks)[0]) == 1
    plain = make_monitor("plain", url="https://www.example.com/")
    assert domain_alerts(plain, "example.com", expires, T0, CertMarks()) == ([], CertMarks())


def test_the_message_names_the_domain_and_the_days_left():
    monitor = make_monitor("shop", url="https://shop.example.co.uk/", domain_expiry_days=30)
    expires = T0 + timedelta(days=9, hours=3)
    alerts, _ = domain_alerts(monitor, "example.co.uk", expires, T0, CertMarks())
    message = render(AlertKind.DOMAIN, [alerts[0].payload], "<id@probed>", T0)
    assert message.subject == "[probed] DOMAIN: shop example.co.uk expires in 9 days"
    assert "The registration of example.co.uk, the domain of shop, expires in 9 days." in (
        message.text
    )
    assert "2026-03-10" in message.text


def test_a_domain_monitor_is_a_name_alone_and_watches_30_days_by_default(tmp_path):
    [monitor] = load_monitors(
        tmp_path, '[[monitor]]\nname = "d"\ntype = "domain"\nurl = "Example.com"\n'
    )
    assert isinstance(monitor.check, DomainCheck)
    assert monitor.domain_expiry_days == 30


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('type = "domain"\nurl = "https://example.com/"', "url: must be a domain name alone"),
        ('type = "domain"\nurl = "co.uk"', 'url: "co.uk" has no registrable domain'),
        ('type = "domain"\nurl = "192.0.2.1"', 'url: "192.0.2.1" has no registrable domain'),
        ('url = "https://10.0.0.1/"\ndomain_expiry_days = 30', 'domain_expiry_days: "10.0.0.1"'),
        ('url = "https://example.com/"\ndomain_expiry_days = 0', "must be between 1 and 3650"),
        ('url = "https://example.com/"\ndomain_expiry_days = "soon"', "domain_expiry_days:"),
    ],
)
def test_bad_domain_keys_are_reported_with_monitor_and_key(tmp_path, body, problem):
    problems = load_problems(tmp_path, f'[[monitor]]\nname = "m"\n{body}\n')
    assert len(problems) == 1
    assert 'monitor "m" (#1) ' in problems[0] and problem in problems[0]


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        '[probed]\nrdap_bootstrap = "missing.json"\n'
        '[[monitor]]\nname = "a"\nurl = "https://10.0.0.1/"\ndomain_expiry_days = 30\n'
        '[[monitor]]\nname = "b"\ntype = "domain"\nurl = "co.uk"\n'
        '[[monitor]]\nname = "c"\nurl = "https://example.com/"\ndomain_expiry_days = -3\n'
    )
    problems = load_problems(tmp_path, text)
    assert len(problems) == 4
    assert "[probed] rdap_bootstrap: no such file" in problems[0]
