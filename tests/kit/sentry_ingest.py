"""A local stand-in for Sentry's ingest: an aiohttp server on 127.0.0.1 that takes the SDK's
envelopes (``POST /api/<project>/envelope/``, gzip or plain) and keeps each item it was sent."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.kit.tools import REQUIRE_ALL

PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
PROJECT = 42


def require_sentry_sdk() -> None:
    """Skip without sentry-sdk (probed's ``sentry`` extra), or fail under
    PROBED_TESTS_REQUIRE_ALL=1, as .ci/run installs it."""
    try:
        import sentry_sdk  # noqa: F401
    except ImportError:
        if os.environ.get(REQUIRE_ALL):
            pytest.fail("needs sentry-sdk (pip install -e '.[sentry]')")
        pytest.skip("needs sentry-sdk (pip install -e '.[sentry]')")


@dataclass
class Ingest:
    """What the SDK sent: every envelope item as (type, payload), in arrival order."""

    dsn: str = ""
    items: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [payload for kind, payload in self.items if kind == "event"]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        # aiohttp undoes a Content-Encoding it knows (gzip) on its own; brotli it does not.
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        pos = _line_end(body, 0) + 1  # past the envelope's header
        while pos < len(body):
            end = _line_end(body, pos)
            header, pos = body[pos:end], end + 1
            if not header.strip():
                continue
            item = json.loads(header)
            # A payload of stated length may hold line breaks; else it ends at one.
            end = pos + item["length"] if "length" in item else _line_end(body, pos)
            payload, pos = body[pos:end], end + 1
            try:
                self.items.append((item.get("type", ""), json.loads(payload)))
            except ValueError:
                self.items.append((item.get("type", ""), payload))
        return web.json_response({})


def _line_end(body: bytes, start: int) -> int:
    end = body.find(b"\n", start)
    return len(body) if end < 0 else end


@asynccontextmanager
async def serve_ingest() -> AsyncIterator[Ingest]:
    ingest = Ingest()
    app = web.Application()
    app.router.add_post(f"/api/{PROJECT}/envelope/", ingest.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    ingest.dsn = f"http://{PUBLIC_KEY}@127.0.0.1:{server.port}/{PROJECT}"
    try:
        yield ingest
    finally:
        await server.close()
