"""Every store statement that takes a list of monitors (or outbox rows) works past SQLite's
limit on bound variables: a config the reader accepts never stops ``run``."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta

from probed.engine.state import advance
from probed.model import CheckResult, MonitorState, Policy, Timings
from probed.store import Store

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _limit(store: Store) -> int:
    db = sqlite3.connect(store.path)
    try:
        return db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    finally:
        db.close()


def test_more_monitors_than_sqlite_takes_variables_are_synced_and_read(tmp_path):
    store = Store.open(tmp_path / "probed.db")
    count = _limit(store) + 1
    started = time.monotonic()
    stored = store.sync_monitors([(f"m{i}", "k", None) for i in range(count)], T0)
    assert len(stored) == count
    ids = [row.id for row in stored.values()]
    first, last = stored["m0"], stored[f"m{count - 1}"]
    for i, mid in enumerate((first.id, last.id)):
        result = CheckResult(
            ok=True, reason="HTTP 200", at=T0 + timedelta(seconds=i), timings=Timings(total=0.5)
        )
        state, transitions = advance(f"m{i}", MonitorState(), result, Policy(1, 1))
        store.record_check(mid, result, state, transitions)
    end = T0 + timedelta(hours=1)
    start_ms, end_ms = int(T0.timestamp() * 1000), int(end.timestamp() * 1000)

    assert set(store.checks.last_many(ids)) == {first.id, last.id}
    assert store.checks.good_sums(ids, start_ms, end_ms) == {first.id: (500, 1), last.id: (500, 1)}
    assert len(store.checks.good_buckets(ids, start_ms, end_ms, 60_000)) == 2
    assert store.checks.recent_good_many(ids, 5) == {first.id: [0.5], last.id: [0.5]}
    assert set(store.changes.changes(ids)) == {first.id, last.id}
    store.rollups.roll_hour(start_ms, 3_600_000)
    assert len(store.rollups.good_hours(ids, start_ms, end_ms)) == 2
    assert set(store.rollups.good_sums("hourly", ids, start_ms - 1, end_ms)) == {first.id, last.id}

    # One monitor fewer: it alone is marked inactive; the others keep their ids.
    again = store.sync_monitors([(f"m{i}", "k", None) for i in range(1, count)], T0)
    assert [r.id for r in again.values()] == ids[1:]
    assert [name for name, on in store.monitors.active().items() if not on] == ["m0"]
    assert time.monotonic() - started < 60
    store.close()


def test_outbox_rows_past_the_variable_limit_are_read_and_updated(tmp_path):
    store = Store.open(tmp_path / "probed.db")
    count = _limit(store) + 1
    with store.transaction():
        ids = [store.outbox.add("m", "down", "mail", T0, T0, "{}", None, T0) for _ in range(count)]
        store.outbox.mark_sent(ids, T0 + timedelta(seconds=1))
    rows = store.outbox.get(ids)
    assert len(rows) == count and {r.status for r in rows} == {"sent"}
    store.close()
