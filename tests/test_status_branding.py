"""[status_page] on the real app: title, logo, accent, footer links, which monitors in which
order, the timezone of times, /embed and who may frame it, the compact layout past 20
monitors, and the young monitor's SLO line and one-point chart (docs/design.md §18.5)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from probed.config import Config, ConfigError, load_config
from tests.kit.harness import Harness, api_client

Client = TestClient[web.Request, web.Application]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def write(tmp_path: Path, monitors: str, status_page: str) -> Config:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nstate_dir = "{tmp_path / "state"}"\nstatus_page_title = "Old title"\n\n'
        f"{monitors}\n[status_page]\n{status_page}",
        encoding="utf-8",
    )
    return load_config(path, {})


def monitor(name: str, group: str = "", extra: str = "") -> str:
    grouped = f'group = "{group}"\n' if group else ""
    return f'[[monitor]]\nname = "{name}"\nurl = "https://{name.lower()}.test/"\n{grouped}{extra}\n'


@pytest.fixture
async def branded(tmp_path: Path) -> AsyncIterator[tuple[Harness, Client]]:
    (tmp_path / "logo.png").write_bytes(PNG)
    config = write(
        tmp_path,
        monitor("Web", "Front <end>")
        + monitor("API", "Back")
        + monitor("Hidden", "Back")
        + monitor("Admin", "Back", "public = false\n"),
        'title = "Acme <status>"\nlogo = "logo.png"\naccent = "#c0ffee"\n'
        'footer_links = [{ title = "Terms & more", url = "https://acme.test/terms" }]\n'
        'monitors = ["API", "Web"]\ntimezone = "Europe/Berlin"\n'
        'embed_origins = ["https://www.acme.test", "https://*.acme.test:8443"]\n',
    )
    harness = Harness(config)
    async for client in api_client(harness):
        yield harness, client
    await harness.close()


async def test_the_title_logo_accent_and_footer_come_from_the_table(branded):
    _, client = branded
    html = await (await client.get("/")).text()
    assert "<h1>Acme &lt;status&gt;</h1>" in html and "Old title" not in html
    logo = re.search(r'<img class=logo src="(/static/logo\.png\?v=\w+)"', html)
    theme = re.search(r'<link rel="stylesheet" href="(/static/theme\.css\?v=\w+)">', html)
    assert logo and theme, html[:1500]
    resp = await client.get(logo[1])
    assert resp.status == 200 and resp.content_type == "image/png"
    assert await resp.read() == PNG
    resp = await client.get(theme[1])
    assert resp.content_type == "text/css" and "--accent:#c0ffee" in await resp.text()
    assert '<a href="https://acme.test/terms" rel="noopener">Terms &amp; more</a>' in html
    assert (await (await client.get("/api/v1/status")).json())["title"] == "Acme <status>"


async def test_only_the_listed_monitors_are_shown_in_their_order(branded):
    harness, client = branded
    for name in ("Web", "API", "Hidden", "Admin"):
        await harness.check(name)
    html = await (await client.get("/")).text()
    assert html.index("API") < html.index("Web") and "Hidden" not in html
    data = await (await client.get("/api/v1/status")).json()
    assert [m["name"] for m in data["monitors"]] == ["API", "Web"]
    hidden = harness.tracked("Hidden").id
    assert (await client.get(f"/badge/{hidden}/status.svg")).status == 404
    shown = harness.tracked("API").id
    assert (await client.get(f"/badge/{shown}/status.svg")).status == 200


async def test_times_on_the_page_are_in_its_timezone(branded):
    harness, client = branded
    await harness.check("API")
    await harness.go_down("API")
    html = await (await client.get("/")).text()
    # The outage began 2 s before the fake clock's 12:00 UTC on 1 March: 12:59 in Berlin (CET).
    assert "<th>Start (Europe/Berlin)</th>" in html
    assert "<tr><td>API<td>2026-03-01 12:59<td>" in html
    assert re.search(
        r"Updated <time datetime=\"2026-03-01T12:0[^\"]*\">2026-03-01 13:0\d:\d\d CET", html
    )


async def test_embed_is_framable_by_the_listed_origins_only(branded):
    harness, client = branded
    await harness.check("Web")
    await harness.go_down("API")
    resp = await client.get("/embed")
    assert resp.status == 200
    policy = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors https://www.acme.test https://*.acme.test:8443" in policy
    assert "default-src 'none'" in policy
    html = await resp.text()
    lines = re.findall(r'<li><span>(.*?)</span> <em class="(\w+)">(.*?)</em>', html)
    assert lines == [
        ("Back", "major_outage", "Major outage"),
        ("Front &lt;end&gt;", "operational", "Operational"),
    ]
    assert '<div class="banner partial_outage" role="status">Partial outage</div>' in html
    page = await client.get("/")
    assert page.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")


async def test_without_embed_origins_no_one_may_frame_embed(tmp_path):
    harness = Harness(write(tmp_path, monitor("Web"), 'title = "T"\n'))
    try:
        async for client in api_client(harness):
            resp = await client.get("/embed")
            assert resp.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
            assert "<span>Other</span>" in await resp.text()
    finally:
        await harness.close()


@pytest.mark.parametrize(
    ("count", "layout", "compact"),
    [
        (20, "", False),
        (21, "", True),
        (21, 'layout = "cards"\n', False),
        (2, 'layout = "compact"\n', True),
    ],
)
async def test_the_layout_is_compact_past_20_monitors_unless_set(tmp_path, count, layout, compact):
    monitors = "".join(monitor(f"M{i}", f"G{i % 3}") for i in range(count))
    harness = Harness(write(tmp_path, monitors, layout))
    try:
        async for client in api_client(harness):
            html = await (await client.get("/")).text()
    finally:
        await harness.close()
    assert (f'class="{"compact" if compact else "cards"}"') in html
    rows = re.findall(r"<li id=m\d+>(<details><summary><h3>)?", html)
    assert len(rows) == count
    assert all(bool(r) == compact for r in rows)
    # Groups are collapsible (open at first) in the compact layout only.
    assert html.count("<details class=g open>") == (min(count, 3) if compact else 0)


async def test_a_young_monitor_shows_the_30_day_budget_not_zero_left(tmp_path):
    harness = Harness(write(tmp_path, monitor("API", extra='slo = "99.9%"\n'), ""))
    try:
        await harness.check("API", duration=0.2)
        harness.clock.advance(600)
        async for client in api_client(harness):
            html = await (await client.get("/")).text()
    finally:
        await harness.close()
    line = re.search(r"<p class=slo>(.*?)</p>", html)
    assert line is not None
    # 99.9 % of 30 days is 43m 12s; 10 minutes monitored would allow 0.6 s.
    assert (
        line[1] == "SLO 99.9%: too young to judge (monitored 10m); error budget 43m 12s per 30 days"
    )
    # One response time so far: drawn as a dot, not an empty chart.
    assert re.search(r'<path class=p d="M[\d.]+ \d+h0"/>', html), html


def test_a_logo_over_the_size_bound_is_a_config_error(tmp_path):
    (tmp_path / "big.webp").write_bytes(b"\0" * (256 * 1024 + 1))
    with pytest.raises(ConfigError) as caught:
        write(tmp_path, monitor("Web"), 'logo = "big.webp"\n')
    assert caught.value.problems == [
        f'{tmp_path / "monitors.toml"}: [status_page] logo: "{tmp_path / "big.webp"}" is'
        " 262,145 bytes; at most 262,144"
    ]


async def test_a_reload_rebrands_the_page_at_once(tmp_path):
    harness = Harness(write(tmp_path, monitor("Web") + monitor("API"), 'accent = "#111"\n'))
    try:
        async for client in api_client(harness):
            before = await (await client.get("/")).text()
            harness.parts.apply(
                write(
                    tmp_path,
                    monitor("Web") + monitor("API"),
                    'accent = "#222"\nmonitors = ["API"]\n',
                )
            )
            after = await (await client.get("/")).text()
            theme = re.search(r'href="(/static/theme\.css\?v=\w+)"', after)
            assert theme and theme[1] not in before  # a new URL: no stale cached style
            assert "--accent:#222" in await (await client.get(theme[1])).text()
            assert "Web" in before and "Web" not in after
    finally:
        await harness.close()
