"""No text from a monitor (its name, a test alert's text) can add a header to an alert email,
whether it arrives raw (CR/LF) or as an RFC 2047 encoded-word that decodes to one."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import SMTP, default

import pytest

from probed.alerts.email import EmailNotifier
from probed.alerts.messages import render
from probed.alerts.payload import Payload
from probed.alerts.policy import AlertKind
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.smtp import SmtpServer

INJECTION = "=?utf-8?q?Subject=0D=0ABcc:_evil@example.com?="
HEADERS = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Probed-Alert",
    "Content-Type",
    "MIME-Version",
}


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (INJECTION, INJECTION),
        ("Café =?utf-8?b?QmNjOiBldmlsQGV4YW1wbGUuY29t?= ✓", None),
        ("api\r\nBcc: evil@example.com", "api Bcc: evil@example.com"),
        ("api\nX-Evil: 1\x00\x1b\u2028end", "api X-Evil: 1 end"),
        ("x" * 300 + " =?us-ascii?q?=0ABcc:e@x?=", None),
    ],
)
def test_the_built_message_has_only_probeds_headers_and_the_subject_as_written(name, shown):
    message = render(AlertKind.DOWN, [Payload(monitor=name, url="https://x.test/")], "<m@x>", T0)
    built = EmailNotifier(email_channel(25)).build(message)
    parsed = BytesParser(policy=default).parsebytes(built.as_bytes(policy=SMTP))
    assert sorted(parsed.keys()) == sorted(HEADERS)
    assert parsed["Subject"] == f"[probed] DOWN: {shown or name}"
    assert "Bcc" not in parsed and "X-Evil" not in parsed


def test_plain_ascii_subjects_stay_readable_on_the_wire():
    message = render(AlertKind.DOWN, [Payload(monitor="api")], "<m@x>", T0)
    raw = EmailNotifier(email_channel(25)).build(message).as_bytes(policy=SMTP)
    assert b"\r\nSubject: [probed] DOWN: api\r\n" in b"\r\n" + raw


async def test_a_name_like_an_encoded_bcc_header_sends_one_mail_to_the_configured_recipient(
    tmp_path,
):
    server = await SmtpServer().start()
    try:
        config = make_config(tmp_path, [make_monitor(INJECTION)], email_channel(server.port))
        h = Harness(config, FakeClock())
        await h.go_down(INJECTION)
        await h.dispatcher.run_once()
        (mail,) = await server.wait_for(1, timeout=5)
        assert mail.rcpt_tos == ["oncall@example.test"]
        assert sorted(mail.message.keys()) == sorted(HEADERS)
        assert mail.subject == f"[probed] DOWN: {INJECTION} (INC-2026-001)"
        assert INJECTION in mail.part("plain")
        await h.close()
    finally:
        await server.stop()
