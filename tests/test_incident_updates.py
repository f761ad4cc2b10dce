"""Manual incidents and incident updates (docs/design.md §17.5): a person opens an incident no
monitor sees, posts updates through the stages, and "resolved" ends it; automatic incidents
take updates too; every change is news for the listeners, in its transaction."""

from __future__ import annotations

import sqlite3

import pytest

from probed.incidents.book import News
from probed.incidents.inputs import IncidentInputError
from probed.store import Store
from tests.kit.clock import FakeClock
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor


async def test_a_manual_incident_goes_through_its_stages_and_resolved_ends_it(make_harness):
    clock = FakeClock()
    h = make_harness([make_monitor("Voice API"), make_monitor("Web")], clock)
    book = h.parts.incidents
    heard: list[News] = []
    book.listeners.append(heard.append)
    row = book.open_manual(
        "Voice calls failing", ["Voice API"], stage="investigating", impact="major", by="alice"
    )
    assert row.code == "INC-2026-001" and row.manual and row.open
    assert (row.title, row.impact, row.stage, row.monitor) == (
        "Voice calls failing", "major", "investigating", "Voice API",
    )  # fmt: skip
    clock.advance(600)
    _, after = book.add_update(row.code, "identified", "A carrier dropped our trunk.")
    assert after.stage == "identified" and after.open
    clock.advance(600)
    book.add_update(row.code, "monitoring", "Calls go through again; watching.")
    clock.advance(600)
    _, done = book.add_update(row.code, "resolved", "Fixed by the carrier.", by="bob")
    assert not done.open and done.ended == clock() and done.stage == "resolved"
    updates = h.store.incidents.updates([row.id])
    assert [u.stage for u in updates] == ["resolved", "monitoring", "identified", "investigating"]
    assert updates[-1].text == "Voice calls failing" and updates[0].by == "bob"
    assert [(n.kind, n.code) for n in heard] == [
        ("opened", row.code),
        ("updated", row.code),
        ("updated", row.code),
        ("updated", row.code),
        ("updated", row.code),
        ("resolved", row.code),
    ]
    # A manual incident changes nothing measured.
    assert h.tracked("Voice API").state == h.tracked("Web").state
    # It is found by its monitor, and it takes the next number.
    assert [r.code for r in h.store.incidents.find(monitor_id=h.tracked("Voice API").id)[0]] == [
        row.code
    ]
    for name in ("Web",) * 3:
        await h.feed(name, failed(clock()))
    assert h.store.incidents.find(open=True)[0][0].code == "INC-2026-002"


async def test_an_automatic_incident_takes_updates_and_ends_with_the_up(make_harness):
    clock = FakeClock()
    h = make_harness([make_monitor("api")], clock)
    book = h.parts.incidents
    heard: list[News] = []
    book.listeners.append(heard.append)
    for _ in range(3):
        await h.feed("api", failed(clock()))
    code = h.store.incidents.find()[0][0].code
    _, row = book.add_update(code, "resolved", "We think it is fixed.")
    assert row.open  # only its monitor's UP ends it
    await h.feed("api", good(clock.advance(60)))
    assert not h.store.incidents.get(code).open
    assert [n.kind for n in heard] == ["opened", "updated", "resolved"]
    assert book.add_update("INC-1999-001", "identified", "x") is None


async def test_bad_input_is_refused_with_what_was_wrong(make_harness):
    h = make_harness([make_monitor("api")], FakeClock())
    book = h.parts.incidents
    cases = [
        ({"title": " "}, "title: must not be empty"),
        ({"title": "x" * 2001}, "title: at most 2000 characters"),
        ({"stage": "fixed"}, "stage: one of investigating, identified, monitoring, resolved"),
        ({"impact": "huge"}, "impact: one of minor, major"),
        ({"monitors": ["nope"]}, "monitor: no monitor named 'nope'"),
        ({"title": "a\x00b"}, "title: control characters"),
    ]
    for overrides, message in cases:
        args = {"title": "t", "monitors": ["api"]} | overrides
        title, monitors = args.pop("title"), args.pop("monitors")
        with pytest.raises(IncidentInputError, match=message):
            book.open_manual(title, monitors, **args)
    assert h.store.incidents.find()[1] == 0


def test_the_update_step_keeps_the_incidents_of_a_v6_database(tmp_path):
    from probed.store import incident_updates_schema
    from probed.store.migrations import STEPS
    from tests.test_upgrade import write_010

    path = tmp_path / "probed.db"
    write_010(path)
    before = STEPS[: STEPS.index(incident_updates_schema.migrate)]
    Store.open(path, steps=before).close()
    db = sqlite3.connect(path)  # as version 6 holds them
    rows = db.execute(
        "SELECT code, monitor_id, started_ms, ended_ms FROM incidents ORDER BY id"
    ).fetchall()
    events = db.execute("SELECT * FROM incident_events ORDER BY incident_id, seq").fetchall()
    db.close()
    assert rows and events
    store = Store.open(path)
    try:
        again, _ = store.incidents.find(limit=100)
        assert sorted(
            (r.code, r.monitor_id, int(r.started.timestamp() * 1000), r.ended is not None)
            for r in again
        ) == sorted((c, m, s, e is not None) for c, m, s, e in rows)
        assert all(not r.manual and r.title is None and r.monitor for r in again)
        db = sqlite3.connect(path)
        kept = db.execute("SELECT * FROM incident_events ORDER BY incident_id, seq").fetchall()
        db.close()
        assert kept == events
    finally:
        store.close()
