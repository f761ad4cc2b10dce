"""A state database that cannot take writes (issue 9, finding 1), in-process: the real pipeline,
store, outbox and dispatcher from ``build()``, a real SMTP server, and SQLite's own "database or
disk is full" (the file capped at its current size with ``max_page_count``)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from probed.alerts.outbox import AlertStatus
from probed.config import Monitor
from probed.engine.backlog import Backlog, Record
from probed.engine.pipeline import Tracked
from probed.errors import StoreWriteError
from probed.metrics import Metrics
from probed.model import CheckResult, MonitorState, Status, Transition, TransitionKind
from probed.service.build import build
from probed.service.sdnotify import Notifier
from probed.store import Store
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, email_channel, make_config
from tests.kit.harness import Harness, api_client, failed, good
from tests.kit.monitors import make_monitor
from tests.kit.smtp import SmtpServer
from tests.kit.tools import tool
from tests.test_sdnotify import FakeSystemd


def harness(tmp_path, smtp, clock: FakeClock) -> Harness:
    config = make_config(tmp_path, [make_monitor("api")], email_channel(smtp.port))
    return Harness(config, clock)


def cap_and_fill(store: Store, tracked: Tracked, clock: FakeClock) -> int:
    """Cap the file at its size and store earlier good checks until it refuses one (quicker
    than through the pipeline); how many were stored."""
    store.cap_pages(store.page_count())
    stored = 0
    while True:
        try:
            store.record_check(tracked.id, good(clock.advance(1)), tracked.state, [])
        except StoreWriteError:
            return stored
        stored += 1
        assert stored < 50_000, "the capped database never refused a write"


async def fill_the_disk(h: Harness) -> int:
    """Fill the capped file, then feed a check that the pipeline cannot store; how many
    checks were stored or fed."""
    stored = cap_and_fill(h.store, h.tracked("api"), h.clock)
    assert h.metric("probed_store_errors_total", operation="check") == 0
    await h.feed("api", good(h.clock.advance(1)))
    assert h.metric("probed_store_errors_total", operation="check") == 1
    return stored + 1


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs, unmounted afterwards: room for a new database's first WAL (1.3 MB at schema
    8) and its checkpoint into the file at close, once the test has freed the disk again."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        [tool("mount"), "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run([tool("umount"), "-l", str(disk)], check=False)


def fill(disk: Path) -> None:
    """Write zeros into ``disk`` until it is full, like ``dd``."""
    with (disk / "fill").open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(bytes(65536))
            out.flush()


async def healthz(client: TestClient) -> tuple[int, dict[str, str]]:
    resp = await client.get("/healthz")
    return resp.status, await resp.json()


async def test_a_full_disk_still_sends_the_down_alert_and_later_stores_the_outage_as_it_happened(
    tmp_path, smtp
):
    clock = FakeClock()
    h = harness(tmp_path, smtp, clock)
    client = TestClient(TestServer(h.parts.app, host="127.0.0.1"))
    await client.start_server()
    scheduler = h.parts.scheduler
    scheduler.start()  # alive for /healthz (its heartbeat); the test feeds the checks
    scheduler.remove("api")
    try:
        assert await h.feed("api", good(clock())) == ["first_up"]
        fed = 1 + await fill_the_disk(h)
        mid = h.tracked("api").id

        first_failure = clock.advance(30)
        assert await h.feed("api", failed(first_failure)) == ["seems_down"]
        await h.feed("api", failed(clock.advance(1)))
        assert await h.feed("api", failed(clock.advance(1))) == ["down"]
        fed += 3
        # In memory, everything moved on: the API's state and the metrics say down.
        state = h.tracked("api").state
        assert state.status is Status.DOWN and state.outage_start == first_failure
        assert h.metric("probed_monitor_status", monitor="api") == int(Status.DOWN)

        await h.dispatcher.run_once()
        assert smtp.subjects() == ["[probed] DOWN: api (INC-2026-001)"]
        status, body = await healthz(client)
        assert status == 503 and body["status"] == "unavailable"
        assert body["reason"].startswith("state database: database or disk is full; ")
        assert body["reason"].endswith(" writes waiting")
        assert h.metric("probed_store_errors_total", operation="check") == 1
        assert h.metric("probed_store_writes_waiting") >= 4
        assert "database or disk is full" in h.parts.summary()
        # Nothing of the outage reached the file yet.
        assert [t.kind for t in h.store.transitions(mid)] == [TransitionKind.FIRST_UP]

        h.store.cap_pages(None)  # space comes back
        assert h.parts.backlog.flush()
        await h.dispatcher.run_once()
        assert await healthz(client) == (200, {"status": "ok"})
        assert h.parts.summary() == "1 monitor: 1 down"

        stored = list(reversed(h.store.transitions(mid)))
        assert [(t.kind, t.at) for t in stored[1:]] == [
            (TransitionKind.SEEMS_DOWN, first_failure),
            (TransitionKind.DOWN, first_failure + timedelta(seconds=2)),
        ]
        assert stored[-1].outage_start == first_failure
        assert len(h.store.checks.times(mid)) == fed  # no check lost
        [row] = h.outbox.rows()
        assert row.id > 0 and row.kind == "down" and row.status is AlertStatus.SENT
        # ... and the incident is stored under the ID the alert gave, with its true times.
        [incident] = h.store.incidents.find()[0]
        assert incident.code == "INC-2026-001" and incident.open
        assert incident.started == first_failure
        assert incident.confirmed == first_failure + timedelta(seconds=2)
        events = h.store.incidents.events(incident.id)
        assert [e.kind for e in events] == ["failed", "down", "alert"]
    finally:
        await scheduler.drain(0)
        await client.close()
        await h.close()

    clock.advance(60)
    again = harness(tmp_path, smtp, clock)
    try:
        await again.dispatcher.run_once()
        assert smtp.subjects() == ["[probed] DOWN: api (INC-2026-001)"]  # nothing sent twice
        restored = again.tracked("api").state
        assert restored.status is Status.DOWN and restored.outage_start == first_failure
    finally:
        await again.close()


async def test_systemd_status_names_the_full_disk_until_the_held_writes_are_in(tmp_path):
    clock = FakeClock()
    config = make_config(tmp_path, [make_monitor("api")], None)
    systemd = FakeSystemd(str(tmp_path / "notify.sock"), str(tmp_path / "notify.sock"))

    async def probe(monitor: Monitor, now: datetime) -> CheckResult:
        return good(clock.advance(1))

    with Notifier(systemd.env()) as notifier:
        parts = build(config, clock, probe=probe, notifier=notifier)
        try:
            await parts.pipeline.check("api")
            cap_and_fill(parts.store, parts.pipeline.monitors["api"], clock)
            await parts.pipeline.check("api")
            full = "1 monitor: 1 up; state database: database or disk is full; 1 write waiting"
            assert systemd.messages()[-1] == f"STATUS={full}"
            parts.store.cap_pages(None)
            assert parts.backlog.flush()
            assert systemd.messages()[-1] == "STATUS=1 monitor: 1 up"
        finally:
            await parts.aclose()
            systemd.sock.close()


async def test_a_sent_alert_the_full_disk_cannot_mark_sent_is_not_sent_again(tmp_path, small_disk):
    smtp = SmtpServer()  # not started yet: the DOWN alert is stored pending
    clock = FakeClock()
    config = make_config(small_disk, [make_monitor("api")], email_channel(smtp.port))
    h = Harness(config, clock)
    try:
        await h.feed("api", good(clock()))
        await h.go_down("api")
        await h.dispatcher.run_once()
        [row] = h.rows()
        assert row.id > 0 and row.status is AlertStatus.PENDING and row.attempts == 1
        fill(small_disk)
        await smtp.start()
        clock.advance(10)
        await h.dispatcher.run_once()  # sent; the table cannot take "sent"
        assert smtp.subjects() == ["[probed] DOWN: api (INC-2026-001)"]
        assert h.metric("probed_store_errors_total", operation="outbox") >= 1
        assert h.parts.problem() == "state database: database or disk is full; 1 write waiting"
        clock.advance(600)
        await h.dispatcher.run_once()
        assert len(smtp.inbox) == 1
        (small_disk / "fill").unlink()
        await h.dispatcher.run_once()
        assert h.parts.problem() is None
        assert [(r.id, r.status) for r in h.rows()] == [(row.id, AlertStatus.SENT)]
    finally:
        await h.close()
    again = Harness(config, clock)
    try:
        await again.dispatcher.run_once()
        assert len(smtp.inbox) == 1
    finally:
        await again.close()
        await smtp.stop()


def _transition(at, new: Status = Status.DOWN) -> Transition:
    return Transition("api", TransitionKind.DOWN, Status.SEEMS_DOWN, new, at, "HTTP 503", at)


async def test_held_writes_are_bounded_by_dropping_the_oldest_raw_checks_never_a_transition(
    tmp_path,
):
    clock = FakeClock()
    store = Store.open(tmp_path / "probed.db")
    try:
        mid = store.sync_monitors([("api", "k", None)], clock())["api"].id
        metrics = Metrics()
        backlog = Backlog(store, metrics, limit=5)
        store.cap_pages(store.page_count())
        with pytest.raises(StoreWriteError):
            for _ in range(20_000):
                store.record_check(mid, good(clock.advance(1)), MonitorState(Status.UP), [])
        records = []
        for i in range(30):
            at = clock.advance(1)
            transitions = (_transition(at),) if i == 10 else ()
            state = MonitorState(Status.DOWN if i >= 10 else Status.UP, since=at)
            records.append(Record(mid, good(at), state, transitions))
            assert not backlog.write(records[-1])
        assert backlog.error == "database or disk is full"
        assert backlog.waiting == 5
        dropped = metrics.registry.get_sample_value("probed_store_dropped_checks_total")
        assert dropped and dropped > 0
        store.cap_pages(None)
        assert backlog.flush() and backlog.waiting == 0 and backlog.error is None
        assert dropped == 25
        [down] = store.transitions(mid)
        assert down.at == records[10].result.at  # type: ignore[union-attr]
        assert store.monitors.sync([("api", "k", None)], clock())["api"].state.status is Status.DOWN
        assert store.last_check(mid).at == records[-1].result.at  # type: ignore[union-attr]
    finally:
        store.close()


async def test_only_a_write_the_file_cannot_take_is_a_store_write_error(tmp_path):
    store = Store.open(tmp_path / "probed.db")
    try:
        stored = store.sync_monitors([("api", "k", None)], FakeClock()())
        mid = stored["api"].id
        state = MonitorState(Status.UP)
        store.cap_pages(store.page_count())
        with pytest.raises(StoreWriteError, match="database or disk is full"):
            for i in range(50_000):
                store.record_check(mid, good(FakeClock()() + timedelta(seconds=i)), state, [])
        store.cap_pages(None)
        # A statement that is wrong, not a file that is full: no retry would help.
        with pytest.raises(sqlite3.IntegrityError):
            store.sync_monitors([("api", "k", mid), ("b", "k", mid)], FakeClock()())
        store.record_check(mid, good(FakeClock()() + timedelta(hours=2)), state, [])
    finally:
        store.close()


async def test_a_pause_the_full_disk_cannot_store_is_refused_with_503_and_changes_nothing(
    small_disk,
):
    h = Harness.of(small_disk / "probed.db", [make_monitor("api")])
    await h.check("api")
    clients = api_client(h)
    client = await anext(clients)
    try:
        fill(small_disk)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        resp = await client.post(f"/api/v1/monitors/{h.tracked('api').id}/pause", headers=auth)
        body = await resp.json()
        assert resp.status == 503 and "try again" in body["error"]
        assert h.tracked("api").state.status is Status.UP
    finally:
        await clients.aclose()
        (small_disk / "fill").unlink(missing_ok=True)
        await h.close()


async def test_a_reload_the_full_disk_cannot_register_changes_nothing(small_disk):
    from probed.config import Config, Settings
    from probed.errors import StoreError
    from probed.service.build import build

    def config(names):
        monitors = tuple(make_monitor(n, url=f"http://{n}.test/") for n in names)
        return Config(small_disk / "monitors.toml", Settings(state_dir=small_disk), monitors)

    parts = build(config(["a"]), FakeClock(), probe=None, session=None)
    try:
        fill(small_disk)
        with pytest.raises(StoreError):
            parts.apply(config(["a", *(f"new-{i}-{'x' * 200}" for i in range(300))]))
        assert list(parts.pipeline.monitors) == ["a"]
    finally:
        (small_disk / "fill").unlink(missing_ok=True)
        await parts.aclose()
