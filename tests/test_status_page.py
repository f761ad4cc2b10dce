"""The public status page, its JSON and badges, rendered by the real app from a probed built
with ``build()`` on a fake clock: escaping, hidden monitors, banner, bars, SLO, badges."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from probed.model import Status
from probed.status.banner import Overall, overall
from tests.kit.configs import TOKEN
from tests.kit.harness import Harness, api_client
from tests.kit.monitors import make_monitor

Client = TestClient[web.Request, web.Application]
XSS = "<script>alert(1)</script>"


class Page(HTMLParser):
    """The parts of the page the tests read: text, bars per monitor (as refresh.js makes them),
    scripts, svgs."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.bars: dict[str, list[str]] = {}
        self.scripts = 0
        self.svgs = 0
        self._monitor: str | None = None
        self._first = date.min
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "main" and a.get("data-first"):
            self._first = date.fromisoformat(a["data-first"] or "")
        if tag == "li" and (a.get("id") or "").startswith("m"):
            self._monitor = (a.get("id") or "")[1:]
            self.bars[self._monitor] = [
                f"{self._first + timedelta(days=i)}: 100% up, no downtime" for i in range(90)
            ]
        if tag == "i" and self._monitor is not None:
            # A day with downtime in its grid column, or a run of days without data ("n1 w30"),
            # as refresh.js reads them; every other day was perfect.
            placed = re.fullmatch(r"([bcen])(\d+)(?: w(\d+))?", a.get("class") or "")
            assert placed, a
            start = int(placed[2]) - 1
            for day in range(start, start + int(placed[3] or 1)):
                tail = "no data" if placed[1] == "n" else a.get("title")
                self.bars[self._monitor][day] = f"{self._first + timedelta(days=day)}: {tail}"
        if tag == "script":
            self.scripts += 1
            self._in_script = True
        if tag == "svg":
            self.svgs += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script and data.strip():
            self.text.append(data.strip())

    @property
    def all_text(self) -> str:
        return " ".join(self.text).replace("\u00a0", " ")


@pytest.fixture
async def harness(make_harness):
    return make_harness(
        [
            make_monitor(XSS, group="Front <b>end</b>", slo=0.999, down_after=2),
            make_monitor("api", group="Backend", slow_threshold=0.5, down_after=2),
            make_monitor("secret-admin", public=False, down_after=2),
        ],
    )


async def page(client: Client) -> tuple[str, Page]:
    resp = await client.get("/")
    assert resp.status == 200
    html = await resp.text()
    return html, Page(html)


async def test_a_monitor_named_like_a_script_tag_is_shown_as_text(harness, client):
    await harness.check(XSS)
    html, parsed = await page(client)
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert XSS in parsed.all_text
    assert "Front <b>end</b>" in parsed.all_text
    assert parsed.scripts == 1  # the page's own refresh script, nothing injected


async def test_the_page_forbids_anything_from_elsewhere_and_inline(client):
    resp = await client.get("/")
    csp = dict(d.strip().split(" ", 1) for d in resp.headers["Content-Security-Policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == csp["style-src"] == csp["img-src"] == "'self'"
    html = await resp.text()
    assert "http://" not in html and "https://" not in html  # no URLs shown by default
    assert "<style" not in html and "style=" not in html and "<script>" not in html
    # What the page links to is served, with its type.
    kinds = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml"}
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert sorted(p.rsplit(".", 1)[1] for p in linked) == sorted(kinds)
    for path in linked:
        asset = await client.get(path)
        assert (asset.status, asset.content_type) == (200, kinds[path.rsplit(".", 1)[1]])
    for outside in ("/static/..%2F__init__.py", "/static/missing.css", "/static/api.py"):
        assert (await client.get(outside)).status == 404


async def test_a_hidden_monitor_is_absent_from_the_page_json_and_badges(harness, client):
    await harness.check("secret-admin")
    hidden = harness.tracked("secret-admin").id
    html, _ = await page(client)
    assert "secret-admin" not in html
    body = await (await client.get("/api/v1/status")).text()
    assert "secret-admin" not in body
    for badge in ("status.svg", "uptime.svg", "response.svg"):
        assert (await client.get(f"/badge/{hidden}/{badge}")).status == 404
    public_app = harness.parts.public_app
    async with TestClient(web_server(public_app)) as public:
        assert "secret-admin" not in await (await public.get("/")).text()
        assert "secret-admin" not in await (await public.get("/api/v1/status")).text()
        assert (await public.get(f"/badge/{hidden}/status.svg")).status == 404


def web_server(app: web.Application) -> TestServer:
    return TestServer(app, host="127.0.0.1")


async def test_a_monitor_younger_than_90_days_has_90_bars_with_no_data_before_it(harness, client):
    # Checked every hour for three days, one of them with a 2-hour outage.
    for hour in range(72):
        ok = not 30 <= hour < 32
        await harness.check("api", ok=ok)
        await harness.check("api", ok=ok)  # down_after = 2
        harness.clock.advance(3600)
    _, parsed = await page(client)
    bars = parsed.bars[str(harness.tracked("api").id)]
    assert len(bars) == 90
    assert all(t.endswith(": no data") for t in bars[:86])
    outage_day = (harness.clock() - timedelta(hours=72 - 30)).date().isoformat()
    shown = next(t for t in bars if t.startswith(outage_day))
    assert "up, down 2h" in shown
    assert "100% up, no downtime" in bars[-2]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([(Status.UP, False), (Status.UP, False)], Overall.OPERATIONAL),
        ([(Status.UP, False), (Status.PENDING, False)], Overall.OPERATIONAL),
        ([], Overall.OPERATIONAL),
        ([(Status.UP, True), (Status.UP, False)], Overall.DEGRADED),
        ([(Status.SEEMS_DOWN, False), (Status.UP, False)], Overall.DEGRADED),
        ([(Status.PAUSED, False), (Status.UP, False)], Overall.MAINTENANCE),
        ([(Status.PAUSED, False), (Status.UP, True)], Overall.DEGRADED),
        ([(Status.DOWN, False), (Status.UP, False)], Overall.PARTIAL_OUTAGE),
        ([(Status.DOWN, False), (Status.PAUSED, False)], Overall.MAJOR_OUTAGE),
        ([(Status.DOWN, False), (Status.DOWN, False)], Overall.MAJOR_OUTAGE),
        ([(Status.DOWN, False), (Status.SEEMS_DOWN, False)], Overall.PARTIAL_OUTAGE),
    ],
)
def test_the_banner_for_each_mix_of_states(states, expected):
    assert overall(states) is expected


async def test_the_banner_on_the_page_follows_the_monitors(harness, client):
    await harness.check(XSS)
    await harness.check("api")
    assert "All systems operational" in (await page(client))[1].all_text
    for _ in range(3):
        await harness.check("api", duration=0.9)  # slow_threshold 0.5
    text = (await page(client))[1].all_text
    assert "Degraded performance" in text and "Degraded" in text
    await harness.check("api", ok=False)
    await harness.check("api", ok=False)
    text = (await page(client))[1].all_text
    assert "Partial outage" in text
    assert "ongoing" in text  # the incident, listed first
    await harness.check(XSS, ok=False)
    await harness.check(XSS, ok=False)
    assert "Major outage" in (await page(client))[1].all_text


async def test_the_status_json_matches_the_page(harness, client):
    await harness.check(XSS)
    await harness.check("api", ok=False)
    await harness.check("api", ok=False)
    harness.clock.advance(600)
    _, parsed = await page(client)
    data = await (await client.get("/api/v1/status")).json()
    assert data["overall"] == {"status": "partial_outage", "text": "Partial outage"}
    assert data["overall"]["text"] in parsed.all_text
    for m in data["monitors"]:
        titles = parsed.bars[str(m["id"])]
        assert len(m["days"]) == len(titles) == 90
        for day, title in zip(m["days"], titles, strict=True):
            assert title.startswith(day["date"])
        assert m["state_text"] in parsed.all_text
    assert [m["name"] for m in data["monitors"]] == [XSS, "api"]
    assert data["incidents"][0]["monitor"] == "api" and data["incidents"][0]["end"] is None


async def test_the_slo_budget_is_shown_with_minutes_and_percent_left(harness, client):
    # 99.9 % of 10 h monitored allows 36 s down; 12 s down leaves 24 s, two thirds.
    await harness.check(XSS)
    harness.clock.advance(5 * 3600)
    await harness.check(XSS, ok=False)
    harness.clock.advance(12)
    await harness.check(XSS, ok=False)
    await harness.check(XSS)
    harness.clock.advance(5 * 3600 - 12)
    data = await (await client.get("/api/v1/status")).json()
    slo = data["monitors"][0]["slo"]
    assert slo["objective"] == 0.999
    assert slo["error_budget_remaining_seconds"] == pytest.approx(24.0)
    assert slo["error_budget_remaining_ratio"] == pytest.approx(2 / 3)
    assert "error budget left 24s (66.6%)" in (await page(client))[1].all_text
    harness.parts.housekeeping.refresh_uptime()
    metric = harness.metrics.registry.get_sample_value(
        "probed_slo_error_budget_remaining_ratio", {"monitor": XSS}
    )
    assert metric == pytest.approx(2 / 3)
    # Only monitors with an slo have the series.
    assert (
        harness.metrics.registry.get_sample_value(
            "probed_slo_error_budget_remaining_ratio", {"monitor": "api"}
        )
        is None
    )


async def test_badges_are_svg_for_public_monitors(harness, client):
    await harness.check("api", duration=0.2)
    harness.clock.advance(60)
    api = harness.tracked("api").id
    for path, text in (
        (f"/badge/{api}/status.svg", "operational"),
        (f"/badge/{api}/uptime.svg?window=30d", "100%"),
        (f"/badge/{api}/uptime.svg?window=7d", "uptime 7d"),
        (f"/badge/{api}/response.svg", "200 ms"),
    ):
        resp = await client.get(path)
        assert resp.status == 200, path
        assert resp.content_type == "image/svg+xml"
        assert "max-age=" in resp.headers["Cache-Control"]
        root = ET.fromstring(await resp.text())
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert text in "".join(root.itertext())
    assert (await client.get(f"/badge/{api}/uptime.svg?window=1y")).status == 400
    assert (await client.get("/badge/999/status.svg")).status == 404


async def test_announcements_need_the_token_show_on_the_page_and_expire(harness, client):
    body = {"message": "Investigating <slow> logins", "level": "warning", "for": "1h"}
    assert (await client.post("/api/v1/announcements", json=body)).status == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await client.post("/api/v1/announcements", json=body, headers=auth)
    assert resp.status == 201
    first = (await resp.json())["id"]
    forever = {"message": "Planned work on Sunday", "level": "info"}
    second = (
        await (await client.post("/api/v1/announcements", json=forever, headers=auth)).json()
    )["id"]
    text = (await page(client))[1].all_text
    assert "Investigating <slow> logins" in text and "Planned work on Sunday" in text
    data = await (await client.get("/api/v1/status")).json()
    assert [a["id"] for a in data["announcements"]] == [second, first]
    harness.clock.advance(3601)
    data = await (await client.get("/api/v1/status")).json()
    assert [a["id"] for a in data["announcements"]] == [second]
    assert (await client.delete(f"/api/v1/announcements/{second}")).status == 401
    assert (await client.delete(f"/api/v1/announcements/{second}", headers=auth)).status == 200
    assert (await client.delete(f"/api/v1/announcements/{second}", headers=auth)).status == 404
    assert "Planned work" not in (await page(client))[1].all_text
    bad = await client.post(
        "/api/v1/announcements", json={"message": "x", "level": "loud"}, headers=auth
    )
    assert bad.status == 400
    assert "level" in (await bad.json())["error"]


async def test_the_page_is_reused_while_nothing_changes_and_redone_when_something_does(
    harness, client
):
    await harness.check("api")

    async def updated() -> str:
        return (await (await client.get("/api/v1/status")).json())["updated"]

    first = await updated()
    harness.clock.advance(10)
    assert await updated() == first  # the same report, within 15 s and no change
    gz = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    await harness.check("api", ok=False)  # a state change shows at once
    changed = await updated()
    assert changed != first
    harness.clock.advance(16)
    assert await updated() != changed  # and nothing is older than 15 s


async def test_announcements_survive_a_restart(tmp_path):
    h = Harness.of(tmp_path / "probed.db", [make_monitor("api", down_after=2)])
    async for client in api_client(h):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        body = {"message": "Maintenance tonight", "for": "1d"}
        assert (await client.post("/api/v1/announcements", json=body, headers=auth)).status == 201
    await h.close()
    h = Harness.of(tmp_path / "probed.db", [make_monitor("api", down_after=2)], h.clock)
    try:
        async for client in api_client(h):
            data = await (await client.get("/api/v1/status")).json()
            assert [a["message"] for a in data["announcements"]] == ["Maintenance tonight"]
    finally:
        await h.close()
