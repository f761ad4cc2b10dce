"""Schema migrations on real SQLite files: a database written by probed 0.1.0 upgraded in place
with nothing lost, a newer database refused, and a failing migration leaving the file as it was.

``data/probed-0.1.0.sql`` is a database 0.1.0 wrote and ``data/probed-0.1.0-answers.json`` what
0.1.0 served from it; ``data/make_probed_010.py`` made both.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from probed.config import Config, Monitor, Settings
from probed.errors import StoreError
from probed.model import CheckResult, Status
from probed.service.build import build
from probed.service.parts import check_key
from probed.store import Store
from probed.store.migrations import LATEST, STEPS
from tests.kit.clock import FakeClock
from tests.kit.monitors import make_monitor
from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.smtp import SmtpServer

DATA = Path(__file__).parent / "data"
DUMP = (DATA / "probed-0.1.0.sql").read_text()
ANSWERS = json.loads((DATA / "probed-0.1.0-answers.json").read_text())
NOW = datetime.fromisoformat(ANSWERS["now"])


def write_010(path: Path) -> None:
    """The 0.1.0 database, as a file (raw SQL on purpose: this is 0.1.0's file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(DUMP)
    db.close()


def dump(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return "\n".join(db.iterdump()) + "\n"
    finally:
        db.close()


def monitors() -> list[tuple[str, str, int | None]]:
    return [(name, key, None) for name, key in ANSWERS["check_keys"].items()]


async def test_a_010_database_keeps_every_state_uptime_ratio_and_incident(tmp_path):
    path = tmp_path / "probed.db"
    write_010(path)
    upgrades: list[tuple[int, int]] = []
    store = Store.open(path, before_upgrade=lambda old, new: upgrades.append((old, new)))
    assert upgrades == [(1, LATEST)]
    assert store.schema_version() == LATEST and store.journal_mode() == "wal"
    store.close()
    # The copy beside it is the untouched 0.1.0 file.
    assert dump(tmp_path / "probed.db.bak-v1") == DUMP

    # probed as build() makes it, on the monitors 0.1.0 ran (their check keys unchanged).
    names = list(ANSWERS["states"])
    config = Config(
        tmp_path / "monitors.toml",
        Settings(state_dir=tmp_path),
        tuple(
            make_monitor(name, url=f"http://127.0.0.1:9/{name}", down_after=3, alert=("email",))
            for name in names
        ),
    )
    parts = build(config, FakeClock(NOW), probe=_never)
    assert {n: check_key(parts.pipeline.monitors[n].monitor) for n in names} == dict(
        ANSWERS["check_keys"]
    )
    for name, want in ANSWERS["states"].items():
        state = parts.pipeline.monitors[name].state
        got = {
            "status": int(state.status),
            "since": state.since.isoformat() if state.since else None,
            "failures": state.failures,
            "successes": state.successes,
            "outage_start": state.outage_start.isoformat() if state.outage_start else None,
            "reason": state.reason,
        }
        assert got == want, name

    async with TestClient(TestServer(parts.app, host="127.0.0.1")) as client:
        resp = await client.get("/api/v1/monitors")
        served = await resp.json()
    await parts.aclose()
    # Means are now summed in whole milliseconds, not float seconds: equal to the last bits.
    means = [m.pop("avg_response_seconds_24h") for m in served["monitors"]]
    # 0.1.0 had no incident records: the one key added since is compared on its own.
    opened = {m["name"]: m.pop("incident") for m in served["monitors"]}
    assert opened == {
        "up": None,
        "paused": None,
        "down": {"id": "INC-2026-002", "acknowledged_by": None},
    }
    expected = json.loads(json.dumps(ANSWERS["api_v1_monitors"]))
    assert means == pytest.approx([m.pop("avg_response_seconds_24h") for m in expected["monitors"]])
    assert served == expected
    # Not a vacuous comparison: the answers hold an incident, a pause and a current outage.
    views = {m["name"]: m for m in served["monitors"]}
    assert [i["end"] is not None for i in views["up"]["incidents"]] == [True]
    assert views["down"]["incidents"][0]["end"] is None
    assert views["paused"]["state"] == "paused" and 0 < views["up"]["uptime"]["1d"] < 1


async def _never(monitor: Monitor, now: datetime) -> CheckResult:
    raise AssertionError("nothing is checked here")


async def test_probed_run_upgrades_a_010_database_and_sends_its_pending_alert_exactly_once(
    tmp_path,
):
    state_dir = tmp_path / "state"
    write_010(state_dir / "probed.db")
    smtp = SmtpServer()
    await smtp.start()
    port = free_port()
    config = tmp_path / "monitors.toml"
    # The URLs (so the check keys) are 0.1.0's: the monitors keep their state. Nothing listens
    # on port 9, so a check that runs anyway keeps "down" down.
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{state_dir}"\n'
        'shutdown_grace = "3s"\nalert_max_age = "3650d"\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        'from = "probed <probed@example.test>"\nto = ["oncall@example.test"]\ntimeout = "2s"\n'
        + "".join(
            f'[[monitor]]\nname = "{name}"\nurl = "http://127.0.0.1:9/{name}"\n'
            'interval = "1h"\nalert = ["email"]\n'
            for name in ("paused", "down")
        )
    )
    try:
        daemon = DaemonProcess(config, port)
        await daemon.start()
        try:
            [mail] = await smtp.wait_for(1, 10)
            async with (
                aiohttp.ClientSession() as session,
                session.get(daemon.base + "/api/v1/monitors") as resp,
            ):
                views = {m["name"]: m for m in (await resp.json())["monitors"]}
        finally:
            assert await daemon.stop() == 0
        assert mail.subject == "[probed] DOWN: down"
        assert mail.message_id == ANSWERS["pending_alert"]["message_id"]
        served = {m["name"]: m for m in ANSWERS["api_v1_monitors"]["monitors"]}
        for name in ("paused", "down"):
            assert views[name]["state"] == served[name]["state"]
            assert views[name]["since"] == served[name]["since"]
        assert views["down"]["incidents"][0]["start"] == served["down"]["incidents"][0]["start"]
        assert dump(state_dir / "probed.db.bak-v1") == DUMP

        # A second start finds nothing left to send.
        daemon = DaemonProcess(config, port)
        await daemon.start()
        await asyncio.sleep(1.5)
        assert await daemon.stop() == 0
        assert len(smtp.inbox) == 1
    finally:
        await smtp.stop()
    store = Store.open(state_dir / "probed.db")
    assert [(r.monitor, r.status) for r in store.outbox.rows("pending")] == []
    assert store.monitors.active() == {"up": False, "paused": True, "down": True}
    store.close()


def set_version(path: Path, version: int) -> None:
    """Plays a newer probed, which would have stamped its own version on the file."""
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version}")
    db.close()


def test_a_database_from_a_newer_probed_is_refused_naming_both_versions(tmp_path):
    path = tmp_path / "probed.db"
    Store.open(path).close()
    set_version(path, LATEST + 3)
    with pytest.raises(StoreError) as refused:
        Store.open(path)
    assert str(refused.value) == (
        f"state database {path} is schema version {LATEST + 3}, newer than this probed"
        f" (version {LATEST}) understands: upgrade probed or restore probed.db.bak-v{LATEST}"
    )


async def test_probed_run_exits_2_on_a_database_from_a_newer_probed(tmp_path):
    state_dir = tmp_path / "state"
    Store.open(state_dir / "probed.db").close()
    set_version(state_dir / "probed.db", LATEST + 1)
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{free_port()}"\nstate_dir = "{state_dir}"\n'
        '[[monitor]]\nname = "a"\nurl = "http://127.0.0.1:9/"\n'
    )
    code, out, err = await run_cli("run", "-c", str(config))
    assert code == 2
    assert f"is schema version {LATEST + 1}, newer than this probed (version {LATEST})" in (
        out + err
    )


def test_a_failing_migration_step_leaves_the_database_at_its_old_version(tmp_path):
    path = tmp_path / "probed.db"
    write_010(path)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    # The real steps succeed, then the broken last one fails: all are undone.
    with pytest.raises(StoreError, match=f"from schema version 1 to {LATEST + 1}: disk I/O error"):
        Store.open(path, steps=(*STEPS, broken))
    assert dump(path) == DUMP
    assert dump(tmp_path / "probed.db.bak-v1") == DUMP
    store = Store.open(path)
    assert store.schema_version() == LATEST
    assert store.last_check(3) is not None
    store.close()


def test_a_new_database_starts_at_the_latest_version_without_a_copy(tmp_path):
    store = Store.open(tmp_path / "probed.db")
    assert store.schema_version() == LATEST
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == []


def test_reopening_an_upgraded_database_migrates_nothing(tmp_path):
    path = tmp_path / "probed.db"
    write_010(path)
    Store.open(path).close()
    (tmp_path / "probed.db.bak-v1").unlink()
    store = Store.open(path)
    rows = store.sync_monitors(monitors(), NOW)
    assert rows["down"].state.status is Status.DOWN
    store.close()
    assert not (tmp_path / "probed.db.bak-v1").exists()


def test_a_010_database_the_daemon_never_ran_on_is_upgraded_too(tmp_path):
    # 0.1.0 created the history, pause and outbox tables only in the daemon; `probed check`
    # left a file with the store's three tables.
    path = tmp_path / "probed.db"
    write_010(path)
    db = sqlite3.connect(path)
    for table in ("hourly", "runs", "history_meta", "pause_overrides", "outbox", "alert_certs"):
        db.execute(f"DROP TABLE {table}")
    db.close()
    store = Store.open(path)
    assert store.schema_version() == LATEST
    rows = store.sync_monitors(monitors(), NOW)
    assert rows["down"].state.status is Status.DOWN
    assert store.outbox.rows() == [] and store.runs.all() == []
    store.close()


async def test_probed_run_on_a_damaged_database_exits_2_with_advice_and_no_traceback(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "probed.db").write_bytes(b"not a database at all" * 200)
    config = tmp_path / "monitors.toml"
    config.write_text(f'[probed]\nstate_dir = "{state}"\n')
    code, _, err = await run_cli("run", "-c", str(config))
    assert code == 2
    assert "is damaged" in err and "move it aside" in err and "Traceback" not in err


def test_the_announcements_step_keeps_existing_data_and_adds_the_table(tmp_path):
    from probed.store import announcements_schema

    path = tmp_path / "probed.db"
    before = STEPS[: STEPS.index(announcements_schema.migrate)]
    write_010(path)
    Store.open(path, steps=before).close()
    earlier = dump(path)
    store = Store.open(path)
    assert store.schema_version() == LATEST
    rows = store.sync_monitors(monitors(), NOW)
    assert rows["down"].state.status is Status.DOWN
    with store.transaction():
        new = store.announcements.add("maintenance tonight", "info", 1, None)
    assert [a.id for a in store.announcements.current(2)] == [new]
    store.close()
    assert dump(tmp_path / f"probed.db.bak-v{len(before)}") == earlier
