"""The HTML part of a DOWN email in a real browser (Debian's chromium through Playwright), as a
phone and a desktop show it: nothing wider than the phone, the buttons visible and pointing at
the incident's links, the body as text. Saves tests/artifacts/alert-down-{phone,desktop}.png."""

from __future__ import annotations

from pathlib import Path

from probed.alerts.email import EmailNotifier
from probed.alerts.messages import render
from probed.model import AlertKind
from tests.kit.clock import T0
from tests.kit.configs import email_channel
from tests.kit.incident_payloads import ACK, INCIDENT, RUNBOOK, down
from tests.kit.smtp import SmtpServer
from tests.kit.tools import require_tool, tool
from tests.test_status_page_browser import ARTIFACTS, CHROMIUM_ARGS


@require_tool("chromium")
async def test_the_down_email_reads_on_a_phone_and_a_desktop(smtp: SmtpServer) -> None:
    from playwright.async_api import async_playwright

    message = render(AlertKind.DOWN, [down()], "<alert-14-ab@example.test>", T0)
    await EmailNotifier(email_channel(smtp.port)).send(message)
    (mail,) = smtp.inbox
    html = mail.part("html")  # as it arrived, after MIME encoding and decoding
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=tool("chromium"), args=CHROMIUM_ARGS)
        try:
            for name, width in (("phone", 390), ("desktop", 1280)):
                await look(browser, html, width, ARTIFACTS / f"alert-down-{name}.png")
        finally:
            await browser.close()


async def look(browser, html: str, width: int, shot: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    await page.set_content(html)
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    ack = page.get_by_role("link", name="Acknowledge")
    assert await ack.is_visible()
    assert await ack.get_attribute("href") == ACK
    assert await page.get_by_role("link", name="Runbook").get_attribute("href") == RUNBOOK
    band = await page.locator("body > div > div > div").first.inner_text()
    assert f"DOWN · {INCIDENT}" in band and "API" in band
    assert "HTTP/1.1 503 Service Unavailable" in await page.inner_text("body")
    box = await page.locator("pre").first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width
    # The whole card stays within 600 px on a desktop, centred.
    card = await page.locator("body > div").bounding_box()
    assert card is not None and card["width"] <= 600
    await page.screenshot(path=str(shot), full_page=True)
    assert requests == []  # no remote images or fonts: nothing loads from anywhere
    await context.close()
