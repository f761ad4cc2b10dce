"""When a domain's registration warns (docs/design.md §19.2), in one pure function.

Unlike a certificate, an expiring domain never makes its monitor DOWN: every threshold below
``domain_expiry_days`` (that number itself, then 30, 14, 7 and 0 days) is one DOMAIN alert, once
per registration; a renewal (a later expiry) starts over.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from probed.alerts.policy import Alert, CertMarks, _base
from probed.config import Monitor
from probed.model import AlertKind

DOMAIN_THRESHOLDS = (30, 14, 7, 0)
"""Days before expiry at which a domain warns, below a monitor's ``domain_expiry_days``."""


def domain_alerts(
    monitor: Monitor, domain: str, expires_at: datetime, now: datetime, marks: CertMarks
) -> tuple[list[Alert], CertMarks]:
    """The DOMAIN alert due now (at most one: the lowest threshold newly passed), and the
    marks to keep; nothing for a monitor without ``domain_expiry_days``."""
    warn_days = monitor.domain_expiry_days
    if warn_days is None:
        return [], marks
    if marks.expires_at is None or expires_at > marks.expires_at:
        marks = CertMarks(expires_at)  # renewed: no warning given for this registration yet
    elif expires_at < marks.expires_at:
        marks = CertMarks(expires_at, marks.passed)  # shortened: warnings given stay given
    days = (expires_at - now).days  # whole days, rounded down, as for certificates
    levels = {warn_days, *(t for t in DOMAIN_THRESHOLDS if t < warn_days)}
    passed = frozenset(t for t in levels if days < warn_days and days <= t)
    new = passed - marks.passed
    if not new:
        return [], marks
    payload = replace(
        _base(monitor),
        reason=f"RDAP: the registration of {domain} expires on {expires_at:%Y-%m-%d}",
        at=now,
        days_left=days,
        cert_expires_at=expires_at,
        text=domain,
    )
    return [Alert(AlertKind.DOMAIN, monitor.name, payload)], CertMarks(
        expires_at, marks.passed | passed
    )
