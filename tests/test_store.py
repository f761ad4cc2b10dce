"""The SQLite store: ids, state restored across reopen, history kept for removed monitors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from probed.engine.state import advance
from probed.errors import StoreError
from probed.model import CheckResult, MonitorState, Policy, Status, Timings
from probed.store import Store

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_a_monitor_keeps_its_id_and_state_when_the_store_is_reopened(tmp_path):
    path = tmp_path / "probed.db"
    store = Store.open(path)
    rows = store.sync_monitors([("a", "k", None), ("b", "k", None)], T0)
    a = rows["a"]
    state = MonitorState()
    for i in range(3):
        result = CheckResult(
            ok=False,
            reason="HTTP 503",
            at=T0 + timedelta(seconds=i),
            status_code=503,
            timings=Timings(total=0.25, connect=0.01),
        )
        state, transitions = advance("a", state, result, Policy(3, 1))
        store.record_check(a.id, result, state, transitions)
    store.close()

    store = Store.open(path)
    rows2 = store.sync_monitors([("b", "k", None), ("a", "k", None)], T0 + timedelta(hours=1))
    assert rows2["a"].id == a.id and rows2["b"].id == rows["b"].id
    assert rows2["a"].state == state
    assert rows2["a"].state.status is Status.DOWN
    assert rows2["a"].state.outage_start == T0
    last = store.last_check(a.id)
    assert last is not None and last.status_code == 503 and last.timings.connect == 0.01
    kinds = [t.kind.value for t in store.transitions(a.id)]
    assert kinds == ["down", "seems_down"]
    assert store.journal_mode() == "wal"


def test_a_changed_check_starts_from_pending(tmp_path):
    store = Store.open(tmp_path / "db")
    a = store.sync_monitors([("a", "k1", None)], T0)["a"]
    store.save_state(a.id, MonitorState(status=Status.DOWN, since=T0, failures=3, outage_start=T0))
    assert store.sync_monitors([("a", "k1", None)], T0)["a"].state.status is Status.DOWN
    again = store.sync_monitors([("a", "k2", None)], T0)["a"]
    assert again.id == a.id and again.state.status is Status.PENDING


def test_a_removed_monitor_keeps_its_history_and_its_id_when_it_returns(tmp_path):
    store = Store.open(tmp_path / "db")
    a = store.sync_monitors([("a", "k", None), ("b", "k", None)], T0)["a"]
    store.record_check(
        a.id, CheckResult(ok=True, reason="HTTP 200", at=T0), MonitorState(Status.UP, T0), []
    )
    rows = store.sync_monitors([("b", "k", None)], T0)
    assert set(rows) == {"b"}
    assert store.monitors.active() == {"a": False, "b": True}
    back = store.sync_monitors([("a", "k", None), ("b", "k", None)], T0)["a"]
    assert back.id == a.id and store.last_check(a.id) is not None


def test_a_pinned_id_moves_the_monitor_with_its_history(tmp_path):
    store = Store.open(tmp_path / "db")
    a = store.sync_monitors([("a", "k", None)], T0)["a"]
    store.record_check(
        a.id, CheckResult(ok=True, reason="HTTP 200", at=T0), MonitorState(Status.UP, T0), []
    )
    moved = store.sync_monitors([("a", "k", 777)], T0)["a"]
    assert moved.id == 777 and moved.state.status is Status.UP
    assert store.last_check(777) is not None and store.last_check(a.id) is None
    store.sync_monitors([("a", "k", 777), ("b", "k", None)], T0)
    with pytest.raises(StoreError, match="already belongs"):
        store.sync_monitors([("a", "k", 777), ("b", "k", 777)], T0)


def test_an_unwritable_state_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open state database"):
        Store.open(blocker / "sub" / "probed.db")


def test_the_database_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "probed.db"
    path.touch(mode=0o644)  # a file left by an older probed
    store = Store.open(path)
    store.sync_monitors([("a", "k", None)], T0)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.glob("probed.db*")}
    store.close()
    assert modes["probed.db"] == 0o600 and modes.get("probed.db-wal", 0o600) == 0o600


def damage(path):
    data = bytearray(path.read_bytes())
    for offset in range(2 * 16384, len(data), 4096):
        data[offset : offset + 200] = b"\xde\xad" * 100
    path.write_bytes(data)


def test_a_damaged_database_is_refused_at_start_saying_what_to_do(tmp_path):
    path = tmp_path / "probed.db"
    store = Store.open(path)
    store.sync_monitors([(f"m{i}", "k" * 500, None) for i in range(200)], T0)
    store.close()
    (tmp_path / "probed.db.bak-v1").write_bytes(b"an older copy")
    damage(path)
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    message = str(caught.value)
    assert message.startswith(f"state database {path} is damaged (")
    assert "restore probed.db.bak-v1 over it, or move it aside" in message


def test_a_file_that_is_not_a_database_is_refused_the_same_way(tmp_path):
    path = tmp_path / "probed.db"
    path.write_bytes(b"this is not a database, it is a text file" * 100)
    with pytest.raises(StoreError, match=r"is damaged .*move it aside"):
        Store.open(path)


def test_every_monitors_last_and_recent_good_results_in_one_read(tmp_path):
    store = Store.open(tmp_path / "db")
    rows = store.sync_monitors([(n, "k", None) for n in ("a", "b", "c", "d")], T0)
    ids = {name: row.id for name, row in rows.items()}
    for i in range(6):  # a: good and bad by turns, b: always bad, c: always good, d: nothing
        for name, ok in (("a", i % 2 == 0), ("b", False), ("c", True)):
            result = CheckResult(
                ok=ok,
                reason="HTTP 200" if ok else "HTTP 500",
                at=T0 + timedelta(seconds=10 * i + len(name)),
                status_code=200 if ok else 500,
                timings=Timings(total=0.1 * (i + 1) + 0.001 * ids[name], dns=0.002),
                cert_expires_at=T0 + timedelta(days=i) if name == "c" else None,
            )
            store.record_check(ids[name], result, MonitorState(), [])
    every = list(ids.values())
    last = store.checks.last_many(every)
    good = store.checks.recent_good_many(every, 3)
    assert set(last) == {ids["a"], ids["b"], ids["c"]} and set(good) == {ids["a"], ids["c"]}
    for mid in ids.values():
        assert last.get(mid) == store.last_check(mid)
        assert good.get(mid, []) == store.checks.recent_good(mid, 3)
    assert last[ids["c"]].cert_expires_at == T0 + timedelta(days=5)
    assert good[ids["a"]] == [
        0.5 + 0.001 * ids["a"],
        0.3 + 0.001 * ids["a"],
        0.1 + 0.001 * ids["a"],
    ]
    assert store.checks.last_many([ids["b"]]) == {ids["b"]: last[ids["b"]]}
