"""What an incident adds to alert messages (docs/design.md §4.2, §17): the ID in subjects, the
evidence and the links in the text and HTML parts, bounded bodies, escaping, digests; and a
payload without an incident (an old outbox row, a test alert) rendered as before."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

from probed.alerts.messages import render, subject
from probed.alerts.payload import Payload
from probed.evidence import Certificate, Evidence
from probed.model import AlertKind
from tests.kit.clock import T0
from tests.kit.incident_payloads import ACK, BODY, INCIDENT, RUNBOOK, down, evidence


def test_subjects_carry_the_incident_id_when_the_payload_has_one():
    p = down()
    assert subject(AlertKind.DOWN, [p]) == f"[probed] DOWN: API ({INCIDENT})"
    later = replace(p, outage_seconds=750)
    assert subject(AlertKind.UP, [later]) == f"[probed] UP: API ({INCIDENT}, down 12m 30s)"
    still = subject(AlertKind.REMINDER, [replace(p, outage_seconds=3900)])
    assert still == f"[probed] STILL DOWN: API ({INCIDENT}, down 1h 5m)"


def test_an_incident_id_cannot_break_the_subject_line():
    p = down(incident="INC-2026-014\r\nBcc: evil@example.test")
    assert "\r" not in subject(AlertKind.DOWN, [p]) and "\n" not in subject(AlertKind.DOWN, [p])


def test_the_down_text_has_reason_status_line_address_timings_last_good_body_and_links():
    text = render(AlertKind.DOWN, [down()], "<a-1@x>", T0).text
    assert f"Incident:      {INCIDENT}" in text
    assert "Reason:        HTTP 503, expected 2xx" in text
    assert "Status line:   HTTP/1.1 503 Service Unavailable" in text
    assert "Address:       127.0.0.1:8443" in text
    assert "Timings:       dns 1.2 ms · connect 2.1 ms · tls 18.3 ms · first byte 41.8 ms" in text
    assert "Last good:     11:58:30 UTC, HTTP 200 in 84 ms" in text
    assert '\n    {\n      "error": "upstream_unavailable",\n' in text
    assert f"Acknowledge:   {ACK}" in text
    assert f"Runbook:       {RUNBOOK}" in text
    assert f"Incident page: https://probed.example.test/api/v1/incidents/{INCIDENT}" in text


def body_block(text: str) -> list[str]:
    """The lines of the text part's preformatted body block."""
    block = text.split("Response body:\n", 1)[1].split("\n\n", 1)[0]
    return block.splitlines()


def test_the_body_shows_at_most_20_lines_and_says_when_it_was_cut():
    lines = body_block(render(AlertKind.DOWN, [down()], "<a@x>", T0).text)
    assert len(BODY.splitlines()) > 20
    assert lines[:-1] == ["    " + line for line in BODY.splitlines()[:20]]
    assert lines[-1] == "    (truncated)"
    short = '{"error": "unavailable"}'
    lines = body_block(render(AlertKind.DOWN, [down(evidence=evidence(short))], "<a@x>", T0).text)
    assert lines == ["    " + short]


def test_the_body_shows_at_most_2_kib_and_never_half_a_character():
    long = "é" * 3000  # 6,000 bytes on one line
    text = render(AlertKind.DOWN, [down(evidence=evidence(long))], "<a@x>", T0).text
    (shown, cut) = body_block(text)
    assert cut == "    (truncated)"
    assert set(shown.strip()) == {"é"} and len(shown.strip().encode()) == 2048


def test_a_body_the_evidence_had_already_cut_says_truncated():
    ev = evidence('{"ok": false}', body_truncated=True, body_bytes=4096)
    assert body_block(render(AlertKind.DOWN, [down(evidence=ev)], "<a@x>", T0).text)[-1] == (
        "    (truncated)"
    )


def test_other_kinds_of_evidence_show_their_error_facts_and_certificate():
    ev = Evidence(
        url="tcp://db.example.test:5432",
        error="ECONNREFUSED: Connection refused",
        facts=(("DNS answer", "192.0.2.7"),),
        certificate=Certificate("CN=db", "CN=Example CA", ("db.example.test",), T0),
    )
    text = render(AlertKind.DOWN, [down(evidence=ev)], "<a@x>", T0).text
    assert "Error:         ECONNREFUSED: Connection refused" in text
    assert "DNS answer:    192.0.2.7" in text
    assert "Certificate:   CN=db (issuer CN=Example CA, expires 2026-03-01)" in text
    assert "Response body" not in text


class Texts(HTMLParser):
    """The document's elements and text, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.pre: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_pre = self._in_pre or tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self._in_pre = self._in_pre and tag != "pre"

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.pre.append(data)


def test_a_body_that_closes_the_pre_and_opens_a_script_stays_text():
    hostile = "</pre><script>alert(document.cookie)</script><pre>"
    ev = evidence(hostile, headers=(("X-Evil", "<img src=x onerror=alert(1)>"),))
    message = render(AlertKind.DOWN, [down("<b>API</b>", evidence=ev)], "<a@x>", T0)
    parsed = Texts()
    parsed.feed(message.html)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert parsed.tags.count("pre") == 2  # the body's and the headers', none from the target
    assert hostile in "".join(parsed.pre)
    assert "&lt;/pre&gt;&lt;script&gt;" in message.html


def test_the_html_has_the_state_colour_the_evidence_and_the_three_buttons():
    html = render(AlertKind.DOWN, [down()], "<a@x>", T0).html
    assert "background:#b42318" in html  # red band
    assert f"DOWN · {INCIDENT}" in html
    hrefs = re.findall(r"<a href='([^']*)'[^>]*>([^<]*)</a>", html)
    ack = ACK.replace("&", "&amp;")
    incident_url = f"https://probed.example.test/api/v1/incidents/{INCIDENT}"
    assert hrefs == [(ack, "Acknowledge"), (RUNBOOK, "Runbook"), (incident_url, "Incident")]
    assert "Set-Cookie: ***" in html
    assert "11:58:30 UTC, HTTP 200 in 84 ms" in html
    up = render(AlertKind.UP, [replace(down(), ack_url="")], "<a@x>", T0).html
    assert "background:#1a7f37" in up and "Acknowledge" not in up
    reminder = render(AlertKind.REMINDER, [down()], "<a@x>", T0).html
    assert "background:#9a6700" in reminder and "STILL DOWN" in reminder


def test_a_link_that_is_not_http_is_never_a_button():
    html = render(AlertKind.DOWN, [down(runbook="javascript:alert(1)")], "<a@x>", T0).html
    hrefs = re.findall(r"href='([^']*)'", html)
    assert len(hrefs) == 2 and not any("javascript" in h for h in hrefs)
    assert "Runbook</a>" not in html


def test_a_payload_without_an_incident_renders_as_before():
    old = Payload.from_json(
        json.loads(json.dumps(replace(down(), incident="", incident_url="", ack_url="",
                                      runbook="", evidence=None, last_good=None).to_json()))
    )  # fmt: skip
    message = render(AlertKind.DOWN, [old], "<a@x>", T0)
    assert message.subject == "[probed] DOWN: API"
    for absent in ("Incident", "Acknowledge", "Runbook", "Status line", "Last good", "Response"):
        assert absent not in message.text and absent not in message.html
    assert message.text.startswith("API is DOWN.\n\nURL:           https://api.example.test/")
    test = render(AlertKind.TEST, [Payload(text="hello")], "<t@x>", T0)
    assert test.subject == "[probed] TEST: hello" and "Incident" not in test.text


def test_a_digest_lists_the_incident_next_to_each_monitor():
    members = [down(f"site {i}", incident=f"INC-2026-{20 + i:03d}") for i in range(3)]
    members.append(down("legacy", incident=""))
    message = render(AlertKind.DIGEST, members, "<d@x>", T0, AlertKind.DOWN)
    assert message.subject == "[probed] DOWN: 4 monitors"
    for i in range(3):
        assert f"\nsite {i} (INC-2026-{20 + i:03d})\n" in message.text
        assert f"site {i} (INC-2026-{20 + i:03d})" in message.html
    assert "\nlegacy\n" in message.text
    evidence_line = (
        '  Evidence: HTTP/1.1 503 Service Unavailable: { "error": "upstream_unavailable",'
    )
    assert message.text.count(evidence_line) == 4
