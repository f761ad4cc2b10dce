"""Subscribing in a real browser (Debian's chromium, Playwright): a person types an address
into the page's form, gets "Check your inbox", opens the mailed link, presses Confirm, and is
subscribed; no console errors, nothing fetched from elsewhere, the form fits a phone. Saves
screenshots of the form (phone and desktop, light and dark) to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.kit.browser import watched_page
from tests.kit.smtp import SmtpServer
from tests.kit.subscribers import Site, confirm_link
from tests.kit.tools import require_tool, tool
from tests.test_status_page_browser import ARTIFACTS, CHROMIUM_ARGS

pytestmark = pytest.mark.slow


@require_tool("chromium")
async def test_a_person_subscribes_and_confirms_in_a_browser(site: Site, smtp: SmtpServer):
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=tool("chromium"), args=CHROMIUM_ARGS)
        try:
            for name, width, scheme in (
                ("desktop", 1280, "light"),
                ("phone", 390, "light"),
                ("phone-dark", 390, "dark"),
            ):
                await subscribe_as_a_person(browser, site, smtp, name, width, scheme)
        finally:
            await browser.close()


async def subscribe_as_a_person(  # type: ignore[no-untyped-def]
    browser, site: Site, smtp: SmtpServer, name: str, width: int, scheme: str
) -> None:
    watched = await watched_page(browser, width, color_scheme=scheme)
    context, page, errors, requests = (
        watched.context, watched.page, watched.errors, watched.requests,
    )  # fmt: skip
    await page.goto(site.base + "/")
    form = page.locator("form.subscribe")
    box = await form.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width
    await form.screenshot(path=str(ARTIFACTS / f"subscribe-{name}.png"))
    address = f"{name}@example.test"
    await page.fill("#subscribe-email", address)
    await page.click("form.subscribe button")
    assert "Check your inbox" in await page.locator("main").inner_text()
    await site.deliver()
    await page.goto(confirm_link(smtp.inbox[-1]))
    assert site.h.store.subscribers.get(address).state == "pending"  # the GET changed nothing
    await page.screenshot(path=str(ARTIFACTS / f"subscribe-confirm-{name}.png"))
    await page.click("main form button")
    assert "Subscribed" in await page.locator("h1").inner_text()
    assert site.h.store.subscribers.get(address).state == "confirmed"
    assert errors == []
    assert all(u.startswith(site.base + "/") for u in requests), requests
    await context.close()
