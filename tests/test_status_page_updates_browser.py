"""An incident and its updates on the status page in a real browser (docs/design.md §18.1):
Debian's chromium driven by Playwright against a running ``probed run``, the incident opened
and updated with the CLI. Saves screenshots at phone and desktop widths to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.kit.configs import TOKEN
from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.servers import wait_for
from tests.kit.tools import require_tool, tool
from tests.test_status_page_browser import CHROMIUM_ARGS, target  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parent / "artifacts"
XSS = "<script>alert(1)</script>"
UPDATES = (
    ("identified", f"A carrier dropped our SIP trunk. Quoted from their notice: {XSS}"),
    ("monitoring", "Calls go through again on the backup trunk.\nWe are watching closely."),
)


def write_config(tmp_path: Path, port: int, public_port: int, healthy: str) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\npublic_listen = "127.0.0.1:{public_port}"\n'
        f'state_dir = "{tmp_path / "state"}"\napi_token = "{TOKEN}"\n'
        'status_page_title = "Example status"\n\n[defaults]\ninterval = "2s"\n\n'
        f'[[monitor]]\nname = "Voice API"\nurl = "{healthy}?voice"\ngroup = "Calls"\n\n'
        f'[[monitor]]\nname = "Website"\nurl = "{healthy}"\ngroup = "Frontend"\n',
        encoding="utf-8",
    )
    return path


@require_tool("chromium")
async def test_an_incident_with_its_updates_in_a_real_browser(tmp_path: Path, target: str) -> None:  # noqa: F811
    from playwright.async_api import async_playwright

    port, public_port = free_port(), free_port()
    public = f"http://127.0.0.1:{public_port}"
    config = write_config(tmp_path, port, public_port, target)
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        async with aiohttp.ClientSession() as session:

            async def all_up() -> bool:
                async with session.get(public + "/api/v1/status") as resp:
                    data = await resp.json()
                return all(m["state"] == "up" for m in data["monitors"])

            await wait_for(all_up, 15, "both monitors up")
        code, out, err = await run_cli(
            "incident", "open", "Voice calls failing", "--monitor", "Voice API",
            "--impact", "major", "-c", str(config),
            "Some calls drop after a few seconds. We are investigating.",
        )  # fmt: skip
        assert code == 0, err
        incident = out.split()[0]
        for stage, text in UPDATES:
            code, _, err = await run_cli(
                "update", incident, "--status", stage, text, "-c", str(config)
            )
            assert code == 0, err
        ARTIFACTS.mkdir(exist_ok=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=tool("chromium"), args=CHROMIUM_ARGS)
            try:
                for name, width in (("desktop", 1280), ("phone", 390)):
                    shot = ARTIFACTS / f"status-incident-updates-{name}.png"
                    await check_page(browser, public, width, shot)
            finally:
                await browser.close()
    finally:
        await daemon.stop()


async def check_page(browser, base: str, width: int, shot: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(base + "/")
    await page.wait_for_load_state("networkidle")
    incident = page.locator("article.incident")
    assert await incident.count() == 1
    banner = page.locator(".banner")
    assert await banner.inner_text() == "Partial outage"
    top, below = await incident.bounding_box(), await banner.bounding_box()
    assert top is not None and below is not None
    assert top["y"] + top["height"] <= below["y"]  # above the banner
    assert top["width"] >= below["width"] - 1  # as wide as the banner: nothing overflows
    assert await incident.locator("h2").inner_text() == "Voice calls failing\nMonitoring"
    stages = await incident.locator("li b.stage").all_inner_texts()
    assert stages == ["Monitoring", "Identified", "Investigating"]
    texts = await incident.locator("li p").all_inner_texts()
    assert texts[0] == UPDATES[1][1]  # the newline kept
    assert texts[1] == UPDATES[0][1]  # the tag shown as text, not run
    times = await incident.locator("li time").all_inner_texts()
    assert all(t.endswith(" UTC") for t in times) and times == sorted(times, reverse=True)
    voice = page.locator("section li", has_text="Voice API")
    assert await voice.locator("h3 em").inner_text() == "Partial outage"
    website = page.locator("section li", has_text="Website")
    assert await website.locator("h3 em").inner_text() == "Operational"
    await page.screenshot(path=str(shot), full_page=True)
    assert errors == [] and dialogs == []
    await context.close()
