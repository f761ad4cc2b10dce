"""Uptime maths: time-weighted ratios, state periods and incidents from stored transitions.

Pure functions of a monitor's transitions (``Change``), the daemon's run periods and ``now``;
nothing here reads a clock or the store. A monitor's time is *monitored* while it is up, seems
down or down and the daemon is running; paused and pending (not yet checked) time, and time the
daemon was not running, are left out of both sides of the ratio:

    uptime = (monitored time − downtime) / monitored time

Downtime runs from the backdated outage start (the first failed check) to the recovery, or to the
pause that forgot the outage. A seems-down spell that recovers (a blip) counts as up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import repeat

from probed.model import Status, TransitionKind

Span = tuple[float, float]
"""A half-open interval [start, end) in unix seconds."""
Run = tuple[datetime, datetime | None]
"""A period the daemon was running; end None means "still running" (until ``now``)."""

_MONITORED = (Status.UP, Status.SEEMS_DOWN, Status.DOWN)
INF = float("inf")
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Change:
    """One stored transition, as the uptime maths reads it."""

    at: datetime
    kind: TransitionKind
    new: Status
    reason: str = ""
    outage_start: datetime | None = None
    """For DOWN and UP: the backdated start of the outage."""
    id: int = 0
    """The transition's row id (UptimeRobot log ids)."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """When one monitor was observed up and down: sorted, disjoint spans in unix seconds."""

    up: tuple[Span, ...]
    down: tuple[Span, ...]

    def seconds(self, start: datetime, end: datetime) -> tuple[float, float]:
        """(up seconds, down seconds) observed in [start, end)."""
        a, b = start.timestamp(), end.timestamp()
        return _overlap(self.up, a, b), _overlap(self.down, a, b)

    def windows(self, starts: Sequence[float], end: float) -> list[tuple[float, float]]:
        """``seconds`` of [start, end) for each of ``starts`` (unix seconds, latest first), in
        one pass; the sums may differ from ``seconds``' in the last bit (another order)."""
        return list(
            zip(_overlaps(self.up, starts, end), _overlaps(self.down, starts, end), strict=True)
        )

    def ratio(self, start: datetime, end: datetime) -> float | None:
        """Uptime in [start, end) as 0–1; None when nothing was monitored in it."""
        up, down = self.seconds(start, end)
        total = up + down
        return None if total <= 0 else up / total


def observed(runs: Iterable[Run], now: datetime) -> list[Span]:
    """When the daemon was watching, as sorted disjoint spans up to now."""
    end = now.timestamp()
    return _union((start.timestamp(), min(end, (stop or now).timestamp())) for start, stop in runs)


def observed_open(runs: Iterable[Run]) -> list[Span]:
    """``observed`` without an end: the current run goes on for ever (see ``open_timeline``)."""
    return _union((start.timestamp(), stop.timestamp() if stop else INF) for start, stop in runs)


def timeline(
    changes: Sequence[Change],
    runs: Iterable[Run],
    now: datetime,
    watched: Sequence[Span] | None = None,
) -> Timeline:
    """The observed up and down spans of a monitor, from its changes (oldest first) until now.

    Before its first change a monitor counts as not yet checked, so history that retention has
    pruned is left out rather than guessed. ``watched`` is ``observed(runs, now)`` when the
    caller has it already (it is the same for every monitor).
    """
    if watched is None:
        watched = observed(runs, now)
    return _timeline(changes, now.timestamp(), watched)


def open_timeline(changes: Sequence[Change], watched: Sequence[Span]) -> Timeline:
    """``timeline`` without a ``now``: the last state and the current run (``watched`` is
    ``observed_open(runs)``) last for ever. ``clip(open_timeline(c, observed_open(r)), now)``
    is ``timeline(c, r, now)`` span for span: each step is a set operation, and cutting a set
    at ``now`` commutes with them. It does not change as the clock moves, so it can be kept."""
    return _timeline(changes, INF, watched)


def clip(line: Timeline, now: datetime) -> Timeline:
    """The part of ``line`` before ``now``."""
    end = now.timestamp()
    return Timeline(_clip(line.up, end), _clip(line.down, end))


def _clip(spans: tuple[Span, ...], end: float) -> tuple[Span, ...]:
    if not spans or spans[-1][1] <= end:
        return spans
    k = len(spans)
    while k and spans[k - 1][0] >= end:
        k -= 1
    if k and spans[k - 1][1] > end:
        return (*spans[: k - 1], (spans[k - 1][0], end))
    return spans[:k]


def _timeline(changes: Sequence[Change], end: float, watched: Sequence[Span]) -> Timeline:
    up: list[Span] = []
    down: list[Span] = []
    backdated: list[Span] = []
    status: Status | None = None
    since = 0.0
    for change in changes:
        at = min(change.at.timestamp(), end)
        if status in _MONITORED and at > since:
            (down if status is Status.DOWN else up).append((since, at))
        if change.kind is TransitionKind.DOWN and change.outage_start is not None:
            backdated.append((change.outage_start.timestamp(), at))
        status, since = change.new, at
    if status in _MONITORED and end > since:
        (down if status is Status.DOWN else up).append((since, end))
    up_spans = _union(up)
    # Backdating turns the seems-down spell before a confirmed outage into downtime; it never
    # reaches into paused or pending time, which stays unmonitored.
    down_spans = _union(down + _intersect(_union(backdated), up_spans))
    up_spans = _subtract(up_spans, down_spans)
    return Timeline(tuple(_intersect(up_spans, watched)), tuple(_intersect(down_spans, watched)))


def ratio(
    changes: Sequence[Change], runs: Iterable[Run], start: datetime, end: datetime, now: datetime
) -> float | None:
    """Uptime of one monitor in [start, end) as 0–1, or None when nothing was monitored."""
    return timeline(changes, runs, now).ratio(start, end)


class PeriodKind(StrEnum):
    """A stretch of a monitor's history, in UptimeRobot's log terms."""

    DOWN = "down"
    UP = "up"
    STARTED = "started"
    """Resumed and waiting for its first check (UptimeRobot log type 98)."""
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Period:
    """One stretch of a monitor's history; a DOWN period is an incident."""

    kind: PeriodKind
    start: datetime
    end: datetime | None
    """None while the period lasts."""
    reason: str
    id: int
    """Row id of the transition that began it."""

    def duration(self, now: datetime) -> float:
        return max(0.0, ((self.end or now) - self.start).total_seconds())


def periods(changes: Sequence[Change]) -> list[Period]:
    """The monitor's history as consecutive periods, oldest first.

    A DOWN period starts at the backdated outage start and ends at the recovery or the pause;
    seems-down spells and blips belong to the surrounding UP period, as in UptimeRobot's logs.
    """
    out: list[Period] = []

    def begin(kind: PeriodKind, at: datetime, reason: str, id_: int) -> None:
        if out and out[-1].end is None:
            last = out[-1]
            out[-1] = Period(last.kind, last.start, max(at, last.start), last.reason, last.id)
        out.append(Period(kind, at, None, reason, id_))

    for c in changes:
        current = out[-1].kind if out else None
        if c.kind is TransitionKind.DOWN:
            begin(PeriodKind.DOWN, c.outage_start or c.at, c.reason, c.id)
        elif c.kind is TransitionKind.PAUSED:
            begin(PeriodKind.PAUSED, c.at, c.reason, c.id)
        elif c.kind is TransitionKind.RESUMED:
            begin(PeriodKind.STARTED, c.at, c.reason, c.id)
        elif c.new is Status.UP and current is not PeriodKind.UP:
            begin(PeriodKind.UP, c.at, c.reason, c.id)
    return out


def incidents(changes: Sequence[Change]) -> list[Period]:
    """Confirmed outages, oldest first: start (backdated), end (None while down) and reason."""
    return [p for p in periods(changes) if p.kind is PeriodKind.DOWN]


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _intersect(xs: Sequence[Span], ys: Sequence[Span]) -> list[Span]:
    """Both sorted and disjoint."""
    out: list[Span] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if a < b:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract(xs: Sequence[Span], ys: Sequence[Span]) -> list[Span]:
    """xs minus ys, both sorted and disjoint."""
    out: list[Span] = []
    j = 0
    for a, b in xs:
        while j < len(ys) and ys[j][1] <= a:
            j += 1
        k = j
        while k < len(ys) and ys[k][0] < b:
            if ys[k][0] > a:
                out.append((a, ys[k][0]))
            a = max(a, ys[k][1])
            k += 1
        if a < b:
            out.append((a, b))
    return out


def _overlap(spans: Sequence[Span], a: float, b: float) -> float:
    """Seconds of the sorted, disjoint ``spans`` inside [a, b)."""
    # A plain loop that stops at b: status pages ask for dozens of windows per monitor.
    total = 0.0
    for s, e in spans:
        if s >= b:
            break
        if e > a:
            total += (e if e < b else b) - (s if s > a else a)
    return total


def _last_day(spans: Sequence[Span], start: float) -> float:
    """``per_day(spans, start, 1)``, for the last day (today): the spans in it are found from
    the end, then added oldest first, in ``per_day``'s order."""
    end = start + DAY
    pieces = []
    for s, e in reversed(spans):
        if e <= start:
            break
        if s >= end:
            continue
        pieces.append((e if e < end else end) - (s if s > start else start))
    total = 0.0
    for piece in reversed(pieces):
        total += piece
    return total


def _overlaps(spans: Sequence[Span], starts: Sequence[float], b: float) -> list[float]:
    """Seconds of ``spans`` in [a, b) for each a of ``starts`` (latest first), in one walk
    back from ``b``: each span is looked at once, however many windows there are."""
    totals: list[float] = []
    acc = 0.0
    k, n = 0, len(starts)
    for s, e in reversed(spans):
        if s >= b:
            continue
        if e > b:
            e = b
        while k < n and s < starts[k]:
            a = starts[k]
            totals.append(acc + (e - a if e > a else 0.0))
            k += 1
        if k == n:
            break
        acc += e - s
    totals += [acc] * (n - k)
    return totals


def per_day(spans: Sequence[Span], start: float, count: int) -> list[float]:
    """Seconds of ``spans`` in each of ``count`` days from ``start`` (a UTC midnight)."""
    if count == 1:
        return [_last_day(spans, start)]
    out = [0.0] * count
    end = start + count * DAY
    for s, e in spans:
        if e <= start or s >= end:
            continue
        if s < start:
            s = start
        if e > end:
            e = end
        i = int((s - start) // DAY)
        day_end = start + (i + 1) * DAY
        if e <= day_end:
            out[i] += e - s
            continue
        out[i] += day_end - s
        # The whole days in between: the spans are disjoint, so nothing else falls in them,
        # and 0.0 + 86400.0 is what adding them one by one gave.
        j = int((e - start) // DAY)
        if start + j * DAY == e:
            j -= 1  # e is that day's midnight: the day holds nothing of the span
        if j > i + 1:
            out[i + 1 : j] = repeat(DAY, j - i - 1)
        out[j] += e - (start + j * DAY)
    return out
