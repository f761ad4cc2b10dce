"""The email channel against a real SMTP server (aiosmtpd) on loopback: STARTTLS and implicit
TLS with a certificate made in the test, AUTH, refusals, and ``probed test-alert``."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from probed.alerts.email import EmailNotifier
from probed.alerts.messages import render
from probed.alerts.outbox import AlertStatus
from probed.alerts.payload import Payload
from probed.alerts.policy import AlertKind
from probed.config import EmailChannel
from probed.errors import NotifierError
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli
from tests.kit.smtp import SmtpServer, Tls, make_tls

MESSAGE = render(AlertKind.TEST, [Payload(text="hello")], "<test-1@example.test>", T0)


@pytest.fixture
def tls(tmp_path):
    return make_tls(tmp_path)


@pytest.fixture
async def starttls_server(tls):
    server = await SmtpServer(starttls=tls.server, users={"probed": "s3cret"}).start()
    yield server
    await server.stop()


def starttls(server: SmtpServer, ca: Tls | None, password: str = "s3cret") -> EmailChannel:
    """The channel to ``server`` over STARTTLS as user probed, trusting ``ca``'s CA (or, with
    None, only the system's)."""
    ca_file = None if ca is None else str(ca.ca_file)
    return email_channel(
        server.port, security="starttls", ca_file=ca_file, username="probed", password=password
    )


async def test_starttls_with_a_private_ca_and_auth_delivers_a_multipart_message(
    tls, starttls_server
):
    answer = await EmailNotifier(starttls(starttls_server, tls)).send(MESSAGE)
    assert answer == "250 2.0.0 Message accepted for delivery"
    (mail,) = starttls_server.inbox
    assert starttls_server.auth_attempts == [("probed", True)]
    assert mail.subject == "[probed] TEST: hello"
    assert mail.message_id == "<test-1@example.test>"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message.get_content_type() == "multipart/alternative"
    assert "hello" in mail.part("plain") and "<html>" in mail.part("html")
    assert mail.mail_from == "probed@example.test"
    assert mail.rcpt_tos == ["oncall@example.test"]


async def test_an_untrusted_server_certificate_is_a_transient_failure(starttls_server):
    with pytest.raises(NotifierError) as caught:
        await EmailNotifier(starttls(starttls_server, None)).send(MESSAGE)
    assert not caught.value.permanent
    assert "certificate not trusted" in str(caught.value)
    assert starttls_server.inbox == [] and starttls_server.auth_attempts == []


async def test_starttls_required_but_not_offered_never_falls_back_to_plain_text():
    server = await SmtpServer().start()
    try:
        with pytest.raises(NotifierError) as caught:
            await EmailNotifier(email_channel(server.port, security="starttls")).send(MESSAGE)
        assert "STARTTLS" in str(caught.value) and not caught.value.permanent
        assert server.inbox == []
    finally:
        await server.stop()


async def test_implicit_tls_delivers(tls):
    server = await SmtpServer(implicit_tls=tls.server).start()
    try:
        channel = email_channel(server.port, security="tls", ca_file=str(tls.ca_file))
        assert (await EmailNotifier(channel).send(MESSAGE)).startswith("250 ")
        assert len(server.inbox) == 1
    finally:
        await server.stop()


async def test_a_wrong_password_fails_for_good_is_logged_with_the_answer_counted_and_not_retried(
    tmp_path, tls, starttls_server
):
    channel = starttls(starttls_server, tls, password="wrong")
    clock = FakeClock()
    h = Harness(make_config(tmp_path, [make_monitor("api")], channel), clock)
    await h.go_down("api")
    with capture_logs() as logs:
        await h.dispatcher.run_once()
    (row,) = h.rows()
    assert row.status is AlertStatus.FAILED
    assert row.last_error is not None and "535 5.7.8 Authentication credentials invalid" in (
        row.last_error
    )
    (refused,) = [e for e in logs if e["event"] == "alert refused for good: not retried"]
    assert "535 5.7.8 Authentication credentials invalid" in refused["answer"]
    assert refused["log_level"] == "error"
    assert h.metric("probed_alerts_total", channel="email", kind="down", outcome="failed") == 1
    assert h.metric("probed_alert_queue_length", channel="email") == 0
    # aiosmtplib tries each mechanism the server offers (PLAIN, LOGIN) before giving up.
    tried = list(starttls_server.auth_attempts)
    assert tried and all(user == "probed" and not ok for user, ok in tried)
    clock.advance(3600)
    await h.dispatcher.run_once()
    assert starttls_server.auth_attempts == tried  # never tried again
    assert starttls_server.inbox == []
    await h.close()


async def test_a_rejected_recipient_is_a_permanent_failure():
    server = await SmtpServer().start()
    server.refuse.add("oncall@example.test")
    try:
        with pytest.raises(NotifierError) as caught:
            await EmailNotifier(email_channel(server.port)).send(MESSAGE)
        assert caught.value.permanent
        assert "oncall@example.test: 550 5.1.1 mailbox unavailable" in str(caught.value)
    finally:
        await server.stop()


async def test_one_rejected_recipient_of_two_still_delivers_to_the_other():
    server = await SmtpServer().start()
    server.refuse.add("gone@example.test")
    try:
        channel = email_channel(server.port, to=("gone@example.test", "oncall@example.test"))
        with capture_logs() as logs:
            await EmailNotifier(channel).send(MESSAGE)
        assert server.inbox[0].rcpt_tos == ["oncall@example.test"]
        assert [e["event"] for e in logs] == ["alert refused for some recipients"]
    finally:
        await server.stop()


def write_config(tmp_path: Path, port: int, extra: str = "") -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nstate_dir = "{tmp_path}"\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from = "probed@example.test"\nto = ["oncall@example.test"]\ntimeout = "5s"\n{extra}'
        '[[monitor]]\nname = "api"\nurl = "http://127.0.0.1:9/"\n'
    )
    return path


async def test_test_alert_sends_now_and_prints_the_servers_answer(tmp_path):
    server = await SmtpServer().start()
    try:
        code, out, _ = await run_cli("test-alert", "-c", str(write_config(tmp_path, server.port)))
        assert code == 0
        assert out.strip() == "email: OK: 250 2.0.0 Message accepted for delivery"
        (mail,) = server.inbox
        assert mail.subject.startswith("[probed] TEST: ")
    finally:
        await server.stop()
    # The server is gone now: the same command fails with exit code 2 and says why.
    code, out, _ = await run_cli(
        "test-alert", "--channel", "email", "-c", str(write_config(tmp_path, server.port))
    )
    assert code == 2
    assert out.startswith("email: FAILED: ") and "(transient failure)" in out


async def test_test_alert_rejects_a_channel_that_is_not_configured(tmp_path):
    code, _, err = await run_cli(
        "test-alert", "--channel", "slack", "-c", str(write_config(tmp_path, 9))
    )
    assert code == 1
    assert "channel 'slack' is not configured (configured: email)" in err
