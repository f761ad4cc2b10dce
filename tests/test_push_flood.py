"""A push token that signals too often: pings within a second of the stored one count without
a row each (coalesced), and past the token's rate ``/push`` answers 429, never to the ping that
closes a run. Pings are real HTTP requests to the app; the clock is the harness's."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from probed.engine.push_rate import BURST, RATE
from probed.model import Status
from tests.kit.clock import FakeClock
from tests.kit.harness import Harness
from tests.test_push import DAY, PUSH_TOKEN, Client, push_monitor

OTHER_TOKEN = "0123456789abcdef-restore"


@pytest.fixture
async def harness(make_harness):
    return make_harness([push_monitor(), push_monitor("restore", token=OTHER_TOKEN)], FakeClock())


async def ping(client: Client, suffix: str = "", token: str = PUSH_TOKEN, **kw: Any) -> int:
    async with client.get(f"/push/{token}{suffix}", **kw) as resp:
        await resp.read()
        if resp.status == 429:
            assert int(resp.headers["Retry-After"]) >= 1
        return resp.status


def rows(harness: Harness, name: str = "backup") -> int:
    return len(harness.store.checks.times(harness.tracked(name).id))


async def test_pings_within_a_second_count_but_store_one_row(
    harness: Harness, client: Client
) -> None:
    clock, tracked = harness.clock, harness.tracked("backup")
    for _ in range(10):
        assert await ping(client) == 200
        clock.advance(0.09)
    last = clock.advance(-0.09)
    assert rows(harness) == 1
    assert harness.metric("probed_checks_total", monitor="backup", result="success") == 10
    assert tracked.state.status is Status.UP and tracked.last is not None
    assert tracked.last.at == last
    assert harness.parts.pushes.book.deadline("backup") == last + timedelta(hours=25)
    # When the window ends (a second after the stored ping) the last ping's record is stored.
    await asyncio.sleep(1.2)
    assert harness.store.pushes.get(tracked.id).at == last
    # A second after the stored ping the next one is stored again.
    clock.advance(0.2)
    assert await ping(client) == 200
    assert rows(harness) == 2


async def test_a_failure_inside_the_window_is_stored_at_once(
    harness: Harness, client: Client
) -> None:
    assert await ping(client) == 200
    harness.clock.advance(0.1)
    assert await ping(client, "/fail", params={"msg": "exit 2"}) == 200
    harness.clock.advance(0.1)
    assert await ping(client) == 200
    assert harness.kinds("backup") == ["first_up", "down", "up"]
    assert rows(harness) == 3  # each changed the state: none is coalesced


async def test_a_coalesced_ping_survives_a_restart(tmp_path: Path) -> None:
    db, clock = tmp_path / "probed.db", FakeClock()
    h = Harness.of(db, [push_monitor()], clock)
    async with TestClient(TestServer(h.parts.app, host="127.0.0.1")) as client:
        await ping(client)
        clock.advance(DAY)
        await ping(client)
        clock.advance(0.5)
        await ping(client, "/start")
        clock.advance(0.25)
        await ping(client)
    pinged = clock()
    await h.close()  # before the window ends: the shutdown stores it

    h = Harness.of(db, [push_monitor()], clock)
    try:
        assert h.parts.pushes.book.deadline("backup") == pinged + timedelta(hours=25)
        assert h.store.pushes.get(h.tracked("backup").id).started is None
        assert len(h.store.checks.times(h.tracked("backup").id)) == 2
    finally:
        await h.close()


async def test_a_flood_is_refused_past_the_rate_but_never_a_run_s_end(
    harness: Harness, client: Client
) -> None:
    clock = harness.clock
    answers = [await ping(client) for _ in range(int(BURST) + 20)]
    assert answers == [200] * int(BURST) + [429] * 20
    # Another token has a bucket of its own.
    assert await ping(client, token=OTHER_TOKEN) == 200
    # Refused pings count for nothing: the checks counted are the accepted ones.
    assert harness.metric("probed_checks_total", monitor="backup", result="success") == BURST
    # The rate refills the bucket: a start gets in, and the ping closing it always does.
    clock.advance(1 / RATE)
    assert await ping(client, "/start") == 200
    assert await ping(client) == 200
    assert await ping(client) == 429
    clock.advance(3)
    assert await ping(client, "/start") == 200
    for _ in range(int(3 * RATE) - 1):
        assert await ping(client, "/start") == 200
    assert await ping(client, "/start") == 429
    assert await ping(client, "/fail", params={"msg": "exit 1"}) == 200
    assert harness.tracked("backup").state.status is Status.DOWN
    # After a quiet spell the first ping of the next run is accepted.
    clock.advance(60)
    assert await ping(client) == 200
    assert harness.tracked("backup").state.status is Status.UP
