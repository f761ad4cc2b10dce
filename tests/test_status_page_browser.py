"""The status page in a real browser: Debian's chromium driven by Playwright against a running
``probed run`` with monitors up, down and paused and days of history in its store. Saves
screenshots at phone and desktop widths to tests/artifacts/."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from probed.config import load_config
from probed.units import utcnow
from tests.kit.browser import watched_page
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN
from tests.kit.harness import Harness
from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.tools import require_tool, tool

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parent / "artifacts"
HISTORY_DAYS = 40
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Nothing but loopback is reachable here: without these Chromium keeps opening (and
    # failing) connections of its own while the test runs.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
async def target() -> AsyncIterator[str]:
    """A healthy HTTP endpoint on loopback."""

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/health"
    await runner.cleanup()


def write_config(tmp_path: Path, port: int, public_port: int, healthy: str) -> Path:
    refused = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\npublic_listen = "127.0.0.1:{public_port}"\n'
        f'state_dir = "{tmp_path / "state"}"\n'
        f'api_token = "{TOKEN}"\nstatus_page_title = "Example status"\n\n'
        '[defaults]\ninterval = "2s"\ntimeout = "1s"\ndown_after = 1\n\n'
        f'[[monitor]]\nname = "Website"\nurl = "{healthy}"\ngroup = "Frontend"\n'
        'slo = "99.9%"\n\n'
        f'[[monitor]]\nname = "Checkout API"\nurl = "{refused}"\ngroup = "Backend"\n'
        'slo = "99.5%"\n\n'
        f'[[monitor]]\nname = "Search"\nurl = "{healthy}?q=1"\ngroup = "Backend"\n'
        "paused = true\n\n"
        f'[[monitor]]\nname = "Internal admin"\nurl = "{healthy}?admin"\npublic = false\n',
        encoding="utf-8",
    )
    return path


async def seed_history(config_path: Path) -> None:
    """Days of checks every 2 hours through the real pipeline on a clock that ends now: the
    Checkout API had an outage of a few hours in most weeks, the others were up throughout."""
    config = load_config(config_path, {})
    start = utcnow() - timedelta(days=HISTORY_DAYS)
    h = Harness.of(config.settings.state_dir / "probed.db", config.monitors, FakeClock(start))
    try:
        for hour in range(0, HISTORY_DAYS * 24 - 2, 2):
            broken = hour % (24 * 7) in range(30, 30 + hour % 5)
            for name in ("Website", "Checkout API", "Search", "Internal admin"):
                ok = not (broken and name == "Checkout API")
                await h.check(name, ok=ok, duration=0.08 + (hour % 24) / 400)
            h.clock.advance(7200)
    finally:
        await h.close()


@require_tool("chromium")
async def test_the_status_page_in_a_real_browser(tmp_path: Path, target: str) -> None:
    from playwright.async_api import async_playwright

    port, public_port = free_port(), free_port()
    public = f"http://127.0.0.1:{public_port}"
    config = write_config(tmp_path, port, public_port, target)
    await seed_history(config)
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        async with aiohttp.ClientSession() as session:
            await wait_for_down(session, daemon.base)
        # Through the CLI, which reads the URL and the token from the config.
        code, out, err = await run_cli(
            "announce",
            "-c",
            str(config),
            "Checkout is failing; we are on it.",
            "--level",
            "critical",
        )
        assert code == 0, err
        assert "announcement 1 (critical) shown" in out
        code, _, _ = await run_cli("announce", "-c", str(config), "gone soon", "--for", "1s")
        assert code == 0
        await asyncio.sleep(1.1)
        async with aiohttp.ClientSession() as session:
            await only_the_public_surface(session, public)
        ARTIFACTS.mkdir(exist_ok=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=tool("chromium"), args=CHROMIUM_ARGS)
            try:
                for name, width, scheme in (
                    ("desktop", 1280, "light"),
                    ("phone", 390, "light"),
                    ("phone-dark", 390, "dark"),
                ):
                    shot = ARTIFACTS / f"status-{name}.png"
                    await check_page(browser, public, width, scheme, shot)
                await check_without_javascript(browser, public, ARTIFACTS / "status-nojs.png")
            finally:
                await browser.close()
    finally:
        await daemon.stop()


async def only_the_public_surface(session: aiohttp.ClientSession, public: str) -> None:
    """public_listen serves the page, its JSON, badges and assets, and nothing else."""
    for path in ("/", "/api/v1/status", "/badge/1/status.svg", "/static/status.css"):
        async with session.get(public + path) as resp:
            assert resp.status == 200, path
    for path in ("/metrics", "/healthz", "/api/v1/monitors", "/api/v1/announcements"):
        async with session.get(public + path) as resp:
            assert resp.status == 404, path
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with session.post(public + "/api/v1/announcements", json={}, headers=auth) as resp:
        assert resp.status in (404, 405)
    async with session.post(public + "/v2/getMonitors", data={"api_key": TOKEN}) as resp:
        assert resp.status == 404


async def wait_for_down(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(100):
        async with session.get(base + "/api/v1/status") as resp:
            data = await resp.json()
        states = {m["name"]: m["state"] for m in data["monitors"]}
        if states.get("Checkout API") == "down" and states.get("Website") == "up":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"monitors did not settle: {states}")


async def check_without_javascript(browser, base: str, shot: Path) -> None:  # type: ignore[no-untyped-def]
    """Without JavaScript the bars are the grid the HTML makes: perfect stretches as one
    band, days with downtime in their column with ratio and downtime as a title."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = await context.new_page()
    await page.goto(base + "/")
    checkout = page.locator("section li", has_text="Checkout API")
    titles = await checkout.locator(".u i[title]").evaluate_all("es => es.map(e => e.title)")
    assert titles and all(re.fullmatch(r"\d+\.\d\d% up, down .+", t) for t in titles), titles
    box = await checkout.locator(".u i[title]").first.bounding_box()
    bars = await checkout.locator(".u").bounding_box()
    assert box is not None and bars is not None
    assert 0 < box["width"] < bars["width"] / 60  # one day's column of 90
    await page.screenshot(path=str(shot), full_page=True)
    await context.close()


async def check_page(browser, base: str, width: int, scheme: str, shot: Path) -> None:  # type: ignore[no-untyped-def]
    watched = await watched_page(browser, width, color_scheme=scheme)
    context, page, errors, requests = (
        watched.context, watched.page, watched.errors, watched.requests,
    )  # fmt: skip
    await page.goto(base + "/")
    await page.wait_for_load_state("networkidle")
    assert await page.locator(".banner").inner_text() == "Partial outage"
    assert "Checkout is failing" in await page.locator(".note.critical").inner_text()
    monitors = page.locator("section li")
    assert await monitors.count() == 3  # the non-public one is not there
    for i in range(3):
        assert await monitors.nth(i).locator(".u i").count() == 90  # one per day (refresh.js)
    assert "Internal admin" not in await page.content()
    assert "gone soon" not in await page.content()  # expired
    checkout = page.locator("section li", has_text="Checkout API")
    assert await checkout.locator("h3 em").inner_text() == "Down"
    # Four outages of hours against a 99.5 % objective: the budget is overspent, and says so.
    slo = await checkout.locator(".slo").inner_text()
    assert re.search(r"overspent by \d+h \d+m \(1\d\d\.\d% of the budget\)", slo), slo
    bar = checkout.locator(".u i").nth(89 - 7)
    await bar.hover()
    title = await bar.get_attribute("title")
    assert title is not None and "% up" in title
    assert "no data" in (await checkout.locator(".u i").first.get_attribute("title") or "")
    down_day = checkout.locator(".u i.e, .u i.c, .u i.b").first
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d: \d+\.\d\d% up, down \d+[dhms].*",
        await down_day.get_attribute("title") or "",
    )
    assert await page.locator("li svg path").count() >= 2
    box = await page.locator("li svg").first.bounding_box()
    assert box is not None and box["width"] > 200
    assert "ongoing" in await page.locator("table").inner_text()
    await page.screenshot(path=str(shot), full_page=True)
    assert errors == []
    assert requests and all(u.startswith(base + "/") for u in requests), requests
    await context.close()
