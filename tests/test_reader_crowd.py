"""A crowd of keep-alive page readers costs readers at most: a cron job's push pings are all
accepted, the status page answers and /healthz on ``listen`` is unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from probed.service.listener import ConnectionGuard, listen
from tests.kit.crowd import cron_pings, push_job_config, readers, slowest_get
from tests.kit.figures import report
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.tools import require_tool

TOKEN = "crowd-job-token-0123456789"


@pytest.mark.slow
@require_tool("curl")
async def test_pings_are_accepted_while_readers_and_the_favicon_attack_hold_every_slot(
    tmp_path, request
):
    port, public = free_port(), free_port()
    config = push_job_config(tmp_path, port, public, TOKEN)
    daemon = DaemonProcess(config, port, open_files=1024)
    await daemon.start()
    try:
        until = time.monotonic() + 12
        # The attack: 256 connections from one address, a favicon each every 10 s;
        # and 300 ordinary readers of the page from the pinging job's own address.
        attack = readers(public, 256, 10, until, "/static/favicon.svg", source="127.0.0.2")
        crowd = readers(public, 300, 3, until, "/")
        await asyncio.sleep(3)  # every slot taken before the first ping
        pings, page, healthz, *_ = await asyncio.gather(
            cron_pings(f"http://127.0.0.1:{public}/push/{TOKEN}", until),
            slowest_get(f"http://127.0.0.1:{public}/", until),
            slowest_get(f"{daemon.base}/healthz", until, every=0.2),
            attack,
            crowd,
        )
        status = await daemon.metric("probed_monitor_status", "job")
    finally:
        assert await daemon.stop() == 0
    assert len(pings.codes) >= 8 and pings.accepted == len(pings.codes), pings.codes
    assert page[1] == 0 and page[0] < 2.0, page
    assert healthz[1] == 0 and healthz[0] < 1.0, healthz
    assert status == 2  # UP
    report(
        request,
        "256 favicon connections from 127.0.0.2 and 300 page readers on public_listen",
        [
            f"pings accepted {pings.accepted}/{len(pings.codes)}, slowest page "
            f"{page[0] * 1000:.0f} ms, slowest /healthz on listen {healthz[0] * 1000:.0f} ms",
        ],
    )


@contextlib.asynccontextmanager
async def serving(limit: int, **bounds: int) -> AsyncIterator[tuple[ConnectionGuard, int]]:
    """A guarded app on loopback whose /slow answers after a second and /push/x at once."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="slow")

    async def push(request: web.Request) -> web.Response:
        return web.Response(text="OK")

    guard = ConnectionGuard(limit=limit, header_timeout=5, **bounds)
    app = web.Application(middlewares=[guard.middleware])
    app.router.add_get("/slow", slow)
    app.router.add_get("/push/x", push)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    server = await listen(runner, guard, "127.0.0.1", port)
    try:
        yield guard, port
    finally:
        server.close()
        await runner.cleanup()


async def answer_of(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, bool]:
    """The status of one GET of ``path`` and whether the server then closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
        try:
            await asyncio.wait_for(reader.read(), 0.5)  # to the end: the server closed it
            closed = True
        except TimeoutError:
            closed = False
    finally:
        writer.close()
    return (int(line.split()[1]) if line else 0), closed


async def test_with_every_slot_serving_a_request_a_ping_takes_the_reserve_and_a_reader_gets_503():
    async with serving(limit=4, reserve=2) as (_, port):
        busy = [asyncio.create_task(answer_of(port, "/slow")) for _ in range(4)]
        await asyncio.sleep(0.2)
        # Reserved connections answer and close, so the reserve is free for the next ping.
        assert await answer_of(port, "/push/x") == (200, True)
        assert await answer_of(port, "/slow") == (503, True)
        assert [status for status, _ in await asyncio.gather(*busy)] == [200] * 4


async def test_a_client_at_its_share_evicts_its_own_idlest_connection_not_anothers():
    async with serving(limit=8, per_client=3) as (guard, port):
        other = [
            await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
            for _ in range(2)
        ]
        mine = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await asyncio.sleep(0.1)
        assert (await answer_of(port, "/push/x"))[0] == 200  # the 4th of 127.0.0.1's
        assert guard.evicted == 1
        assert await mine[0][0].read() == b""  # its idlest (the oldest) was closed
        for reader, _ in other:  # 127.0.0.2's were left alone
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(), 0.2)
        for _, writer in other + mine:
            writer.close()
