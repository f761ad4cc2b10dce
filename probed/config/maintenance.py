"""Maintenance windows: the ``[[maintenance]]`` tables of monitors.toml and when they are open.

A window is one-off (``start``/``end``, timezone-aware) or weekly (``days``, local ``time``,
``duration``, ``timezone``). While a window is open its monitors are paused (see
``probed.engine.pauses``).
Reading collects problems like the rest of the config; ``occurrence(now)`` is pure.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from probed.config.reader import Reader, Section, control_problem, describe

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WINDOW_KEYS = ("name", "monitors", "start", "end", "days", "time", "duration", "timezone")
ONE_OFF_KEYS = ("start", "end")
WEEKLY_KEYS = ("days", "time", "duration", "timezone")
MAX_DURATION = 7 * 86400.0
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One [[maintenance]] table: when which monitors are paused for planned work."""

    name: str
    monitors: frozenset[str] | None
    """Names of the monitors it pauses; None for every monitor (``"*"``)."""
    start: datetime | None = None
    """One-off windows: [start, end) in UTC."""
    end: datetime | None = None
    days: frozenset[int] = frozenset()
    """Weekly windows: the weekdays (Monday 0) on which an occurrence starts…"""
    time: dtime | None = None
    """…at this local time…"""
    duration: float = 0.0
    """…and lasts this many seconds (at most a week)…"""
    timezone: str = "UTC"
    """…in this IANA timezone."""

    def covers(self, monitor: str) -> bool:
        return self.monitors is None or monitor in self.monitors

    def occurrence(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence [start, end) that contains ``now``, or None when the window is shut."""
        if self.start is not None and self.end is not None:
            return (self.start, self.end) if self.start <= now < self.end else None
        if self.time is None:
            return None
        zone = ZoneInfo(self.timezone)
        today = now.astimezone(zone).date()
        # Occurrences last at most a week, so the one containing now began within 7 local days.
        for back in range(8):
            day = today - timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            # A local time skipped by a DST change resolves like zoneinfo does (fold=0): the
            # wall-clock hour after the gap.
            start = datetime.combine(day, self.time, tzinfo=zone).astimezone(UTC)
            end = start + timedelta(seconds=self.duration)
            if start <= now < end:
                return start, end
        return None


def open_windows(
    windows: Iterable[MaintenanceWindow], now: datetime
) -> list[tuple[MaintenanceWindow, datetime]]:
    """The windows open at ``now``, each with the end of its current occurrence."""
    found = []
    for window in windows:
        if (occurrence := window.occurrence(now)) is not None:
            found.append((window, occurrence[1]))
    return found


def read_maintenance(
    reader: Reader, raw: object, monitor_names: Collection[str]
) -> tuple[MaintenanceWindow, ...]:
    """The ``maintenance`` array of tables; problems go to reader, like every other table."""
    if raw is None:
        return ()
    if isinstance(raw, dict):
        reader.problem(
            "maintenance", "expected an array of tables: write [[maintenance]], not [maintenance]"
        )
        return ()
    if not isinstance(raw, list):
        reader.problem("maintenance", f"expected an array of tables, got {describe(raw)}")
        return ()
    names: dict[str, int] = {}
    windows = []
    for index, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            reader.problem(f"maintenance #{index}", f"expected a table, got {describe(item)}")
            continue
        window = _window(Section(reader, f"maintenance #{index} ", item), index, names)
        sec = Section(reader, _prefix(window, index), item)
        valid, monitors = _monitors(sec, monitor_names)
        sec.reject_unknown(WINDOW_KEYS)
        when = _when(sec)
        if window and valid and when is not None:
            windows.append(_build(window, monitors, when))
    return tuple(windows)


def _prefix(name: str | None, index: int) -> str:
    return f'maintenance "{name}" (#{index}) ' if name else f"maintenance #{index} "


def _window(sec: Section, index: int, names: dict[str, int]) -> str | None:
    name = sec.string("name", required=True, nonempty=True)
    if name is not None and (problem := control_problem(name)):
        sec.problem("name", problem)
        return None
    if name is None:
        return None
    if name in names:
        Section(sec.reader, _prefix(name, index), sec.data).problem(
            "name", f"duplicate name, already used by maintenance #{names[name]}"
        )
    names.setdefault(name, index)
    return name


def _monitors(sec: Section, known: Collection[str]) -> tuple[bool, frozenset[str] | None]:
    """(valid, the names): None names every monitor (``"*"``)."""
    if sec.data.get("monitors") == "*":
        return True, None
    names = sec.strings("monitors", required=True)
    if names is None:
        return False, None
    if not names:
        sec.problem("monitors", 'must name at least one monitor (or "*" for all)')
        return False, None
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            sec.problem("monitors", f'unknown monitor "{name}"{hint}')
    return "monitors" not in sec.failed, frozenset(names)


_When = tuple[datetime, datetime] | tuple[frozenset[int], dtime, float, str]


def _when(sec: Section) -> _When | None:
    one_off = [k for k in ONE_OFF_KEYS if k in sec.data]
    weekly = [k for k in WEEKLY_KEYS if k in sec.data]
    if one_off and weekly:
        sec.problem(
            weekly[0],
            "set either start and end (one-off) or days, time and duration (weekly), not both",
        )
        return None
    if one_off:
        start, end = _instant(sec, "start"), _instant(sec, "end")
        if start is not None and end is not None:
            if end <= start:
                sec.problem("end", "must be after start")
                return None
            return start, end
        return None
    if not weekly:
        sec.problem(
            "start", "missing: set start and end (one-off), or days, time and duration (weekly)"
        )
        return None
    days, at = _days(sec), _time(sec)
    duration = sec.duration("duration", positive=True)
    if duration is None and "duration" not in sec.failed:
        sec.problem("duration", "missing (required for a weekly window)")
    elif duration is not None and duration > MAX_DURATION:
        sec.problem("duration", "must be at most 7d (a window recurs every week)")
        duration = None
    zone = sec.string("timezone", nonempty=True) or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        sec.problem("timezone", f'unknown timezone "{zone}" (expected e.g. "Europe/Berlin")')
        return None
    if days is None or at is None or duration is None or sec.failed:
        return None
    return days, at, duration, zone


def _instant(sec: Section, key: str) -> datetime | None:
    value = sec.data.get(key)
    if value is None:
        sec.problem(key, "missing (a one-off window needs start and end)")
        return None
    if isinstance(value, str):
        text = sec.expand(key, value)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            sec.problem(key, f'invalid date-time "{text}": expected RFC 3339, e.g. {_EXAMPLE}')
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            sec.problem(key, f"needs a UTC offset or Z, e.g. {_EXAMPLE}")
            return None
        return value.astimezone(UTC)
    label = "a date without a time" if isinstance(value, date) else describe(value)
    sec.problem(key, f"expected a date-time with offset such as {_EXAMPLE}, got {label}")
    return None


_EXAMPLE = "2026-03-01T22:00:00+01:00"


def _days(sec: Section) -> frozenset[int] | None:
    names = sec.strings("days")
    if names is None:
        if "days" not in sec.failed:
            sec.problem("days", 'missing (required for a weekly window, e.g. ["sun"])')
        return None
    days = set()
    for name in names:
        key = name.strip().lower()
        if key in DAYS:
            days.add(DAYS.index(key))
        elif key in _FULL_DAYS:
            days.add(_FULL_DAYS.index(key))
        else:
            sec.problem("days", f'unknown day "{name}" (expected {", ".join(DAYS)})')
    if not names:
        sec.problem("days", "must list at least one day")
    return None if "days" in sec.failed else frozenset(days)


def _time(sec: Section) -> dtime | None:
    value = sec.data.get("time")
    if value is None:
        sec.problem("time", 'missing (required for a weekly window, e.g. "02:00")')
        return None
    if isinstance(value, dtime):
        return value.replace(tzinfo=None)
    text = sec.string("time")
    if text is None:
        return None
    if match := _TIME.fullmatch(text.strip()):
        return dtime(int(match.group(1)), int(match.group(2)))
    sec.problem("time", f'invalid time "{text}": expected "HH:MM" (24-hour), e.g. "02:00"')
    return None


def _build(name: str, monitors: frozenset[str] | None, when: _When) -> MaintenanceWindow:
    if len(when) == 2:
        return MaintenanceWindow(name, monitors, start=when[0], end=when[1])
    days, at, duration, zone = when
    return MaintenanceWindow(name, monitors, days=days, time=at, duration=duration, timezone=zone)


def describe_window(window: MaintenanceWindow) -> str:
    """One line for ``probed check``: ``weekly sun 02:00 Europe/Berlin for 1h`` or the dates."""
    if window.start is not None and window.end is not None:
        return f"{window.start:%Y-%m-%d %H:%M} – {window.end:%Y-%m-%d %H:%M} UTC"
    days = ",".join(DAYS[d] for d in sorted(window.days))
    at = window.time.strftime("%H:%M") if window.time else "?"
    return f"weekly {days} {at} {window.timezone} for {window.duration / 60:g}m"


def covering(
    windows: Sequence[tuple[MaintenanceWindow, datetime]], monitor: str
) -> tuple[MaintenanceWindow, datetime] | None:
    """The first open window (with its occurrence's end) that covers a monitor."""
    return next(((w, end) for w, end in windows if w.covers(monitor)), None)
