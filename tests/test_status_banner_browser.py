"""The in-app banner of docs/status-page.md, as written there, on a page of another origin in
a real browser (Debian's chromium through Playwright): hidden while all is well, the incident's
title and latest update while one is open, text never markup, fetched across origins."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness, good
from tests.kit.monitors import make_monitor
from tests.kit.tools import require_tool, tool
from tests.test_status_page_browser import CHROMIUM_ARGS

DOCS = Path(__file__).parent.parent / "docs" / "status-page.md"


def snippet(base: str) -> str:
    """The banner's HTML from the docs, with the example address replaced by ``base``."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- banner-snippet -->\n```html\n(.*?)```\n<!-- /banner-snippet -->", text, re.S
    )
    assert found, "docs/status-page.md lost its banner snippet"
    code = found.group(1)
    assert len(code.splitlines()) <= 16
    return code.replace("https://status.example.com", base)


@pytest.fixture
async def probed(harnesses, tmp_path) -> AsyncIterator[tuple[Harness, str]]:
    h = harnesses(
        make_config(tmp_path, [make_monitor("Voice API"), make_monitor("Web")]), FakeClock()
    )
    for name in ("Voice API", "Web"):
        await h.feed(name, good(h.clock()))
    server = TestServer(h.parts.public_app, host="127.0.0.1")
    await server.start_server()
    yield h, str(server.make_url("")).rstrip("/")
    await server.close()


@require_tool("chromium")
async def test_the_banner_snippet_shows_an_open_incident_and_hides_when_all_is_well(probed):
    from playwright.async_api import async_playwright

    h, status = probed
    app_page = f"<!doctype html><title>App</title><h1>Our app</h1>\n{snippet(status)}"

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=app_page, content_type="text/html")

    site = web.Application()
    site.router.add_get("/", index)
    server = TestServer(site, host="127.0.0.1")  # another port: another origin
    await server.start_server()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=tool("chromium"), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                await page.goto(str(server.make_url("/")))
                banner = page.locator("#status-banner")
                await page.wait_for_function("() => document.getElementById('status-banner')")
                await page.wait_for_load_state("networkidle")
                assert await banner.is_hidden()
                book = h.parts.incidents
                row = book.open_manual(
                    "We're experiencing issues with voice calls", ["Voice API"],
                    stage="investigating", impact="major", text="Our team is investigating.",
                )  # fmt: skip
                await page.reload()
                await banner.wait_for(state="visible")
                assert await banner.text_content() == (
                    "We're experiencing issues with voice calls. Our team is investigating."
                )
                book.add_update(row.code, "resolved", "All calls go through.")
                book.open_manual(
                    "<img src=x onerror=alert(1)> & co", ["Web"], stage="identified",
                    impact="minor",
                )  # fmt: skip
                await page.reload()
                await banner.wait_for(state="visible")
                assert await banner.text_content() == "<img src=x onerror=alert(1)> & co."
                assert await page.locator("#status-banner img").count() == 0
                assert errors == []
            finally:
                await browser.close()
    finally:
        await server.close()
