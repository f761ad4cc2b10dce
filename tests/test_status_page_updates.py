"""Incident updates on the public page and in /api/v1/status (docs/design.md §18.1), rendered by
the real app from a probed built with ``build()`` on a fake clock: updates newest first, an
ongoing incident above the banner, manual impact marks that never touch measured state,
hidden monitors' incidents hidden, texts escaped, evidence never shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from probed.evidence import Evidence
from probed.status.banner import Overall
from probed.status.posted import banner
from probed.status.report import PostedIncident
from tests.kit.clock import FakeClock
from tests.kit.harness import failed, good
from tests.kit.monitors import make_monitor

XSS = "<script>alert(1)</script>"
LEAK = "leaked-stack-frame-7f3a"


class Articles(HTMLParser):
    """Each incident article's text pieces, and the order of articles and the banner."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.articles: list[list[str]] = []
        self.order: list[str] = []
        self.stages: list[list[str]] = []
        self._in = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "article":
            self._in += 1
            self.articles.append([])
            self.stages.append([])
            self.order.append("incident")
        if tag == "div" and "banner" in classes:
            self.order.append("banner")
        if tag == "b" and "stage" in classes and self._in:
            self.stages[-1].append(classes[-1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._in -= 1

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.articles[-1].append(data.strip())


@pytest.fixture
async def harness(make_harness):
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    h = make_harness(
        [
            make_monitor("Voice API", down_after=2),
            make_monitor("Web", down_after=2),
            make_monitor("Internal", public=False, down_after=2),
        ],
        clock,
    )
    for name in ("Voice API", "Web", "Internal"):
        await h.feed(name, good(clock()))
    return h


async def outage_with_evidence(h, name: str) -> str:
    evidence = Evidence(url="http://127.0.0.1:1/", status_line="HTTP/1.1 500 Oops", body=LEAK)
    for _ in range(2):
        await h.feed(name, replace(failed(h.clock()), evidence=evidence))
        h.clock.advance(30)
    return h.store.incidents.find(open=True, monitor_id=h.tracked(name).id)[0][0].code


async def test_an_ongoing_incident_with_three_updates_sits_above_the_banner(harness, client):
    book, clock = harness.parts.incidents, harness.clock
    row = book.open_manual(
        "Voice calls failing", ["Voice API", "Internal"], impact="major", text="Calls drop."
    )
    clock.advance(600)
    book.add_update(row.code, "identified", f"A carrier dropped our trunk. {XSS}\nSecond line")
    clock.advance(600)
    book.add_update(row.code, "monitoring", "Calls go through again; watching.")
    clock.advance(60)
    html = await (await client.get("/")).text()
    page = Articles(html)
    assert page.order[:2] == ["incident", "banner"]
    (article,) = page.articles
    assert article[:3] == [
        "Voice calls failing",
        "Monitoring",
        "Voice API · since 2026-05-04 10:00 UTC",
    ]
    assert page.stages == [["monitoring", "identified", "investigating"]]  # newest first
    assert article[3:] == [
        "Monitoring", "2026-05-04 10:20 UTC", "Calls go through again; watching.",
        "Identified", "2026-05-04 10:10 UTC", f"A carrier dropped our trunk. {XSS}\nSecond line",
        "Investigating", "2026-05-04 10:00 UTC", "Calls drop.",
    ]  # fmt: skip
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Internal" not in html  # a hidden monitor is not named
    # The mark: shown, never measured.
    assert "<em class=partial>Partial outage</em>" in html
    assert '<div class="banner partial_outage" role="status">Partial outage</div>' in html
    status = await (await client.get("/api/v1/status")).json()
    voice = next(m for m in status["monitors"] if m["name"] == "Voice API")
    assert (voice["state"], voice["state_text"], voice["impact"]) == (
        "up",
        "Partial outage",
        "major",
    )
    assert voice["uptime"]["1d"] == 1.0 and harness.tracked("Voice API").state.status.label == "up"
    assert status["overall"] == {"status": "partial_outage", "text": "Partial outage"}
    (told,) = status["incident_updates"]
    assert (told["title"], told["stage"], told["open"], told["monitors"]) == (
        "Voice calls failing", "monitoring", True, ["Voice API"],
    )  # fmt: skip
    assert [u["stage"] for u in told["updates"]] == ["monitoring", "identified", "investigating"]
    assert "by" not in told["updates"][0] and "id" not in told

    # Resolved: it moves below, the monitor shows what is measured again, and the page says so
    # at once (the cache keys on updates).
    book.add_update(row.code, "resolved", "Fixed by the carrier.")
    html = await (await client.get("/")).text()
    page = Articles(html)
    assert page.order == ["banner", "incident"]
    assert "All systems operational" in html and "Partial outage" not in html
    assert page.articles[0][:2] == ["Voice calls failing", "Resolved"]


async def test_automatic_incidents_with_updates_show_without_evidence(harness, client):
    code = await outage_with_evidence(harness, "Web")
    harness.parts.incidents.add_update(code, "identified", "A bad deploy; rolling back.")
    hidden = await outage_with_evidence(harness, "Internal")
    harness.parts.incidents.add_update(hidden, "identified", "Internal only words")
    harness.parts.incidents.open_manual("Admin slow", ["Internal"], text="Internal too")
    await outage_with_evidence(harness, "Voice API")  # no updates: only in the table
    html = await (await client.get("/")).text()
    page = Articles(html)
    assert page.order[:2] == ["incident", "banner"]
    assert [a[:2] for a in page.articles] == [["Web down", "Identified"]]
    body = await (await client.get("/api/v1/status")).text()
    for text in (html, body):
        assert LEAK not in text and "HTTP/1.1 500 Oops" not in text  # evidence: never
        assert "Internal" not in text and "Admin slow" not in text
    harness.clock.advance(60)
    await harness.feed("Web", good(harness.clock()))
    page = Articles(await (await client.get("/")).text())
    assert page.order == ["banner", "incident"]  # over: with the past ones
    assert page.articles[0][:3] == [
        "Web down",
        "Identified",
        "Web · 2026-05-04 10:00 UTC to 2026-05-04 10:04 UTC",
    ]


async def test_a_minor_manual_incident_marks_degraded_and_the_worse_measured_state_wins(
    harness, client
):
    book = harness.parts.incidents
    book.open_manual("Slow logins", ["Web", "Voice API"], impact="minor")
    await outage_with_evidence(harness, "Voice API")
    status = await (await client.get("/api/v1/status")).json()
    shown = {m["name"]: (m["state"], m["state_text"]) for m in status["monitors"]}
    assert shown == {"Voice API": ("down", "Down"), "Web": ("up", "Degraded")}
    assert status["overall"]["status"] == "partial_outage"  # measured, and worse


@pytest.mark.parametrize(
    ("measured", "impacts", "shown"),
    [
        (Overall.OPERATIONAL, [("minor", True)], Overall.DEGRADED),
        (Overall.OPERATIONAL, [("minor", True), ("major", True)], Overall.PARTIAL_OUTAGE),
        (Overall.OPERATIONAL, [("major", False)], Overall.OPERATIONAL),  # resolved
        (Overall.MAINTENANCE, [("minor", True)], Overall.DEGRADED),
        (Overall.MAJOR_OUTAGE, [("major", True)], Overall.MAJOR_OUTAGE),
    ],
)
def test_the_banner_is_the_worse_of_measured_and_said(measured, impacts, shown):
    at = datetime(2026, 5, 4, tzinfo=UTC)
    posted = [
        PostedIncident("t", "investigating", is_open, True, impact, (), at, None, [])
        for impact, is_open in impacts
    ]
    assert banner(measured, posted) is shown


async def test_a_manual_incident_naming_no_monitor_shows_and_sets_the_banner(harness, client):
    harness.parts.incidents.open_manual("Payments delayed", [], impact="minor", text="Slow.")
    status = await (await client.get("/api/v1/status")).json()
    (told,) = status["incident_updates"]
    assert (told["title"], told["monitors"], told["impact"]) == ("Payments delayed", [], "minor")
    assert status["overall"]["status"] == "degraded"
    assert all(m["state_text"] == "Operational" for m in status["monitors"])
    page = Articles(await (await client.get("/")).text())
    assert page.order[:2] == ["incident", "banner"]
    assert page.articles[0][2] == "since 2026-05-04 10:00 UTC"
