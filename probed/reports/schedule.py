"""When reports are due (pure): a report period ends at each scheduled moment (``[report]
at`` in its timezone) and begins at the one before, so consecutive periods tile time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from probed.config.report import ReportSettings


def _local(day: date, settings: ReportSettings) -> datetime:
    # A local time a DST change skips resolves as zoneinfo does (fold=0): the hour after.
    zone = ZoneInfo(settings.timezone)
    return datetime.combine(day, settings.time, tzinfo=zone).astimezone(UTC)


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def latest_end(settings: ReportSettings, now: datetime) -> datetime:
    """The latest scheduled moment at or before ``now`` (UTC): the end of the last period
    that is over."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    if settings.every == "1w":
        day = today - timedelta(days=(today.weekday() - settings.day) % 7)
        end = _local(day, settings)
        return end if end <= now else _local(day - timedelta(days=7), settings)
    day = date(today.year, today.month, settings.day)
    if day > today:
        day = _month_add(day, -1)
    end = _local(day, settings)
    return end if end <= now else _local(_month_add(day, -1), settings)


def period_before(settings: ReportSettings, end: datetime) -> tuple[datetime, datetime]:
    """The period [start, end) that ends at the scheduled moment ``end``."""
    local = end.astimezone(ZoneInfo(settings.timezone)).date()
    if settings.every == "1w":
        return _local(local - timedelta(days=7), settings), end
    return _local(_month_add(local, -1), settings), end


def next_end(settings: ReportSettings, now: datetime) -> datetime:
    """The first scheduled moment after ``now``: when the next report is due."""
    last = latest_end(settings, now)
    local = last.astimezone(ZoneInfo(settings.timezone)).date()
    if settings.every == "1w":
        return _local(local + timedelta(days=7), settings)
    return _local(_month_add(local, 1), settings)


def span_before(period: str, now: datetime) -> tuple[datetime, datetime]:
    """``probed report --period week|month``: the week or calendar month of days back from
    ``now`` (UTC), ending now."""
    if period == "week":
        return now - timedelta(days=7), now
    back = now.astimezone(UTC)
    first = _month_add(back.date().replace(day=1), -1)
    length = (back.date().replace(day=1) - first).days
    return back.replace(year=first.year, month=first.month, day=min(back.day, length)), now
