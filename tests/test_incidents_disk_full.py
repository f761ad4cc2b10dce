"""An incident the state database cannot take (a full disk) waits in memory under the ID its
alert already named, and is written once the file takes writes again (docs/design.md §17.1)."""

from __future__ import annotations

from datetime import timedelta

from probed.config import EmailChannel
from probed.errors import StoreWriteError
from probed.model import AlertKind
from tests.kit.clock import FakeClock
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor

EMAIL = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))


async def test_an_incident_refused_by_a_full_disk_is_written_later_under_its_id(make_harness):
    clock = FakeClock()
    h = make_harness([make_monitor("api"), make_monitor("filler")], clock, email=EMAIL)
    await h.feed("api", good(clock()))
    # Fill every page, incidents' own included: a big evidence row at a time, then smaller.
    store = h.store
    with store.transaction():
        code_id = store.incidents.open(
            h.tracked("filler").id,
            code="INC-2026-001",
            year=2026,
            number=1,
            started=clock(),
            confirmed=clock(),
            severity="warning",
            runbook=None,
        )
    store.cap_pages(store.page_count())
    role = 0
    for size in (100_000, 10_000, 1_000, 100, 10):
        while True:
            try:
                with store.transaction():
                    store.incidents.add_event(code_id, clock(), "x" * size, {})
                role += 1
            except StoreWriteError:
                break
    first = clock.advance(10)
    for _ in range(3):
        await h.feed("api", failed(clock()))
        clock.advance(1)
    [down] = [r for r in h.rows() if r.kind is AlertKind.DOWN]
    assert down.payload.incident == "INC-2026-002"  # the file's sequence said 1
    assert store.incidents.get("INC-2026-002") is None  # not in the file yet
    clock.advance(30)
    await h.feed("api", good(clock()))  # the UP waits behind it too
    [up] = [r for r in h.rows() if r.kind is AlertKind.UP]
    assert up.payload.incident == "INC-2026-002"

    store.cap_pages(None)
    h.recorder.tick(clock())
    row = store.incidents.get("INC-2026-002")
    assert row is not None and row.monitor == "api"
    assert row.started == first and row.confirmed == first + timedelta(seconds=2)
    assert row.ended == clock()
    assert [e.kind for e in store.incidents.events(row.id)] == ["failed", "down", "recovered"]
    assert store.incidents.last_number(2026) == 2
