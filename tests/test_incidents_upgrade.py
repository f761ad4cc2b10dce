"""The incidents step on real files (docs/design.md §8.2, §17.1): the outages of a 0.1.0 and a
0.2 database become incidents, numbered per year in the order they were confirmed."""

from __future__ import annotations

import sqlite3

from probed.store import Store, incidents_schema
from probed.store.migrations import LATEST, STEPS
from tests.test_upgrade import NOW, dump, write_010


def test_a_02_database_upgrades_in_place_and_its_outages_become_incidents(tmp_path):
    path = tmp_path / "probed.db"
    before = STEPS[: STEPS.index(incidents_schema.migrate)]
    write_010(path)
    Store.open(path, steps=before).close()  # the file as 0.2 left it
    earlier = dump(path)
    db = sqlite3.connect(path)
    downs = db.execute(
        "SELECT m.name, t.at_ms FROM transitions t JOIN monitors m ON m.id = t.monitor_id"
        " WHERE t.kind = 'down' ORDER BY t.at_ms, t.id"
    ).fetchall()
    db.close()
    assert len(downs) >= 2  # not vacuous: the fixture has a past and a current outage

    store = Store.open(path)
    try:
        assert store.schema_version() == LATEST
        assert dump(tmp_path / f"probed.db.bak-v{len(before)}") == earlier
        rows, total = store.incidents.find(limit=100)
        assert total == len(downs)
        oldest_first = list(reversed(rows))
        assert [(r.monitor, int(r.confirmed.timestamp() * 1000)) for r in oldest_first] == downs
        years = {r.confirmed.year for r in rows}
        for year in years:
            codes = [r.code for r in oldest_first if r.confirmed.year == year]
            assert codes == [f"INC-{year}-{n:03d}" for n in range(1, len(codes) + 1)]
        current = {r.monitor: r for r in rows}
        assert current["down"].open and not current["up"].open
        assert [e.kind for e in store.incidents.events(current["up"].id)] == [
            "failed",
            "down",
            "ended",
        ]
        # The sequence goes on from the imported ones.
        same_year = [r for r in rows if r.confirmed.year == NOW.year]
        assert store.incidents.last_number(NOW.year) == len(same_year)
    finally:
        store.close()
