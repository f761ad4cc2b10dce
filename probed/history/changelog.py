"""Every stored transition in memory, by monitor: read once, then extended by row id.

The status page needs each public monitor's last 90 days of transitions at every render; read
and turned into ``Change`` objects each time, they were a third of a 500-monitor page's CPU.
Transitions are only ever added, with ids above every existing one (backdated ones from the
backlog too, which is why new rows are put in place by time rather than appended), so after
the first read only rows above the highest id seen are read. Anything else — pruning, a rolled
back transaction, a monitor's id moving, another process writing to the file — changes the
store's stamp (``Store.stamp``, ``Transitions.generation``), and the log is read again.

What is derived from a monitor's changes alone (its timeline without an end, its incidents) is
kept with them until they, or the daemon's runs, change; ``clip`` makes a timeline of ``now``
from it. A restart starts empty. The result is the same as computing everything afresh from
the same store and clock (tests/test_status_cache.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter

from probed.history.uptime import (
    Change,
    Period,
    Run,
    Span,
    Timeline,
    clip,
    incidents,
    observed_open,
    open_timeline,
    per_day,
)
from probed.model import Status, TransitionKind
from probed.store import Store
from probed.units import to_ms

_KINDS = {k.value: k for k in TransitionKind}
_STATUSES = {s.value: s for s in Status}
_KEPT = 4
"""Derived values kept per monitor: one per ``since`` cut in use (the page's, the metrics')."""


class Kept:
    """What is derived from one monitor's changes (and the daemon's runs) and kept with them."""

    __slots__ = ("_days", "incidents", "line")

    def __init__(self, line: Timeline, outages: list[Period]) -> None:
        self.line = line
        """The timeline without an end (``open_timeline``)."""
        self.incidents = outages
        self._days: tuple[float, int, list[float], list[float]] | None = None

    def closed_days(self, start: float, count: int) -> tuple[list[float], list[float]]:
        """Up and down seconds (``per_day``) of ``count`` days from ``start``, all of them
        before now: what comes after now cannot change them. Kept: not to be changed."""
        days = self._days
        if days is None or days[0] != start or days[1] != count:
            line = self.line
            days = self._days = (
                start,
                count,
                per_day(line.up, start, count),
                per_day(line.down, start, count),
            )
        return days[2], days[3]


class _Monitor:
    __slots__ = ("changes", "derived", "keys")

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.keys: list[tuple[int, int]] = []
        """(at ms, id) of each change: the order of ``changes``, for bisect."""
        self.derived: dict[tuple[int, int], Kept] = {}

    def add(self, change: Change, at_ms: int) -> None:
        key = (at_ms, change.id)
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)
            self.changes.append(change)
        else:  # backdated: written late, after a full disk
            i = bisect_left(self.keys, key)
            self.keys.insert(i, key)
            self.changes.insert(i, change)
        self.derived.clear()

    def drop(self, count: int) -> None:
        """Forget the oldest ``count`` changes (what was derived from them goes too)."""
        del self.keys[:count], self.changes[:count]
        self.derived.clear()


class ChangeLog:
    """The transitions of ``store`` by monitor id, as ``History.changes`` reads them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._monitors: dict[int, _Monitor] = {}
        self._last_id = 0
        self._stamp: tuple[tuple[int, int], int] | None = None
        self._floor = 0
        """Changes before the last one before this time (ms) are not kept: the page's cut only
        moves on, and 400 days of transitions would be kept for nothing. An earlier cut (a
        clock set back) reads everything again."""
        self._runs: tuple[Run, ...] = ()
        self._runs_version = 0

    def changes(self, monitor_id: int, since: datetime) -> list[Change]:
        """The monitor's changes from ``since`` on plus the last one before it, oldest first,
        as ``History.changes`` reads them (up to date with the store)."""
        cut = _ms(since)
        self._refresh(cut)
        entry = self._monitors.get(monitor_id)
        return [] if entry is None else entry.changes[_first(entry, cut) :]

    def history(
        self, ids: Sequence[int], since: datetime, runs: Sequence[Run], now: datetime
    ) -> dict[int, tuple[Timeline, Kept]]:
        """Each monitor's timeline until ``now``, and what is kept for it (its incidents,
        ``uptime.incidents``), from its changes since ``since`` as ``changes`` gives them."""
        cut = _ms(since)
        self._refresh(cut)
        self._floor = cut
        # The runs as a number, compared once here rather than hashed for every monitor.
        if tuple(runs) != self._runs:
            self._runs, self._runs_version = tuple(runs), self._runs_version + 1
        runs_key = self._runs_version
        watched: list[Span] | None = None
        out: dict[int, tuple[Timeline, Kept]] = {}
        for mid in ids:
            entry = self._monitors.get(mid)
            if entry is None:
                entry = self._monitors[mid] = _Monitor()
            first = _first(entry, cut)
            if first:
                entry.drop(first)
                first = 0
            key = (first, runs_key)
            found = entry.derived.get(key)
            if found is None:
                if watched is None:
                    watched = observed_open(runs)
                changes = entry.changes
                outages = incidents(changes) if _any_down(changes) else []
                found = Kept(open_timeline(changes, watched), outages)
                if len(entry.derived) >= _KEPT:
                    entry.derived.clear()
                entry.derived[key] = found
            out[mid] = (clip(found.line, now), found)
        return out

    def _refresh(self, cut: int) -> None:
        """Catch up with the store: new rows only, or everything if rows may have gone or
        ``cut`` is before what is kept."""
        stamp = (self._store.stamp(), self._store.changes.generation)
        if stamp != self._stamp or cut < self._floor:
            self._monitors, self._last_id, self._stamp, self._floor = {}, 0, stamp, 0
        rows = self._store.changes.after(self._last_id)
        if not rows:
            return
        last_id = rows[-1][1]  # in id order, before the sort below
        monitors = self._monitors
        if not self._last_id:
            # Everything at once (a start, or after a prune): each monitor's rows in order,
            # from the last one before the cut, made in bulk rather than put in place one by one.
            rows.sort(key=_stored_order)
            for mid, group in groupby(rows, itemgetter(0)):
                entry = monitors[mid] = _Monitor()
                mine = list(group)
                keys = [(r[4], r[1]) for r in mine]
                first = max(bisect_left(keys, (cut, -1)) - 1, 0)
                entry.keys = keys[first:]
                entry.changes = [_change(r) for r in mine[first:]]
        else:
            for row in rows:
                found = monitors.get(row[0])
                if found is None:
                    found = monitors[row[0]] = _Monitor()
                found.add(_change(row), row[4])
        self._last_id = last_id


def _ms(value: datetime) -> int:
    ms = to_ms(value)
    assert ms is not None
    return ms


def _first(entry: _Monitor, cut: int) -> int:
    """The first change at or after ``cut`` (ms), less one: the state the monitor was in then."""
    return max(bisect_left(entry.keys, (cut, -1)) - 1, 0)


Row = tuple[int, int, str, int, int, str, int | None]


def _stored_order(row: Row) -> tuple[int, int, int]:
    """(monitor id, at ms, id): the order History.changes reads them in."""
    return row[0], row[4], row[1]


def _change(row: Row) -> Change:
    _, id_, kind, new, at_ms, reason, outage_ms = row
    at = datetime.fromtimestamp(at_ms / 1000, UTC)  # as units.from_ms, without two calls
    outage = None if outage_ms is None else datetime.fromtimestamp(outage_ms / 1000, UTC)
    return Change(at, _KINDS[kind], _STATUSES[new], reason, outage, id_)


def _any_down(changes: Sequence[Change]) -> bool:
    # Most monitors had no outage in the window: skip the period maths for them.
    return any(c.kind is TransitionKind.DOWN for c in changes)
