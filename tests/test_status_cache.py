"""What the status page keeps in memory between renders (history.changelog, history.hourly_log)
gives the page and the status JSON a fresh ``History`` on the same store and clock gives, byte
for byte: as checks come in and hours are rolled up, after a transition written late with an
earlier time (as the backlog writes them after a full disk), after pruning, after a reload that
adds and removes monitors. Plus the pure pieces the kept values rely on."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from probed.history import History, Retention
from probed.history.uptime import (
    Change,
    Timeline,
    clip,
    observed_open,
    open_timeline,
    per_day,
    timeline,
)
from probed.model import Status, Transition, TransitionKind
from probed.status.collect import collect
from probed.status.views import status_json
from probed.web.public import render_page
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor

MONITORS = [
    make_monitor("web", group="Front", slo=0.999, down_after=1),
    make_monitor("api", group="Back", down_after=2),
    make_monitor("db", group="Back", down_after=1),
]


def render(h: Harness, history: History) -> tuple[str, str]:
    report = collect(
        list(h.pipeline.monitors.values()), history, h.clock(), title="t", show_urls=True
    )
    return render_page(report), json.dumps(status_json(report))


def new_history(h: Harness) -> History:
    """A History as after a start: nothing kept (the same daemon run, for the same runs)."""
    history = History(h.store, h.clock, h.history.retention)
    history.run_id = h.history.run_id
    return history


def same_as_fresh(h: Harness, history: History | None = None) -> str:
    """The page from the kept values equals the page of a History that keeps nothing yet."""
    kept = render(h, history or h.history)
    fresh = render(h, new_history(h))
    assert kept[0] == fresh[0]
    assert kept[1] == fresh[1]
    # And the changes kept are the store's, in its order (SQL: ORDER BY at_ms, id).
    ids = [t.id for t in h.pipeline.monitors.values()]
    for since in (h.clock() - timedelta(days=90), h.clock() - timedelta(hours=7)):
        stored = h.history.changes(ids, since)
        kept_changes = {i: h.history.changelog.changes(i, since) for i in ids}
        assert kept_changes == {i: stored.get(i, []) for i in ids}
    return kept[0]


async def days_of_checks(h: Harness, hours: int, rng: random.Random) -> None:
    """Checks every 20 minutes, outages now and then, hours rolled up as the daemon does."""
    for step in range(hours * 3):
        for name in ("web", "api", "db"):
            await h.check(name, ok=rng.random() > 0.04, duration=0.05 + rng.random() / 5)
        h.clock.advance(1200)
        if step % 3 == 0:
            while h.history.rollup_step():
                pass
        if step % 17 == 0:
            same_as_fresh(h)  # the kept values grow row by row between these


async def test_kept_values_match_a_fresh_read_as_history_grows(tmp_path: Path) -> None:
    h = Harness.of(tmp_path / "probed.db", MONITORS)
    try:
        same_as_fresh(h)
        await days_of_checks(h, 30, random.Random(3))
        # As after a start: everything read at once, then new rows one by one.
        restarted = new_history(h)
        same_as_fresh(h, restarted)
        await days_of_checks(h, 20, random.Random(4))
        same_as_fresh(h, restarted)
        page = same_as_fresh(h)
        assert "<tr><td>" in page  # incidents, and so downtime days, to compare
        # The clock moving on alone (past midnight, past the hour) changes nothing kept.
        for _ in range(5):
            h.clock.advance(2 * 3600 + 17)
            same_as_fresh(h)
        h.clock.advance(-86400)  # a clock set back: the cut moves back too
        same_as_fresh(h)
    finally:
        await h.close()


async def test_a_transition_written_late_with_an_earlier_time_is_seen(tmp_path: Path) -> None:
    h = Harness.of(tmp_path / "probed.db", MONITORS)
    try:
        await days_of_checks(h, 30, random.Random(5))
        before = same_as_fresh(h)
        db = h.tracked("db")
        # A pause and resume the full disk held back, written now with their own times: the
        # monitor was unwatched for ten minutes before its last change.
        last = h.store.transitions(db.id, 1)[0].at
        at = last - timedelta(minutes=30)
        late = [
            Transition("db", TransitionKind.PAUSED, Status.UP, Status.PAUSED, at, "paused"),
            Transition("db", TransitionKind.RESUMED, Status.PAUSED, Status.PENDING,
                       at + timedelta(minutes=10), "resumed"),
        ]  # fmt: skip
        h.store.record_state_change(db.id, db.state, late)
        after = same_as_fresh(h)
        assert after != before
    finally:
        await h.close()


async def test_pruning_and_a_reload_are_seen(tmp_path: Path) -> None:
    h = Harness.of(
        tmp_path / "probed.db", MONITORS, retention=Retention(raw=3600.0, history=86400.0)
    )
    try:
        await days_of_checks(h, 60, random.Random(8))
        same_as_fresh(h)
        count = "SELECT COUNT(*) FROM transitions"
        before = h.store._db.execute(count).fetchone()[0]
        while h.history.prune_step():
            pass
        assert h.store._db.execute(count).fetchone()[0] < before  # something was pruned
        same_as_fresh(h)
        await days_of_checks(h, 2, random.Random(9))
        # A reload: one monitor gone, one new, one pinned to another id (its rows move).
        moved = replace(MONITORS[1], id=42)
        h.config = replace(
            h.config, monitors=(MONITORS[0], moved, make_monitor("queue", down_after=1))
        )
        h.parts.apply(h.config)
        await h.check("queue")
        page = same_as_fresh(h)
        assert "queue" in page and ">db " not in page and "id=m42>" in page
    finally:
        await h.close()


def test_an_open_timeline_cut_at_now_is_the_timeline_of_now() -> None:
    rng = random.Random(1)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    kinds = {
        Status.UP: TransitionKind.UP,
        Status.DOWN: TransitionKind.DOWN,
        Status.SEEMS_DOWN: TransitionKind.SEEMS_DOWN,
        Status.PAUSED: TransitionKind.PAUSED,
        Status.PENDING: TransitionKind.RESUMED,
    }
    for _ in range(300):
        at = t0
        changes = []
        for i in range(rng.randrange(0, 12)):
            at += timedelta(seconds=rng.choice([0, 1, 59, 3600, 86400 * 3]))
            new = rng.choice(list(kinds))
            back = at - timedelta(seconds=rng.randrange(0, 7200)) if rng.random() < 0.5 else None
            changes.append(Change(at, kinds[new], new, "r", back, i + 1))
        runs: list[tuple[datetime, datetime | None]] = []
        start = t0 - timedelta(days=1)
        for _ in range(rng.randrange(1, 4)):
            start += timedelta(seconds=rng.randrange(0, 86400 * 4))
            stop = start + timedelta(seconds=rng.randrange(1, 86400 * 3))
            runs.append((start, stop))
            start = stop
        if rng.random() < 0.5:
            runs.append((start + timedelta(hours=1), None))
        kept = open_timeline(changes, observed_open(runs))
        for _ in range(5):
            now = t0 + timedelta(seconds=rng.randrange(0, 86400 * 20))
            assert clip(kept, now) == timeline(changes, runs, now)


def test_windows_are_the_seconds_of_each_window() -> None:
    rng = random.Random(4)
    for _ in range(500):
        points = sorted(rng.uniform(0, 100) for _ in range(2 * rng.randrange(0, 8)))
        spans = tuple((a, b) for a, b in zip(points[::2], points[1::2], strict=True) if b > a)
        line = Timeline(spans, spans[::2])
        end = rng.uniform(0, 110)
        starts = sorted((rng.uniform(-5, 110) for _ in range(4)), reverse=True)
        for (up, down), a in zip(line.windows(starts, end), starts, strict=True):
            t0, t1 = datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(end, UTC)
            want = line.seconds(t0, t1) if a < end else (0.0, 0.0)
            assert up == pytest.approx(want[0], abs=1e-5)
            assert down == pytest.approx(want[1], abs=1e-5)


def test_per_day_adds_what_a_day_by_day_loop_adds() -> None:
    def day_by_day(spans: list[tuple[float, float]], start: float, count: int) -> list[float]:
        out = [0.0] * count
        end = start + count * 86400.0
        for s, e in spans:
            if e <= start or s >= end:
                continue
            s, e = max(s, start), min(e, end)
            i = int((s - start) // 86400.0)
            day_end = start + (i + 1) * 86400.0
            while e > day_end:
                out[i] += day_end - s
                s, i, day_end = day_end, i + 1, day_end + 86400.0
            out[i] += e - s
        return out

    rng = random.Random(2)
    start = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    for _ in range(500):
        points = sorted(
            start + rng.choice([rng.randrange(-3, 95) * 86400.0, rng.uniform(-4e5, 95 * 86400)])
            for _ in range(2 * rng.randrange(0, 8))
        )
        spans = [(a, b) for a, b in zip(points[::2], points[1::2], strict=True) if b > a]
        line = Timeline(tuple(spans), ())
        assert per_day(line.up, start, 90) == day_by_day(spans, start, 90)
        day = start + rng.randrange(0, 90) * 86400.0  # one day alone, as today is counted
        assert per_day(line.up, day, 1) == day_by_day(spans, day, 1)
