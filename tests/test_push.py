"""Push (heartbeat) monitors in-process: ``build()`` on a fake clock, pings sent over HTTP to
the real app on a loopback server, and the scheduled check run by hand at chosen times."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from probed.config import Monitor, PushCheck
from probed.model import PushRecord, Status
from probed.store import Store, migrations, push_schema
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import TOKEN, load_monitors
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.processes import probed

PUSH_TOKEN = "0123456789abcdef-backup"
DAY, HOUR = 86400.0, 3600.0

Client = TestClient[web.Request, web.Application]


def push_monitor(name: str = "backup", **settings: Any) -> Monitor:
    settings = {"token": PUSH_TOKEN, "interval": DAY, "grace": HOUR, "down_after": 1} | settings
    return make_monitor(kind="push", url="", name=name, **settings)


@pytest.fixture
async def harness(make_harness):
    return make_harness([push_monitor()], FakeClock())


async def ping(client: Client, suffix: str = "", method: str = "GET", **kw: Any) -> int:
    async with client.request(method, f"/push/{PUSH_TOKEN}{suffix}", **kw) as resp:
        body = await resp.text()
        assert resp.status != 200 or body == "OK"
        return resp.status


def test_push_takes_down_after_1_over_the_defaults_unless_the_monitor_sets_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "token").write_text("0123456789abcdef-restore\n")
    backup, restore, site = load_monitors(
        tmp_path,
        '[defaults]\ndown_after = 3\n[[monitor]]\nname = "backup"\ntype = "push"\n'
        'token = "${T}"\ninterval = "1d"\n'
        '[[monitor]]\nname = "restore"\ntype = "push"\ntoken_file = "token"\n'
        'interval = "1m"\ndown_after = 2\ngrace = "10s"\n'
        '[[monitor]]\nname = "site"\nurl = "https://example.com/"\n',
        {"T": PUSH_TOKEN},
    )
    assert (backup.down_after, restore.down_after, site.down_after) == (1, 2, 3)
    assert isinstance(backup.check, PushCheck) and isinstance(restore.check, PushCheck)
    assert backup.check.path == f"/push/{PUSH_TOKEN}"
    assert restore.check.token == "0123456789abcdef-restore"
    # Without grace: the interval, at most an hour.
    assert backup.check.grace_for(backup.interval) == HOUR
    assert restore.check.grace_for(restore.interval) == 10
    assert PushCheck(token="x" * 16).grace_for(60) == 60
    assert PUSH_TOKEN not in repr(backup) and backup.display_url == "/push/***"
    # The token and the grace are not what the check is: changing them keeps state.
    assert backup.check_key == ("push", "")


async def test_a_ping_brings_a_new_monitor_up_and_a_missed_deadline_takes_it_down(
    harness: Harness, client: Client
) -> None:
    name, clock = "backup", harness.clock
    # No ping due yet: the check records nothing and the monitor stays pending.
    clock.advance(DAY)
    assert await harness.pipeline.check(name) is None
    assert harness.tracked(name).state.status is Status.PENDING
    assert await ping(client) == 200
    assert harness.tracked(name).state.status is Status.UP
    pinged = clock()
    assert harness.parts.pushes.book.deadline(name) == pinged + timedelta(hours=25)
    clock.advance(DAY + HOUR - 1)
    assert await harness.pipeline.check(name) is None
    assert harness.tracked(name).state.status is Status.UP
    clock.advance(1)
    tracked = await harness.pipeline.check(name)
    assert tracked is not None and tracked.state.status is Status.DOWN
    assert tracked.state.reason == "no ping for 1d 1h (expected every 1d, grace 1h)"
    assert harness.kinds(name) == ["first_up", "down"]
    assert harness.metrics.registry.get_sample_value("probe_success", {"monitor": name}) == 0
    # A late ping ends the outage at once.
    clock.advance(600)
    assert await ping(client, method="POST") == 200
    assert harness.tracked(name).state.status is Status.UP
    assert harness.kinds(name)[-1] == "up"


async def test_a_never_pinged_monitor_fails_at_its_first_deadline_and_keeps_failing(
    harness: Harness,
) -> None:
    name, clock = "backup", harness.clock
    clock.advance(DAY + HOUR)
    tracked = await harness.pipeline.check(name)
    assert tracked is not None and tracked.state.status is Status.DOWN
    clock.advance(DAY)
    await harness.pipeline.check(name)
    assert harness.tracked(name).last is not None
    assert harness.tracked(name).last.reason == "no ping for 2d 1h (expected every 1d, grace 1h)"


async def test_a_failure_report_counts_now_with_its_message_and_stands_until_a_ping(
    harness: Harness, client: Client
) -> None:
    name = "backup"
    await ping(client)
    harness.clock.advance(60)
    assert await ping(client, "/fail", params={"msg": "disk full"}) == 200
    tracked = harness.tracked(name)
    assert tracked.state.status is Status.DOWN and tracked.state.reason == "disk full"
    # The next scheduled check does not call it up: the failure stands.
    harness.clock.advance(HOUR)
    await harness.pipeline.check(name)
    assert harness.tracked(name).state.status is Status.DOWN
    assert harness.tracked(name).last is not None
    assert harness.tracked(name).last.reason == "disk full"
    # The body is the message when there is no msg: one line, at most 200 characters.
    body = "rsync: error\n\tcode 23 " + "x" * 10_000
    assert await ping(client, "/fail", method="POST", data=body.encode()) == 200
    reason = harness.tracked(name).state.reason
    assert reason.startswith("rsync: error code 23 xxx") and len(reason) == 200
    assert await ping(client, "/fail", method="POST") == 200
    assert harness.tracked(name).state.reason == "failure reported by the job"
    # curl -d sends a form: its msg field, or the whole body when it has none.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    await ping(client, "/fail", method="POST", data=b"msg=disk+full&host=db1", headers=form)
    assert harness.tracked(name).state.reason == "disk full"
    await ping(client, "/fail", method="POST", data=b"exit 3", headers=form)
    assert harness.tracked(name).state.reason == "exit 3"
    await ping(client)
    assert harness.tracked(name).state.status is Status.UP
    assert harness.kinds(name) == ["first_up", "down", "up"]


async def test_a_failure_report_with_down_after_2_is_confirmed_at_the_retry(
    tmp_path: Path,
) -> None:
    h = Harness.of(tmp_path / "probed.db", [push_monitor(down_after=2)], FakeClock())
    try:
        async with TestClient(TestServer(h.parts.app, host="127.0.0.1")) as client:
            await ping(client, "/fail?msg=exit%201")
            assert h.tracked("backup").state.status is Status.SEEMS_DOWN
            h.clock.advance(30)
            await h.pipeline.check("backup")
            assert h.tracked("backup").state.status is Status.DOWN
            assert h.tracked("backup").state.reason == "exit 1"
    finally:
        await h.close()


async def test_start_then_ping_records_the_run_time_as_the_response_time(
    harness: Harness, client: Client
) -> None:
    assert await ping(client, "/start") == 200
    assert harness.tracked("backup").last is None  # a start is no check
    harness.clock.advance(42.5)
    await ping(client)
    last = harness.tracked("backup").last
    assert last is not None and last.ok and last.duration == 42.5
    harness.clock.advance(60)
    await ping(client)  # no start before it: no run time
    last = harness.tracked("backup").last
    assert last is not None and last.duration == 0.0
    await ping(client, "/start")
    harness.clock.advance(7)
    await ping(client, "/fail", params={"msg": "timeout"})
    last = harness.tracked("backup").last
    assert last is not None and not last.ok and last.duration == 7.0


async def test_a_wrong_token_is_answered_as_any_unknown_path(client: Client) -> None:
    async def answer(path: str, method: str = "GET") -> tuple[int, str, str | None]:
        async with client.request(method, path) as resp:
            return resp.status, await resp.text(), resp.headers.get("Content-Type")

    unknown = await answer("/no/such/path")
    assert unknown[0] == 404
    for path in (
        "/push/0123456789abcdef-bACKUP",
        "/push/0123456789abcdef-backu",
        f"/push/{PUSH_TOKEN}x",
        "/push/0123456789abcdef-backup%2Ffail",
        "/push/0123456789abcdef-wrong/fail",
        f"/push/{PUSH_TOKEN}/ping",
        f"/push/{PUSH_TOKEN}/fail/more",
    ):
        assert await answer(path) == unknown, path
        assert await answer(path, "POST") == unknown, path


async def test_a_wrong_token_takes_about_as_long_as_an_unknown_path(client: Client) -> None:
    async def timed(path: str) -> float:
        began = time.perf_counter()
        async with client.get(path) as resp:
            await resp.read()
        return time.perf_counter() - began

    await timed("/warm/up")
    unknown, wrong = [], []
    for _ in range(60):  # interleaved, so a burst of load on the machine hits both alike
        unknown.append(await timed("/no/such/path"))
        wrong.append(await timed("/push/0123456789abcdef-wrong"))
    median_unknown, median_wrong = sorted(unknown)[30], sorted(wrong)[30]
    # Loopback round trips take a millisecond or so; a wrong token costs a digest, nothing
    # that grows with the monitors, the store or how close the guess is.
    assert median_wrong < 2 * median_unknown + 0.002, (median_wrong, median_unknown)


async def test_a_ping_for_a_paused_monitor_is_recorded_and_changes_nothing(
    harness: Harness, client: Client
) -> None:
    name = "backup"
    harness.pipeline.pause(name)
    harness.clock.advance(DAY)
    assert await ping(client) == 200
    tracked = harness.tracked(name)
    assert tracked.state.status is Status.PAUSED and tracked.last is None
    assert harness.parts.pushes.book.record(tracked).at == harness.clock()
    await ping(client, "/fail?msg=boom")
    assert harness.tracked(name).state.status is Status.PAUSED
    # After a resume the deadline counts from the resume, not from what came while paused.
    harness.clock.advance(DAY)
    resumed = harness.clock()
    harness.pipeline.resume(name)
    assert harness.parts.pushes.book.deadline(name) == resumed + timedelta(hours=25)
    harness.clock.advance(HOUR)
    assert await harness.pipeline.check(name) is None
    assert harness.tracked(name).state.status is Status.PENDING


async def test_the_last_ping_and_an_open_start_survive_a_restart(tmp_path: Path) -> None:
    db, clock = tmp_path / "probed.db", FakeClock()
    h = Harness.of(db, [push_monitor()], clock)
    async with TestClient(TestServer(h.parts.app, host="127.0.0.1")) as client:
        await ping(client)
        clock.advance(DAY)
        await ping(client)
        await ping(client, "/start")
    pinged = clock()
    await h.close()

    h = Harness.of(db, [push_monitor()], clock)
    try:
        # Up since the first ping, but due a day and an hour after the second.
        assert h.parts.pushes.book.deadline("backup") == pinged + timedelta(hours=25)
        clock.advance(DAY + HOUR - 1)
        assert await h.pipeline.check("backup") is None
        clock.advance(1)
        async with TestClient(TestServer(h.parts.app, host="127.0.0.1")) as client:
            await ping(client)
        last = h.tracked("backup").last
        assert last is not None and last.duration == DAY + HOUR
    finally:
        await h.close()


async def test_the_api_shows_the_push_path_only_to_a_token_holder(
    harness: Harness, client: Client
) -> None:
    async def url(headers: dict[str, str]) -> tuple[object, object]:
        async with client.get("/api/v1/monitors", headers=headers) as resp:
            listed = (await resp.json())["monitors"][0]
        async with client.get(f"/api/v1/monitors/{listed['id']}", headers=headers) as resp:
            return listed["url"], (await resp.json())["url"]

    assert await url({}) == ("/push/***", "/push/***")
    assert await url({"Authorization": "Bearer wrong"}) == ("/push/***", "/push/***")
    holder = {"Authorization": f"Bearer {TOKEN}"}
    assert await url(holder) == (f"/push/{PUSH_TOKEN}",) * 2
    async with client.post("/v2/getMonitors", data={"api_key": TOKEN}) as resp:
        [monitor] = (await resp.json())["monitors"]
    assert (monitor["type"], monitor["url"]) == (5, f"/push/{PUSH_TOKEN}")
    async with client.post("/v2/getMonitors", data={"api_key": TOKEN, "types": "5"}) as resp:
        assert len((await resp.json())["monitors"]) == 1
    async with client.get("/metrics") as resp:
        assert PUSH_TOKEN not in await resp.text()


async def test_the_push_schema_step_keeps_the_data_of_the_version_before(tmp_path: Path) -> None:
    path = tmp_path / "probed.db"
    step = migrations.STEPS.index(push_schema.migrate)
    before = Store.open(path, migrations.STEPS[:step])
    before.sync_monitors([("backup", '["push", ""]', None)], T0)
    before.close()
    db = sqlite3.connect(path)
    rows_before = db.execute("SELECT id, name, check_key, created_at FROM monitors").fetchall()
    db.close()

    store = Store.open(path)
    try:
        assert store.schema_version() == migrations.LATEST
        [(monitor_id, *_)] = rows_before
        assert store.pushes.get(monitor_id).at is None
        store.save_push(monitor_id, PushRecord(at=T0, ok=False, reason="boom"))
    finally:
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT id, name, check_key, created_at FROM monitors").fetchall() == (
        rows_before
    )
    db.close()
    store = Store.open(path)
    assert store.pushes.get(monitor_id) == PushRecord(at=T0, ok=False, reason="boom")
    store.close()


async def test_pings_arriving_together_are_each_recorded(harness: Harness, client: Client) -> None:
    statuses = await asyncio.gather(*(ping(client) for _ in range(20)))
    assert statuses == [200] * 20
    assert harness.tracked("backup").state.status is Status.UP
    counted = {"monitor": "backup", "result": "success"}
    assert harness.metrics.registry.get_sample_value("probed_checks_total", counted) == 20


def test_probed_check_prints_each_push_path_for_the_job_to_call(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(
        '[probed]\nlisten = "127.0.0.1:9"\n[[monitor]]\nname = "backup"\ntype = "push"\n'
        f'token = "{PUSH_TOKEN}"\ninterval = "1d"\n',
        encoding="utf-8",
    )
    result = probed("check", "-c", str(path))
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("backup"))
    assert row.split() == ["backup", "push", "1d", "30s", "1", "-", f"/push/{PUSH_TOKEN}"]
    assert "push: the job calls http://127.0.0.1:9/push/<token>" in result.stdout


async def test_the_check_is_scheduled_at_the_deadline_and_moves_with_each_ping(
    tmp_path: Path,
) -> None:
    # Ahead of the real clock, so APScheduler's next run is the deadline itself, not a later
    # multiple of the interval.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(days=1))
    h = Harness.of(tmp_path / "probed.db", [push_monitor()], clock)
    scheduler = h.parts.scheduler
    scheduler.start()
    try:
        assert scheduler.next_run("backup") == clock() + timedelta(hours=25)
        clock.advance(HOUR)
        async with TestClient(TestServer(h.parts.app, host="127.0.0.1")) as client:
            await ping(client)
        assert scheduler.next_run("backup") == clock() + timedelta(hours=25)
    finally:
        await scheduler.drain(0)
        await h.close()


async def test_a_reload_with_a_new_token_keeps_the_state_and_retires_the_old_token(
    harness: Harness, client: Client
) -> None:
    await ping(client)
    new = push_monitor(token="0123456789abcdef-rotated")
    harness.parts.apply(replace(harness.config, monitors=(new,)))
    assert await ping(client) == 404
    async with client.get("/push/0123456789abcdef-rotated") as resp:
        assert resp.status == 200
    assert harness.tracked("backup").state.status is Status.UP
    assert harness.kinds("backup") == ["first_up"]
