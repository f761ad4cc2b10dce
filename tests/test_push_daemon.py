"""End to end: a real ``probed run`` receives pings from ``curl`` subprocesses, as cron jobs
send them, misses a deadline, survives a restart with its last ping and an open run, and never
writes a push token to its log or its metrics."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import wait_for
from tests.kit.tools import require_tool, tool
from tests.test_daemon_e2e import write_config

pytestmark = [pytest.mark.slow, require_tool("curl")]
PUSH_TOKEN = "e2e-push-0123456789abcdef"
API_TOKEN = "e2e-api-token"


async def curl(url: str, *args: str) -> tuple[int, str]:
    """``curl -fsS -m 10 --retry 3 URL``, the line the README gives for a cron job."""
    proc = await asyncio.create_subprocess_exec(
        tool("curl"), "-fsS", "-m", "10", "--retry", "3", *args, url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


async def monitor(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(base + "/api/v1/monitors") as r:
        [found] = (await r.json())["monitors"]
        return dict(found)


async def raw_request(port: int, head: bytes) -> bytes:
    """A request as bytes, malformed ones too (aiohttp logs those with the request line)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_pings_from_curl_a_missed_deadline_and_a_restart(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        f'[[monitor]]\nname = "backup"\ntype = "push"\ntoken = "{PUSH_TOKEN}"\n'
        'interval = "3s"\ngrace = "2s"\n',
    )
    config.write_text(
        config.read_text().replace("[probed]\n", f'[probed]\napi_token = "{API_TOKEN}"\n')
    )
    # Debug logging: aiohttp's own records (malformed requests quote their request line) too.
    daemon = DaemonProcess(config, port, env={"PROBED_LOG_LEVEL": "debug"})
    push = f"{daemon.base}/push/{PUSH_TOKEN}"
    await daemon.start()
    try:
        assert await curl(push) == (0, "OK")
        assert (await monitor(daemon.base))["state"] == "up"
        # A run reported as it goes: start, 1.5 s of work, then the ping.
        assert await curl(push + "/start") == (0, "OK")
        await asyncio.sleep(1.5)
        assert await curl(push, "-X", "POST") == (0, "OK")
        assert (await monitor(daemon.base))["last_check"]["duration_seconds"] >= 1.5
        # A failure report counts now, with its message.
        assert await curl(push + "/fail?msg=exit%20code%202") == (0, "OK")
        seen = await monitor(daemon.base)
        assert (seen["state"], seen["reason"]) == ("down", "exit code 2")
        code, said = await curl(f"{daemon.base}/push/e2e-push-wrong-token-00")
        assert code == 22 and "404" in said  # curl -f: an HTTP error is exit 22
        # Up again, then silence: down once 3 s + 2 s have passed without a ping.
        assert await curl(push) == (0, "OK")
        pinged = time.monotonic()

        async def down() -> dict[str, Any] | None:
            seen = await monitor(daemon.base)
            return seen if seen["state"] == "down" else None

        seen = await wait_for(down, 10, "the missed deadline")
        assert time.monotonic() - pinged >= 5
        assert seen["reason"].endswith("(expected every 3s, grace 2s)")
        assert seen["reason"].startswith("no ping for 5s") or seen["reason"].startswith(
            "no ping for 6s"
        )

        # Ping twice (up since the first), open a run, restart: the deadline still counts
        # from the second ping, and the run's start is still open.
        assert await curl(push) == (0, "OK")
        await asyncio.sleep(2)
        assert await curl(push) == (0, "OK")
        second = time.monotonic()
        assert await curl(push + "/start") == (0, "OK")
        started = time.monotonic()
        assert await daemon.stop() == 0
        await daemon.start()
        # 3.5 s after the first ping of this up-period its state is still up: had the
        # restart lost the second ping, the deadline would have been 5 s after the first.
        while time.monotonic() - second < 4.0:
            assert (await monitor(daemon.base))["state"] == "up"
            await asyncio.sleep(0.2)
        assert await curl(push) == (0, "OK")
        ran = time.monotonic() - started
        seen = await monitor(daemon.base)
        assert seen["state"] == "up"
        assert ran - 0.5 <= seen["last_check"]["duration_seconds"] <= ran + 0.5

        # What could print a token: a malformed request on its path, metrics, the API.
        await raw_request(port, f"GET /push/{PUSH_TOKEN} HTTP/1.1\r\nBad Header\r\n\r\n".encode())
        await raw_request(port, f"GET /push/{PUSH_TOKEN}\x01 HTTP/1.1\r\n\r\n".encode())
        assert PUSH_TOKEN not in await daemon.metrics()
        assert seen["url"] == "/push/***"
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                daemon.base + "/api/v1/monitors",
                headers={"Authorization": f"Bearer {API_TOKEN}"},
            ) as resp,
        ):
            assert (await resp.json())["monitors"][0]["url"] == f"/push/{PUSH_TOKEN}"
    finally:
        await daemon.stop()
    logs = daemon.logs()
    assert PUSH_TOKEN not in logs
    # The log did see the requests: it is not silent, only redacted.
    events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(e.get("reason") == "exit code 2" for e in events)
    assert "/push/***" in logs, "the malformed requests were logged, their token hidden"
