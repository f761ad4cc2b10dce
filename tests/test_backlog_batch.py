"""The backlog's write-behind batch: checks that change no state are written together, at most
``FLUSH_EVERY`` seconds late, in order, and none is lost on stop or on a full disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from probed.engine import backlog as backlog_module
from probed.engine.backlog import Backlog, Record
from probed.metrics import Metrics
from probed.model import MonitorState, Status, Transition, TransitionKind
from probed.store import Store
from tests.kit.clock import FakeClock
from tests.kit.harness import good


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "probed.db")
    yield store
    store.close()


@dataclass
class Writer:
    """The backlog of monitor ``mid`` on a fake clock, its writer task running until stop()."""

    clock: FakeClock
    mid: int
    backlog: Backlog
    metrics: Metrics
    runner: asyncio.Task[None]

    def check(self, transitions: tuple[Transition, ...] = ()) -> Record:
        """A good check of the monitor a second after the last, with ``transitions``."""
        at = self.clock.advance(1)
        return Record(self.mid, good(at), MonitorState(Status.UP, since=at), transitions)

    async def stop(self) -> None:
        self.runner.cancel()
        await asyncio.gather(self.runner, return_exceptions=True)


@pytest.fixture
async def writer(store: Store) -> AsyncIterator[Writer]:
    clock = FakeClock()
    mid = store.sync_monitors([("api", "k", None)], clock())["api"].id
    metrics = Metrics()
    backlog = Backlog(store, metrics)
    running = Writer(clock, mid, backlog, metrics, asyncio.create_task(backlog.run()))
    await asyncio.sleep(0)  # the writer is waiting for its first batch
    yield running
    await running.stop()


async def test_checks_without_a_state_change_wait_for_their_batch_and_are_written_in_order(
    store, writer
):
    mid, backlog = writer.mid, writer.backlog
    hooked: list[int] = []
    records = [writer.check() for _ in range(5)]
    for i, record in enumerate(records):
        assert backlog.write(record, lambda ids, i=i: hooked.append(i))
    assert store.checks.times(mid) == [] and hooked == [] and backlog.waiting == 0
    await asyncio.sleep(backlog_module.FLUSH_EVERY + 0.2)
    assert len(store.checks.times(mid)) == 5 and hooked == [0, 1, 2, 3, 4]


async def test_a_transition_writes_the_waiting_checks_first_then_itself_at_once(store, writer):
    mid, backlog = writer.mid, writer.backlog
    for _ in range(3):
        backlog.write(writer.check())
    at = writer.clock.advance(1)
    down = Transition("api", TransitionKind.DOWN, Status.UP, Status.DOWN, at, "HTTP 503", at)
    assert backlog.write(writer.check((down,)))
    assert len(store.checks.times(mid)) == 4 and len(store.transitions(mid)) == 1


async def test_stopping_the_writer_writes_what_waits_and_a_full_batch_goes_at_once(store, writer):
    mid, backlog = writer.mid, writer.backlog
    for _ in range(backlog_module.FLUSH_SIZE):
        backlog.write(writer.check())
    assert len(store.checks.times(mid)) == backlog_module.FLUSH_SIZE
    backlog.write(writer.check())
    await writer.stop()
    assert len(store.checks.times(mid)) == backlog_module.FLUSH_SIZE + 1
    backlog.write(writer.check())  # no writer running: written at once
    assert len(store.checks.times(mid)) == backlog_module.FLUSH_SIZE + 2


async def test_a_refused_batch_is_held_in_order_and_every_hook_still_runs(store, writer):
    mid, backlog, metrics = writer.mid, writer.backlog, writer.metrics
    store.cap_pages(store.page_count())
    hooked: list[int] = []
    refused = 0
    while backlog.waiting == 0:  # until the capped file refuses a batch
        backlog.write(writer.check(), lambda ids, i=refused: hooked.append(i))
        refused += 1
        assert refused < 50_000, "the capped database never refused a write"
    assert backlog.error == "database or disk is full"
    assert (
        metrics.registry.get_sample_value("probed_store_errors_total", {"operation": "check"}) == 1
    )
    assert sorted(hooked) == list(range(refused)) and len(hooked) == refused
    stored = len(store.checks.times(mid))
    assert backlog.waiting == refused - stored
    store.cap_pages(None)
    assert backlog.flush() and backlog.waiting == 0
    times = store.checks.times(mid)
    assert len(times) == refused and times == sorted(times)
