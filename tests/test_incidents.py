"""Incidents as records (docs/design.md §17.1): every outage opens one with a per-year ID and
its evidence in the transaction that stores the DOWN, the UP closes it, restarts keep it, the
alerts name it, and an acknowledgement stops the reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from probed.alerts.outbox import AlertStatus
from probed.config import EmailChannel
from probed.evidence import Evidence
from probed.history import Retention
from probed.model import AlertKind
from probed.store.incidents import AckOutcome
from tests.kit.clock import FakeClock
from tests.kit.harness import Harness, failed, good
from tests.kit.monitors import make_monitor

EMAIL = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))


def with_evidence(result, body: str):
    return replace(
        result,
        evidence=Evidence(
            url="http://127.0.0.1:1/x", status_line="HTTP/1.1 503 Unavailable", body=body
        ),
    )


async def outage(h: Harness, name: str = "api", *, bodies=("first", "second", "third")) -> None:
    for body in bodies:
        await h.feed(name, with_evidence(failed(h.clock()), body))
        h.clock.advance(10)


async def test_an_outage_is_an_incident_with_evidence_timeline_and_end(make_harness):
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    h = make_harness([make_monitor("api", severity="critical")], clock, email=EMAIL)
    await h.feed("api", good(clock(), status_code=200))
    clock.advance(60)
    await outage(h)
    [row] = h.store.incidents.find()[0]
    assert row.code == "INC-2026-001" and row.open and row.severity == "critical"
    assert row.started == datetime(2026, 5, 4, 10, 1, tzinfo=UTC)
    assert row.confirmed == row.started + timedelta(seconds=20)
    evidence = h.store.incidents.evidence(row.id)
    assert evidence["opened"]["evidence"]["body"] == "first"
    assert evidence["confirmed"]["evidence"]["body"] == "third"
    assert evidence["confirmed"]["reason"] == "HTTP 503, expected 2xx"
    assert evidence["last_good"]["status_code"] == 200
    # The DOWN alert names the incident and carries the confirming check's evidence.
    [down] = [r for r in h.rows() if r.kind is AlertKind.DOWN]
    assert down.payload.incident == "INC-2026-001"
    assert down.payload.evidence is not None and down.payload.evidence.body == "third"
    assert down.payload.last_good is not None and down.payload.last_good.status_code == 200
    assert down.payload.incident_url == ""  # no external_url: no links

    clock.advance(90)
    await h.feed("api", good(clock()))
    row = h.store.incidents.get("INC-2026-001")
    assert row is not None and row.ended == clock() and row.resolve_seconds() == 120.0
    [up] = [r for r in h.rows() if r.kind is AlertKind.UP]
    assert up.payload.incident == "INC-2026-001"
    kinds = [e.kind for e in h.store.incidents.events(row.id)]
    assert kinds == ["failed", "down", "recovered"]
    assert (
        h.metric("probed_incident_resolve_seconds_count", monitor="api", severity="critical") == 1
    )


async def test_ids_count_per_year_and_are_never_reused_after_pruning(make_harness):
    clock = FakeClock(datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    h = make_harness(
        [make_monitor("a"), make_monitor("b")], clock, retention=Retention(history=86400.0)
    )
    codes = []
    for name in ("a", "b", "a"):
        await outage(h, name)
        await h.feed(name, good(clock()))
        codes.append(h.store.incidents.latest(h.tracked(name).id).code)
    assert codes == ["INC-2026-001", "INC-2026-002", "INC-2026-003"]
    # Past the year's end the count starts again; pruning the old ones never frees a number.
    clock.advance(3 * 86400)
    with h.store.transaction():
        assert h.store.incidents.prune(int(clock().timestamp() * 1000), 100) == 3
    await outage(h, "b")
    assert h.store.incidents.latest(h.tracked("b").id).code == "INC-2027-001"
    clock.advance(365 * 86400)
    await h.feed("b", good(clock()))
    await outage(h, "a")
    await outage(h, "b")
    assert [r.code for r in h.store.incidents.find(open=True)[0]] == [
        "INC-2028-002",
        "INC-2028-001",
    ]


async def test_an_open_incident_survives_a_restart_and_the_up_closes_it(tmp_path):
    clock = FakeClock()
    db = tmp_path / "probed.db"
    h = Harness.of(db, [make_monitor("api")], clock, email=EMAIL)
    await outage(h)
    await h.close()
    h = Harness.of(db, [make_monitor("api")], clock, email=EMAIL)
    try:
        clock.advance(30)
        await h.feed("api", good(clock()))
        [row] = h.store.incidents.find()[0]
        assert not row.open
        ups = [r for r in h.rows() if r.kind is AlertKind.UP]
        assert [u.payload.incident for u in ups] == [row.code]
    finally:
        await h.close()


async def test_acknowledging_stops_reminders_but_not_the_up(make_harness):
    clock = FakeClock()
    h = make_harness([make_monitor("api", remind_every=60.0)], clock, email=EMAIL)
    await outage(h)
    clock.advance(61)
    h.recorder.remind(clock())
    assert [r.kind for r in h.rows()].count(AlertKind.REMINDER) == 1
    code = h.store.incidents.find()[0][0].code
    outcome, row = h.parts.incidents.ack(code, "alice", "looking")
    assert outcome is AckOutcome.DONE and row is not None and row.acked_by == "alice"
    assert h.parts.incidents.ack(code, "bob")[0] is AckOutcome.ALREADY
    for _ in range(5):
        clock.advance(61)
        h.recorder.remind(clock())
    assert [r.kind for r in h.rows()].count(AlertKind.REMINDER) == 1
    assert h.metric("probed_incident_ack_seconds_count", monitor="api", severity="warning") == 1
    await h.feed("api", good(clock()))
    assert [r.kind for r in h.rows()].count(AlertKind.UP) == 1
    assert h.parts.incidents.ack(code, "carol")[0] is AckOutcome.CLOSED
    assert h.parts.incidents.ack("INC-1999-001", "carol")[0] is AckOutcome.UNKNOWN
    kinds = [e.kind for e in h.store.incidents.events(row.id)]
    assert kinds == ["failed", "down", "ack", "recovered"]


async def test_the_timeline_records_each_alert_its_channel_accepted(make_harness, smtp):
    from tests.kit.configs import email_channel

    clock = FakeClock()
    h = make_harness([make_monitor("api")], clock, email=email_channel(smtp.port))
    await outage(h)
    await h.dispatcher.run_once()
    assert [r.status for r in h.rows()] == [AlertStatus.SENT]
    row = h.store.incidents.find()[0][0]
    alerts = [e.detail for e in h.store.incidents.events(row.id) if e.kind == "alert"]
    assert alerts == [{"channel": "email", "kind": "down"}]
