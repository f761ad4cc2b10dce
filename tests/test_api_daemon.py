"""End to end: ``probed run`` serves the API, applies a maintenance window and an operator's
timed pause, answers UptimeRobot clients and records its run in the history."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from probed.store import Store
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import wait_for
from tests.test_daemon_e2e import write_config

pytestmark = pytest.mark.slow
TOKEN = "e2e-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def monitors(session: aiohttp.ClientSession, base: str) -> dict[str, dict[str, object]]:
    async with session.get(base + "/api/v1/monitors") as resp:
        assert resp.status == 200
        return {m["name"]: m for m in (await resp.json())["monitors"]}


async def test_the_daemon_serves_the_api_maintenance_windows_and_timed_pauses(tmp_path, switchable):
    port = free_port()
    now = datetime.now(UTC)
    # Long enough for a daemon start on a loaded machine: the window must still be open then.
    end = (now + timedelta(seconds=10)).isoformat(timespec="seconds")
    config = write_config(
        tmp_path,
        port,
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\ninterval = "1s"\nid = 11\n\n'
        f'[[monitor]]\nname = "db"\nurl = "{switchable.url}"\ninterval = "1s"\nid = 12\n\n'
        f'[[maintenance]]\nname = "migration"\nmonitors = ["db"]\n'
        f'start = "{(now - timedelta(minutes=1)).isoformat()}"\nend = "{end}"\n',
    )
    config.write_text(
        config.read_text().replace("[probed]\n", f'[probed]\napi_token = "{TOKEN}"\n')
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    base = daemon.base
    try:
        async with aiohttp.ClientSession() as session:
            listed = await monitors(session, base)
            assert listed["db"]["state"] == "paused"
            assert listed["db"]["reason"] == 'maintenance window "migration"'

            async def state(name: str, wanted: str) -> bool:
                return (await monitors(session, base))[name]["state"] == wanted

            await wait_for(lambda: state("api", "up"), 10, "api up")
            await wait_for(lambda: state("db", "up"), 25, "db checked after the window")

            async with session.post(
                base + "/api/v1/monitors/11/pause", headers=AUTH, json={"for": "2s"}
            ) as resp:
                assert resp.status == 200 and (await resp.json())["state"] == "paused"
            await wait_for(lambda: state("api", "up"), 10, "api resumed after 2s")

            form = {"api_key": TOKEN, "format": "json", "custom_uptime_ratios": "1"}
            async with session.post(base + "/v2/getMonitors", data=form) as resp:
                body = await resp.json()
            assert body["stat"] == "ok"
            assert [m["id"] for m in body["monitors"]] == [11, 12]

        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "probed", "status", "--url", base,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate()
        assert proc.returncode == 0 and out.decode().splitlines()[1].split()[:2] == ["api", "up"]
    finally:
        assert await daemon.stop() == 0
    store = Store.open(tmp_path / "state" / "probed.db")
    kinds = [t.kind.value for t in reversed(store.transitions(12))]
    assert kinds == ["paused", "resumed", "first_up"]
    [(_, _, _, stopped)] = store.runs.all()
    assert stopped is not None  # a clean stop closes the run
    store.close()
