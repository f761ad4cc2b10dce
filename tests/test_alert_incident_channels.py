"""An incident's alert through every channel to real far ends on loopback (docs/alerts.md):
the email to aiosmtpd, the webhook to a receiver (the JSON document and a template), the
annotations a real prometheus-alertmanager passes on, and apprise's json:// service."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from probed.alerts.alertmanager import AlertmanagerNotifier
from probed.alerts.apprise import AppriseNotifier, short_text
from probed.alerts.email import EmailNotifier
from probed.alerts.messages import render
from probed.alerts.webhook import WebhookNotifier
from probed.alerts.webhook_body import template_render_problem
from probed.config.channels import AlertmanagerChannel, AppriseChannel, WebhookChannel
from probed.model import AlertKind
from probed.units import utcnow
from tests.kit.clock import T0
from tests.kit.configs import email_channel
from tests.kit.incident_payloads import ACK, BASE, INCIDENT, RUNBOOK, down, evidence
from tests.kit.receiver import Receiver
from tests.kit.smtp import SmtpServer
from tests.kit.stack import Alertmanager
from tests.kit.tools import require_tool

URL = f"{BASE}/api/v1/incidents/{INCIDENT}"


def message(kind: AlertKind = AlertKind.DOWN, **changes: object):  # type: ignore[no-untyped-def]
    return render(kind, [down(**changes)], "<alert-14-ab@example.test>", T0)


async def test_the_down_email_arrives_with_the_id_in_the_subject_and_the_evidence_in_both_parts(
    smtp: SmtpServer,
):
    await EmailNotifier(email_channel(smtp.port)).send(message())
    (mail,) = smtp.inbox
    assert mail.subject == f"[probed] DOWN: API ({INCIDENT})"
    text, html = mail.part("plain"), mail.part("html")
    assert "Status line:   HTTP/1.1 503 Service Unavailable" in text
    assert '      "error": "upstream_unavailable",' in text
    assert f"Acknowledge:   {ACK}" in text
    assert f"href='{ACK.replace('&', '&amp;')}'" in html and ">Acknowledge</a>" in html
    assert "HTTP/1.1 503 Service Unavailable" in html


async def test_no_monitor_name_or_body_adds_a_header_to_the_email(smtp: SmtpServer):
    hostile = "API\r\nBcc: thief@example.test"
    body = "ok\r\nX-Injected: yes\r\n\r\n<script>x</script>"
    await EmailNotifier(email_channel(smtp.port)).send(
        message(monitor=hostile, evidence=evidence(body))
    )
    (mail,) = smtp.inbox
    assert mail.rcpt_tos == ["oncall@example.test"]
    assert mail.message["Bcc"] is None and mail.message["X-Injected"] is None
    assert mail.subject == f"[probed] DOWN: API Bcc: thief@example.test ({INCIDENT})"
    assert "&lt;script&gt;x&lt;/script&gt;" in mail.part("html")


async def test_the_webhook_document_carries_the_incident_and_the_evidence(receivers):
    receiver = await receivers([200])
    hook = WebhookNotifier("hook", WebhookChannel(url=receiver.url + "/hook"))
    await hook.send(message())
    doc = receiver.requests[0].json()
    assert doc["incident"] == {"id": INCIDENT, "url": URL, "ack_url": ACK}
    assert doc["runbook"] == RUNBOOK
    ev = doc["evidence"]
    assert ev["status_line"] == "HTTP/1.1 503 Service Unavailable"
    assert ev["address"] == "127.0.0.1:8443" and ev["http_version"] == "HTTP/1.1"
    assert ["Set-Cookie", "***"] in ev["headers"]
    assert ev["body"].startswith('{\n  "error": "upstream_unavailable"')
    assert ev["body_truncated"] is False and ev["body_bytes"] == len(ev["body"])
    assert ev["at"] == "2026-03-01T12:00:00Z" and ev["status_code"] == 503
    assert ev["timings"]["first_byte"] == 0.0418 and ev["timings"]["total"] == 0.0431
    assert ev["last_good"]["status_code"] == 200 and ev["last_good"]["at"] == "2026-03-01T11:58:30Z"


async def test_without_external_url_the_links_are_null_and_without_an_incident_absent(receivers):
    receiver = await receivers([200])
    hook = WebhookNotifier("hook", WebhookChannel(url=receiver.url + "/hook"))
    await hook.send(message(incident_url="", ack_url=""))
    await hook.send(message(incident="", incident_url="", ack_url="", runbook="", evidence=None))
    linked, plain = (r.json() for r in receiver.requests)
    assert linked["incident"] == {"id": INCIDENT, "url": None, "ack_url": None}
    assert not {"incident", "evidence", "runbook"} & plain.keys()
    assert plain["text"] == "[probed] DOWN: API"


async def test_a_webhook_digest_lists_each_monitors_incident(receivers):
    receiver = await receivers([200])
    members = [down(f"site {i}", incident=f"INC-2026-{30 + i:03d}") for i in range(3)]
    digest = render(AlertKind.DIGEST, members, "<d-1@x>", T0, AlertKind.DOWN)
    await WebhookNotifier("hook", WebhookChannel(url=receiver.url)).send(digest)
    doc = receiver.requests[0].json()
    assert [m["incident"]["id"] for m in doc["monitors"]] == [
        "INC-2026-030",
        "INC-2026-031",
        "INC-2026-032",
    ]


async def test_a_webhook_template_gets_the_incident_and_the_evidence(receivers):
    receiver = await receivers([200])
    template = (
        '{"text": "{{ incident.id }} {{ evidence.status_line }}", '
        '"ack": "{{ incident.ack_url }}", "runbook": "{{ runbook }}"}'
    )
    assert template_render_problem(template) is None  # `probed check`'s sample has them too
    hook = WebhookNotifier("hook", WebhookChannel(url=receiver.url, template=template))
    await hook.send(message())
    assert receiver.requests[0].json() == {
        "text": f"{INCIDENT} HTTP/1.1 503 Service Unavailable",
        "ack": ACK,
        "runbook": RUNBOOK,
    }


@require_tool("prometheus-alertmanager")
async def test_alertmanager_passes_on_the_incident_evidence_and_runbook_annotations(tmp_path):
    receiver = await Receiver([200]).start()
    am = await Alertmanager(tmp_path / "am", receiver).start()
    try:
        now = utcnow()
        # A connection error of many lines: the annotation is one line of at most 300.
        error = "ECONNRESET: " + "reset by peer\n" * 100
        channel = AlertmanagerChannel(urls=(am.url,), resend_every=60.0, timeout=2.0)
        notifier = AlertmanagerNotifier("am", channel, utcnow)
        payload = down(at=now, outage_start=now - timedelta(seconds=60))
        odd = down("db", at=now, evidence=evidence("", status_line=None, error=error))
        for p in (payload, odd):
            await notifier.send(render(AlertKind.DOWN, [p], f"<{p.monitor}@x>", now))
        async with asyncio.timeout(15):
            while sum(len(n["alerts"]) for n in am.notifications()) < 2:
                receiver.arrived.clear()
                await receiver.arrived.wait()
        fired = {a["labels"]["monitor"]: a for n in am.notifications() for a in n["alerts"]}
        notes = fired["API"]["annotations"]
        assert notes["incident"] == INCIDENT
        assert notes["runbook_url"] == RUNBOOK
        # The pretty-printed JSON body folded onto the status line, cut at 300 characters.
        start = 'HTTP/1.1 503 Service Unavailable: { "error": "upstream_unavailable", "message": '
        assert notes["evidence"].startswith(start)
        assert len(notes["evidence"]) == 300 and notes["evidence"].endswith("…")
        assert notes["summary"] == f"DOWN: API ({INCIDENT})"
        line = fired["db"]["annotations"]["evidence"]
        assert line.startswith("ECONNRESET: reset by peer reset by peer")
        assert "\n" not in line and len(line) <= 300
    finally:
        await am.stop()
        await receiver.stop()


async def test_alertmanager_leaves_out_what_an_alert_without_an_incident_lacks(receivers):
    receiver = await receivers([200])
    channel = AlertmanagerChannel(urls=(receiver.url,), resend_every=60.0, timeout=2.0)
    bare = message(incident="", incident_url="", ack_url="", runbook="", evidence=None)
    await AlertmanagerNotifier("am", channel, utcnow).send(bare)
    (alert,) = receiver.requests[0].json()
    assert set(alert["annotations"]) == {"summary", "reason", "url"}


async def test_apprise_carries_the_incident_id_and_the_first_line_of_evidence(receivers):
    chat = await receivers([200])
    host = chat.url.removeprefix("http://")
    notifier = AppriseNotifier("chat", AppriseChannel(urls=(f"json://{host}/chat",)))
    await notifier.send(message())
    sent = chat.requests[0].json()
    assert sent["title"] == f"[probed] DOWN: API ({INCIDENT})"
    assert "Status line:   HTTP/1.1 503 Service Unavailable" in sent["message"]
    assert sent["type"] == "failure"


def test_a_short_text_service_gets_the_subject_and_as_much_of_the_first_line_as_fits():
    sms = short_text(message(evidence=evidence('{"error": "' + "x" * 400 + '"}')), 160)
    assert sms.startswith(f"[probed] DOWN: API ({INCIDENT}): HTTP/1.1 503 Service Unavailable")
    assert len(sms) == 160 and sms.endswith("…")
    roomy = short_text(message(evidence=evidence('{"e": 1}')), 160)
    assert roomy == f'[probed] DOWN: API ({INCIDENT}): HTTP/1.1 503 Service Unavailable: {{"e": 1}}'
    bare = short_text(message(evidence=None), 160)
    assert bare == f"[probed] DOWN: API ({INCIDENT})"
    assert short_text(replace(message(), payloads=()), 10) == f"[probed] DOWN: API ({INCIDENT})"
