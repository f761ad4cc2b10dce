"""Subscriptions in tests (docs/design.md §18.4): a harness whose public listener runs on the
port its ``external_url`` names, so the mailed links can be followed as a person follows them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from tests.kit.clock import FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.processes import free_port
from tests.kit.smtp import Received, SmtpServer

START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/subscribe/confirm\?\S+")


class Site:
    """A harness whose public listener runs on the port ``external_url`` names."""

    def __init__(self, h: Harness, server: TestServer, base: str) -> None:
        self.h, self.server, self.base = h, server, base

    async def deliver(self) -> None:
        await self.h.dispatcher.run_once()


async def open_site(
    harnesses: Any, tmp_path: Path, smtp: SmtpServer, clock: FakeClock, **kw: Any
) -> Site:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monitors = [make_monitor("Voice API"), make_monitor("Internal", public=False)]
    config = make_config(tmp_path, monitors, email_channel(smtp.port), external_url=base)
    config = replace(config, **kw)
    h = harnesses(config, clock)
    server = TestServer(h.parts.public_app, host="127.0.0.1", port=port)
    await server.start_server()
    return Site(h, server, base)


async def subscribe(http: aiohttp.ClientSession, site: Site, address: str) -> tuple[int, str]:
    async with http.post(site.base + "/subscribe", data={"email": address}) as resp:
        return resp.status, await resp.text()


def confirm_link(mail: Received) -> str:
    found = LINK.search(mail.part("plain"))
    assert found, mail.part("plain")
    return found.group(0)
