"""The compact layout and /embed in a real browser (Debian's chromium driven by Playwright):
500 monitors in 10 groups with weeks of history, served by the real app on loopback; no
horizontal overflow on a phone, a page far shorter than the cards', details and groups that
open and close without JavaScript, and /embed framed by an allowed origin only. Saves
tests/artifacts/status-compact-{phone,desktop,dark}.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from probed.config import load_config
from tests.kit.clock import T0, FakeClock
from tests.kit.harness import Harness
from tests.kit.processes import free_port
from tests.kit.tools import require_tool, tool
from tests.test_status_page_browser import ARTIFACTS, CHROMIUM_ARGS

pytestmark = pytest.mark.slow
MONITORS = 500
GROUPS = 10
LONG = "Payments API, EU west primary cluster (card authorisation and 3-D Secure)"
DAYS = 30


def name(i: int) -> str:
    return LONG if i == 7 else f"Service {i:03d}"


def config_text(tmp_path: Path, framer: int) -> str:
    lines = [
        f'[probed]\nstate_dir = "{tmp_path / "state"}"\n',
        '[defaults]\ninterval = "1h"\ndown_after = 1\n',
    ]
    for i in range(MONITORS):
        slo = 'slo = "99.9%"\n' if i % 5 == 0 else ""
        lines.append(
            f'[[monitor]]\nname = "{name(i)}"\nurl = "https://s{i}.test/"\n'
            f'group = "Region {i % GROUPS}"\n{slo}'
        )
    lines.append(
        '[status_page]\ntitle = "Acme status"\naccent = "#8250df"\n'
        f'embed_origins = ["http://127.0.0.1:{framer}"]\n'
        'footer_links = [{ title = "Acme", url = "https://acme.test/" }]\n'
    )
    return "\n".join(lines)


async def serve(app: web.Application) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def framing_app(target: str) -> web.Application:
    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text=f'<!doctype html><iframe src="{target}/embed" width=400 height=300></iframe>',
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_get("/", index)
    return app


async def seeded(tmp_path: Path, framer: int) -> Harness:
    """A check a day for ``DAYS`` days through the real pipeline: every 13th monitor had a
    day-long outage now and then, and monitor 3 is down now."""
    path = tmp_path / "monitors.toml"
    path.write_text(config_text(tmp_path, framer), encoding="utf-8")
    config = load_config(path, {})
    harness = Harness(config, FakeClock(T0 - timedelta(days=DAYS)))
    start = harness.clock.t
    for day in range(DAYS):
        for i in range(MONITORS):
            broken = i % 13 == 0 and day % 11 == 5
            await harness.check(name(i), ok=not broken, duration=0.05 + (i % 7) / 50)
        harness.clock.advance(86400)
    await harness.check(name(3), ok=False)
    assert harness.clock.t - start >= timedelta(days=DAYS)
    return harness


@require_tool("chromium")
async def test_500_monitors_are_one_short_row_each_and_embed_frames_where_allowed(
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright

    framer_port = free_port()
    harness = await seeded(tmp_path, framer_port)
    try:
        async for server in serve(harness.parts.app):
            base = str(server.make_url("")).rstrip("/")
            framer = web.AppRunner(framing_app(base))
            await framer.setup()
            await web.TCPSite(framer, "127.0.0.1", framer_port).start()
            stranger = web.AppRunner(framing_app(base))
            await stranger.setup()
            site = web.TCPSite(stranger, "127.0.0.1", 0)
            await site.start()
            stranger_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                async with async_playwright() as pw:
                    browser = await pw.chromium.launch(
                        executable_path=tool("chromium"), args=CHROMIUM_ARGS
                    )
                    try:
                        await check_phone(browser, base, "light", "status-compact-phone.png")
                        await check_phone(browser, base, "dark", "status-compact-dark.png")
                        await check_desktop(browser, base)
                        await check_embed(browser, f"http://127.0.0.1:{framer_port}/", stranger_url)
                    finally:
                        await browser.close()
            finally:
                await framer.cleanup()
                await stranger.cleanup()
    finally:
        await harness.close()


async def check_phone(browser, base: str, scheme: str, shot: str) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme=scheme, device_scale_factor=2
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(base + "/")
    assert await page.locator("main.compact").count() == 1
    assert await page.locator("section li").count() == MONITORS
    assert await page.locator("section li .u").first.locator("i").count() == 90
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width} px wide"
    height = await page.evaluate("document.documentElement.scrollHeight")
    # Cards were ~200 px each (100,000 px for 500); a row is two short lines.
    assert height < 40_000, height
    rows = await page.evaluate(
        "[...document.querySelectorAll('section')].reduce((s, e) => s + e.offsetHeight, 0)"
    )
    assert rows < 30_000, rows
    row = page.locator("section li", has_text=LONG)
    box = await row.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    assert not await row.locator(".slo, svg, dl").first.is_visible()
    await row.locator("summary").click()
    assert await row.locator("dl").is_visible()
    assert await page.locator("li details[open]").count() == 1
    down = page.locator("section li", has_text="Service 003")
    assert await down.locator("h3 em").inner_text() == "Down"
    await page.screenshot(path=str(ARTIFACTS / shot))
    # A group folds away in one tap, and opens again.
    group = page.locator("details.g").nth(1)
    await group.locator("summary").first.click()
    assert not await group.locator("li").first.is_visible()
    after = await page.evaluate("document.documentElement.scrollHeight")
    assert after < height - 1000
    assert errors == []
    await context.close()


async def check_desktop(browser, base: str) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    await page.goto(base + "/")
    row = page.locator("section li").nth(10)
    name_box = await row.locator("h3").bounding_box()
    bars_box = await row.locator(".u").bounding_box()
    assert name_box and bars_box
    # One line per monitor: the bars beside the name, not under it.
    assert abs(name_box["y"] - bars_box["y"]) < 12 and bars_box["x"] > name_box["x"] + 200
    assert bars_box["height"] < 24
    await row.locator("summary").click()
    assert await row.locator("svg path").count() == 1
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height < 25_000, height
    await page.screenshot(path=str(ARTIFACTS / "status-compact-desktop.png"))
    await context.close()


async def check_embed(browser, allowed: str, stranger: str) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 600, "height": 400})
    page = await context.new_page()
    await page.goto(allowed)
    frame = page.frame_locator("iframe")
    assert await frame.locator(".banner").inner_text() == "Partial outage"
    assert await frame.locator(".groups li").count() == GROUPS
    await page.screenshot(path=str(ARTIFACTS / "status-embed.png"))
    await page.goto(stranger)
    await page.wait_for_timeout(500)
    framed = [f for f in page.frames if f != page.main_frame]
    assert framed and await framed[0].locator(".banner").count() == 0
    await context.close()
