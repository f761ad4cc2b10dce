"""The guarded listener: stalled and idle clients cannot starve probed of file descriptors."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from aiohttp import web

from probed.service.listener import ConnectionGuard, listen
from tests.kit.figures import report
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import Target, serve


async def stall(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` connections that each send half a request line and then nothing."""
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HT")
        writers.append(writer)
    # The guard may already have evicted the first ones for the later ones: a reset is theirs.
    await asyncio.gather(*(w.drain() for w in writers), return_exceptions=True)
    return writers


async def closed_by_server(writer: asyncio.StreamWriter) -> bool:
    reader = writer.transport.get_protocol()._stream_reader  # type: ignore[attr-defined]
    try:
        return await asyncio.wait_for(reader.read(), 0.1) == b""
    except (TimeoutError, ConnectionError):
        return False


async def healthz_seconds(session: aiohttp.ClientSession, base: str) -> float:
    started = time.monotonic()
    async with session.get(base + "/healthz", timeout=aiohttp.ClientTimeout(total=5)) as resp:
        assert resp.status == 200
    return time.monotonic() - started


async def test_stalled_connections_are_evicted_for_new_ones_and_time_out(unused_tcp_port):
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    guard = ConnectionGuard(limit=8, header_timeout=0.5)
    app = web.Application(middlewares=[guard.middleware])
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    server = await listen(runner, guard, "127.0.0.1", unused_tcp_port)
    try:
        stalled = await stall(unused_tcp_port, 20)
        async with aiohttp.ClientSession() as session:
            assert await healthz_seconds(session, f"http://127.0.0.1:{unused_tcp_port}") < 1
        # 20 stalls + 1 real client through 8 slots: the oldest stalls made room.
        assert guard.evicted >= 12 and guard.refused == 0
        await asyncio.sleep(0.7)  # past the header timeout: the rest are closed too
        closed = [await closed_by_server(w) for w in stalled]
        assert all(closed), closed.count(False)
        for w in stalled:
            w.close()
    finally:
        server.close()
        await runner.cleanup()


@pytest.mark.slow
async def test_a_thousand_stalled_sockets_cause_no_false_alert_and_healthz_keeps_answering(
    tmp_path, request
):
    async with serve(Target()) as target:
        port = free_port()
        config = tmp_path / "monitors.toml"
        config.write_text(
            f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
            f'[[monitor]]\nname = "healthy"\nurl = "{target.url("/status/200")}"\n'
            'interval = "1s"\ntimeout = "1s"\ndown_after = 1\n'
        )
        daemon = DaemonProcess(config, port, open_files=1024)
        await daemon.start()
        try:
            stalled = await stall(port, 1100)  # more than the daemon's descriptors
            slowest = 0.0
            async with aiohttp.ClientSession() as session:
                for _ in range(25):  # 5 s of polling while the stalls hold
                    slowest = max(slowest, await healthz_seconds(session, daemon.base))
                    await asyncio.sleep(0.2)
            for w in stalled:
                w.close()
            text = await daemon.metrics()
        finally:
            assert await daemon.stop() == 0
    logs = [json.loads(line) for line in daemon.logs().splitlines() if line.startswith("{")]
    failed = [e for e in logs if e.get("event") == "check" and not e.get("ok")]
    transitions = [e["new"] for e in logs if e.get("event") == "transition"]
    assert failed == [] and transitions == ["up"], (failed[:3], transitions)
    assert 'probed_checks_total{monitor="healthy",result="success"}' in text
    assert "Too many open files" not in daemon.logs()
    assert slowest < 1.0
    report(
        request,
        "1,100 stalled half-open connections against a daemon limited to 1,024 descriptors",
        [f"failed checks 0, transitions {transitions}, slowest /healthz {slowest * 1000:.0f} ms"],
    )
