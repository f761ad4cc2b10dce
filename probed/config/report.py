"""The ``[report]`` table (docs/design.md §18.6): how often the monitoring report is mailed,
when, in which timezone and through which channels. Read like every table: every problem is
collected with its file, table and key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time as dtime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from probed.config.reader import Section

REPORT_KEYS = ("every", "at", "timezone", "alert")
EVERY = ("1w", "1mo")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKLY_AT = re.compile(r"([A-Za-z]{3})\s+([01]?[0-9]|2[0-3]):([0-5][0-9])")
_MONTHLY_AT = re.compile(r"([0-9]{1,2})\s+([01]?[0-9]|2[0-3]):([0-5][0-9])")
MAX_MONTH_DAY = 28
"""The last day of month a monthly report may name: every month has it."""


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """``[report]``: a report per ``every`` period, sent at ``day`` ``time`` in ``timezone``
    to the ``alert`` channels; the period is the one that ends at that moment."""

    every: str = "1w"
    """``1w`` or ``1mo``."""
    day: int = 0
    """Weekly: the weekday (Monday 0); monthly: the day of month (1–28)."""
    time: dtime = dtime(8, 0)
    timezone: str = "UTC"
    """IANA name the day and time are read in."""
    alert: tuple[str, ...] = ()
    """The channels it goes to; none: the report is only printed (``probed report``)."""


def read_report(sec: Section, channels: tuple[str, ...]) -> ReportSettings | None:
    """[report], or None when the file has none (or it has problems, which go to ``sec``)."""
    if not sec.data:
        return None
    sec.reject_unknown(REPORT_KEYS)
    every = sec.choice("every", EVERY) or "1w"
    day, at = _at(sec, every)
    zone = sec.string("timezone", nonempty=True) or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        sec.problem("timezone", f'unknown timezone "{zone}" (expected e.g. "Europe/Berlin")')
    alert = sec.strings("alert") or ()
    for channel in alert:
        if channel not in channels:
            sec.problem("alert", f'unknown alert channel "{channel}": no [alerts.{channel}] table')
    if sec.failed:
        return None
    return ReportSettings(every, day, at, zone, alert)


def _at(sec: Section, every: str) -> tuple[int, dtime]:
    """``at``: ``"Mon 08:00"`` for a weekly report, ``"1 08:00"`` (day of month) for a
    monthly one; the default is the first day at 08:00."""
    text = sec.string("at")
    if text is None:
        return (0 if every == "1w" else 1), dtime(8, 0)
    if every == "1w":
        found = _WEEKLY_AT.fullmatch(text.strip())
        if found is None or found[1].lower() not in WEEKDAYS:
            sec.problem("at", f'expected a weekday and a time like "Mon 08:00", got "{text}"')
            return 0, dtime(8, 0)
        return WEEKDAYS.index(found[1].lower()), dtime(int(found[2]), int(found[3]))
    found = _MONTHLY_AT.fullmatch(text.strip())
    if found is None or not 1 <= int(found[1]) <= MAX_MONTH_DAY:
        sec.problem(
            "at",
            f'expected a day of month (1–{MAX_MONTH_DAY}) and a time like "1 08:00", got "{text}"',
        )
        return 1, dtime(8, 0)
    return int(found[1]), dtime(int(found[2]), int(found[3]))


def describe_report(settings: ReportSettings) -> str:
    """``weekly, Mon 08:00 Europe/Berlin, to email`` (``probed check``)."""
    when = (
        f"weekly, {WEEKDAYS[settings.day].capitalize()}"
        if settings.every == "1w"
        else f"monthly, day {settings.day}"
    )
    to = f"to {', '.join(settings.alert)}" if settings.alert else "printed only (no alert)"
    return f"{when} {settings.time:%H:%M} {settings.timezone}, {to}"
