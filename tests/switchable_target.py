"""A switchable HTTP target and polling helper shared by the end-to-end daemon tests."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


class Target:
    """An HTTP target whose answer the test switches."""

    def __init__(self) -> None:
        self.status = 200
        self.hang = False
        self.hits = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.hang:
            await asyncio.sleep(3600)
        return web.Response(status=self.status, text="status: success")


@pytest.fixture
async def target():
    t = Target()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", t.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    t.url = str(server.make_url("/health"))  # type: ignore[attr-defined]
    yield t
    await server.close()


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
