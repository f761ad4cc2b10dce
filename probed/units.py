"""Durations, timestamps and counts, formatted and converted in one place. Imports nothing from
probed.

Two duration styles: ``format_duration`` is exact and reads back through the config parser
(``1h30m``, ``500ms``), for settings and reasons; ``format_span`` rounds to the two largest units
(``12m 30s``), for how long something lasted. Counts read ``1 write``, ``2 writes``. Times are
aware UTC datetimes inside probed, unix seconds in the store's state tables, integer milliseconds
in its history tables and ISO 8601 with a ``Z`` on the wire.
"""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = (("d", 86400), ("h", 3600), ("m", 60))


def format_duration(seconds: float) -> str:
    """The shortest duration string that the config parser reads back: 90 → ``1m30s``."""
    if 0 < seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole, frac = divmod(seconds, 1)
    parts, rest = [], int(whole)
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest or frac or not parts:
        parts.append(f"{rest + frac:g}s")
    return "".join(parts)


def format_span(seconds: float) -> str:
    """A duration as its two largest units: ``12m 30s``, ``1h 5m``, ``2d 3h``, ``45s``."""
    rest = max(0, round(seconds))
    parts = []
    for unit, size in (*_UNITS, ("s", 1)):
        count, rest = divmod(rest, size)
        parts.append((count, unit))
    first = next((i for i, (count, _) in enumerate(parts) if count), len(parts) - 1)
    shown = [p for i, p in enumerate(parts[first : first + 2]) if i == 0 or p[0]]
    return " ".join(f"{count}{unit}" for count, unit in shown)


def counted(count: int, noun: str) -> str:
    """``1 write``, ``3 writes``, ``0 monitors``: a count and its noun, plural unless one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def utcnow() -> datetime:
    """The real clock; only the composition root and the CLI read it."""
    return datetime.now(UTC)


def utc(ts: float) -> datetime:
    """Unix seconds → an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def to_ts(value: datetime | None) -> float | None:
    """An aware datetime → unix seconds; None stays None."""
    return None if value is None else value.timestamp()


def from_ts(value: float | None) -> datetime | None:
    """Unix seconds → an aware UTC datetime; None stays None."""
    return None if value is None else utc(value)


def to_ms(value: datetime | None) -> int | None:
    """An aware datetime → integer unix milliseconds (rounded); None stays None."""
    return None if value is None else round(value.timestamp() * 1000)


def from_ms(value: int | None) -> datetime | None:
    """Integer unix milliseconds → an aware UTC datetime; None stays None."""
    # Exact: a double holds unix seconds to well under the microsecond datetime rounds to.
    return None if value is None else utc(value / 1000)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the second; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """ISO 8601 (``Z`` or an offset) → an aware UTC datetime; naive text is taken as UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
