"""The mail kinds (smtp, imap, pop3): greetings against aiosmtpd and the kit's IMAP/POP3 greeter,
plain, with STARTTLS/STLS and with implicit TLS (trustme certificates), hostile servers, the
config's rules, and the kinds on the command line."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import trustme

from probed.config import ImapCheck, Monitor, Pop3Check, SmtpCheck
from probed.probes import run_probe
from probed.web.uptimerobot_monitor import monitor_sub_type, type_code
from tests.kit.certs import issue, server_context, write_ca
from tests.kit.configs import load_monitors, load_problems
from tests.kit.mail_servers import Greeter, greeter_server
from tests.kit.monitors import make_monitor
from tests.kit.processes import free_port, probed
from tests.kit.servers import raw_server
from tests.kit.smtp import SmtpServer


def mail(kind: str, url: str, **settings: object) -> Monitor:
    settings.setdefault("timeout", 5)
    return make_monitor(kind=kind, url=url, **settings)


@pytest.fixture
def cert(ca: trustme.CA) -> trustme.LeafCert:
    return issue(ca, expires_in=timedelta(days=90))


async def test_an_smtp_greeting_of_220_is_up(
    smtp: SmtpServer, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(
        mail("smtp", f"smtp://127.0.0.1:{smtp.port}"), session, datetime.now(UTC)
    )
    assert (result.ok, result.reason) == (True, "SMTP ready")
    assert result.timings.first_byte is not None and result.timings.tls is None
    assert result.cert_expires_at is None


async def test_smtp_starttls_is_judged_on_its_certificate(
    tmp_path: Path, ca: trustme.CA, cert: trustme.LeafCert, session: aiohttp.ClientSession
) -> None:
    server = await SmtpServer(starttls=server_context(cert)).start()
    try:
        monitor = mail(
            "smtp",
            f"smtp://127.0.0.1:{server.port}",
            starttls=True,
            ca_file=write_ca(ca, tmp_path),
            ehlo="probe.example.test",
        )
        result = await run_probe(monitor, session, datetime.now(UTC))
        soon = await run_probe(
            mail(
                "smtp",
                monitor.url,
                starttls=True,
                ca_file=monitor.ca_file,
                ssl_expiry_days=120,
            ),
            session,
            datetime.now(UTC),
        )
        untrusted = await run_probe(
            mail("smtp", monitor.url, starttls=True), session, datetime.now(UTC)
        )
    finally:
        await server.stop()
    assert result.ok and result.reason.startswith("SMTP ready, certificate valid for 8"), result
    assert result.timings.tls is not None and result.tls is not None
    assert result.cert_expires_at is not None
    assert abs(result.cert_expires_at - (datetime.now(UTC) + timedelta(days=90))) < timedelta(
        minutes=5
    )
    assert (soon.ok, soon.reason) == (False, "certificate expires in 89 days")
    assert (untrusted.ok, untrusted.reason) == (
        False,
        "certificate verify failed: unable to get local issuer certificate",
    )


async def test_starttls_asked_of_a_server_that_does_not_offer_it_is_down(
    smtp: SmtpServer, session: aiohttp.ClientSession
) -> None:
    monitor = mail("smtp", f"smtp://127.0.0.1:{smtp.port}", starttls=True)
    result = await run_probe(monitor, session, datetime.now(UTC))
    assert (result.ok, result.reason) == (False, "STARTTLS not offered in the EHLO reply")
    assert result.evidence is not None
    assert ("server said", result.evidence.facts[0][1]) == result.evidence.facts[0]
    assert "250-probed-test-smtp" in result.evidence.facts[0][1]


async def test_smtps_is_tls_from_the_first_byte(
    tmp_path: Path, ca: trustme.CA, cert: trustme.LeafCert, session: aiohttp.ClientSession
) -> None:
    server = await SmtpServer(implicit_tls=server_context(cert)).start()
    try:
        url = f"smtps://127.0.0.1:{server.port}"
        result = await run_probe(
            mail("smtp", url, ca_file=write_ca(ca, tmp_path)), session, datetime.now(UTC)
        )
        plain = await run_probe(
            mail("smtp", f"smtp://127.0.0.1:{server.port}", timeout=1), session, datetime.now(UTC)
        )
    finally:
        await server.stop()
    assert result.ok and result.reason.startswith("SMTP ready, certificate valid"), result
    assert result.tls is not None and result.cert_expires_at is not None
    assert not plain.ok  # plain text to a TLS port: never a greeting


async def test_expect_banner_is_looked_for_in_the_greeting(
    smtp: SmtpServer, session: aiohttp.ClientSession
) -> None:
    url = f"smtp://127.0.0.1:{smtp.port}"
    found = await run_probe(
        mail("smtp", url, expect_banner="probed-test-smtp"), session, datetime.now(UTC)
    )
    missing = await run_probe(
        mail("smtp", url, expect_banner="mx.example.com"), session, datetime.now(UTC)
    )
    assert found.ok
    assert (missing.ok, missing.reason) == (False, 'greeting lacks "mx.example.com"')


@pytest.mark.parametrize("kind", ["imap", "pop3"])
async def test_imap_and_pop3_greetings_plain_starttls_and_implicit_tls(
    tmp_path: Path,
    ca: trustme.CA,
    cert: trustme.LeafCert,
    session: aiohttp.ClientSession,
    kind: str,
) -> None:
    ca_file = write_ca(ca, tmp_path)
    context = server_context(cert)
    name = kind.upper()
    greeter = Greeter(kind, starttls=context)  # type: ignore[arg-type]
    async with greeter_server(greeter) as port:
        plain = await run_probe(
            mail(kind, f"{kind}://127.0.0.1:{port}"), session, datetime.now(UTC)
        )
        upgraded = await run_probe(
            mail(kind, f"{kind}://127.0.0.1:{port}", starttls=True, ca_file=ca_file),
            session,
            datetime.now(UTC),
        )
    async with greeter_server(Greeter(kind), implicit_tls=context) as port:  # type: ignore[arg-type]
        implicit = await run_probe(
            mail(kind, f"{kind}s://127.0.0.1:{port}", ca_file=ca_file), session, datetime.now(UTC)
        )
    assert (plain.ok, plain.reason) == (True, f"{name} ready")
    assert upgraded.ok and upgraded.reason.startswith(f"{name} ready, certificate valid for 8")
    assert upgraded.timings.tls is not None and upgraded.cert_expires_at is not None
    assert implicit.ok and implicit.reason.startswith(f"{name} ready, certificate valid")
    assert implicit.tls is not None
    # What the greeter heard: the upgrade, then the polite goodbye, over TLS.
    assert greeter.commands[-2:] == (
        ["P1 STARTTLS", "P2 LOGOUT"] if kind == "imap" else ["STLS", "QUIT"]
    )


@pytest.mark.parametrize(
    ("kind", "greeting", "reason"),
    [
        (
            "imap",
            "* BYE too many connections",
            'IMAP server refuses connections: "* BYE too many connections"',
        ),
        ("imap", "+OK wrong protocol", 'not an IMAP greeting: "+OK wrong protocol"'),
        ("pop3", "-ERR maintenance", 'POP3 server refuses connections: "-ERR maintenance"'),
        ("pop3", "* OK wrong protocol", 'not a POP3 greeting: "* OK wrong protocol"'),
    ],
)
async def test_a_refusing_or_foreign_greeting_is_down_with_its_words(
    session: aiohttp.ClientSession, kind: str, greeting: str, reason: str
) -> None:
    async with greeter_server(Greeter(kind, greeting=greeting)) as port:  # type: ignore[arg-type]
        result = await run_probe(
            mail(kind, f"{kind}://127.0.0.1:{port}"), session, datetime.now(UTC)
        )
    assert (result.ok, result.reason) == (False, reason)


async def test_stls_refused_by_a_server_without_a_certificate_is_down(
    session: aiohttp.ClientSession,
) -> None:
    async with greeter_server(Greeter("pop3")) as port:
        result = await run_probe(
            mail("pop3", f"pop3://127.0.0.1:{port}", starttls=True), session, datetime.now(UTC)
        )
    assert (result.ok, result.reason) == (False, 'STLS refused: "-ERR not here"')


async def test_a_banner_dripping_one_byte_a_second_fails_within_the_timeout(
    session: aiohttp.ClientSession,
) -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for byte in b"220 slow.example.test ESMTP\r\n":
            if writer.is_closing():
                return  # the probe gave up, as it should
            writer.write(bytes([byte]))
            await asyncio.sleep(1)

    async with raw_server(drip) as port:
        started = time.monotonic()
        result = await run_probe(
            mail("smtp", f"smtp://127.0.0.1:{port}", timeout=2), session, datetime.now(UTC)
        )
        took = time.monotonic() - started
    assert (result.ok, result.reason) == (False, "timeout after 2s")
    assert took < 3
    assert result.evidence is not None
    assert dict(result.evidence.facts)["server said"] in ("22", "220")


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (b"", "connection closed before the greeting"),
        (b"220 half a gree", 'connection closed before the greeting after "220 half a gree"'),
        (b"SSH-2.0-OpenSSH_9.6\r\n", 'not an SMTP greeting: "SSH-2.0-OpenSSH_9.6"'),
        (b"\x00\xff\x1b[2Jgarbage\r\n", 'not an SMTP greeting: "?\ufffd?[2Jgarbage"'),
        (b"554 no service for you\r\n", 'SMTP greeting is not 220: "554 no service for you"'),
        (b"220-first\r\n250 second\r\n", 'not an SMTP greeting: "250 second"'),
        (b"x" * 5000, "greeting: a line longer than 2048 bytes"),
    ],
)
async def test_a_server_that_closes_or_sends_garbage_is_one_readable_failure(
    session: aiohttp.ClientSession, sent: bytes, reason: str
) -> None:
    async def say(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(sent)
        await writer.drain()
        writer.close()

    async with raw_server(say) as port:
        result = await run_probe(
            mail("smtp", f"smtp://127.0.0.1:{port}"), session, datetime.now(UTC)
        )
    assert (result.ok, result.reason) == (False, reason)


@pytest.mark.parametrize(
    ("kind", "script", "reason"),
    [
        ("smtp", b"220 hi\r\n502 5.5.1 no EHLO\r\n", 'EHLO refused: "502 5.5.1 no EHLO"'),
        (
            "pop3",
            b"+OK hi\r\n+OK go ahead\r\n+OK injected\r\n",
            "server sent data before the TLS handshake",
        ),
        ("imap", b"* OK hi\r\n* BYE\r\nP1 NO not now\r\n", 'STARTTLS refused: "P1 NO not now"'),
    ],
)
async def test_a_server_that_answers_wrongly_after_the_greeting_is_down(
    session: aiohttp.ClientSession, kind: str, script: bytes, reason: str
) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(script)  # all at once: the greeting and whatever the probe asks next
        await writer.drain()
        await reader.read()  # until the probe leaves

    async with raw_server(answer) as port:
        monitor = mail(kind, f"{kind}://127.0.0.1:{port}", starttls=kind != "smtp")
        result = await run_probe(monitor, session, datetime.now(UTC))
    assert (result.ok, result.reason) == (False, reason)


async def test_a_closed_port_and_an_unknown_host_are_the_usual_reasons(
    session: aiohttp.ClientSession,
) -> None:
    refused = await run_probe(
        mail("imap", f"imap://127.0.0.1:{free_port()}"), session, datetime.now(UTC)
    )
    assert (refused.ok, refused.reason) == (False, "connection refused")


M = '[[monitor]]\nname = "mx"\n'


def test_the_mail_kinds_read_their_keys_and_default_ports(tmp_path: Path) -> None:
    text = (
        f'{M}type = "smtp"\nurl = "smtp://mx.example.test"\nstarttls = true\n'
        'ehlo = "probe.example.test"\nexpect_banner = "ESMTP"\nssl_expiry_days = 7\n'
        '[[monitor]]\nname = "imap"\ntype = "imap"\nurl = "imaps://imap.example.test"\n'
        '[[monitor]]\nname = "pop"\ntype = "pop3"\nurl = "pop3://pop.example.test:1110"\n'
        "starttls = true\n"
    )
    smtp_, imap, pop = load_monitors(tmp_path, text)
    assert smtp_.check == SmtpCheck(
        starttls=True, ehlo="probe.example.test", expect_banner="ESMTP", ssl_expiry_days=7
    )
    assert imap.check == ImapCheck() and pop.check == Pop3Check(starttls=True)
    assert smtp_.sees_certificates and imap.sees_certificates and pop.sees_certificates


def test_every_bad_mail_key_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        f'{M}type = "smtp"\nurl = "smtps://mx.example.test"\nstarttls = true\n'
        'ehlo = "a b\\r\\nRCPT TO:<x>"\nexpect_banner = ""\n'
        '[[monitor]]\nname = "imap"\ntype = "imap"\nurl = "https://imap.example.test"\n'
        'ehlo = "x.example"\n'
        '[[monitor]]\nname = "pop"\ntype = "pop3"\nurl = "pop3://pop.example.test/inbox"\n'
        'starttls = "yes"\n'
    )
    problems = load_problems(tmp_path, text)
    numbers = {"mx": 1, "imap": 2, "pop": 3}
    assert problems == [
        f'{tmp_path / "monitors.toml"}: monitor "{name}" (#{numbers[name]}) {problem}'
        for name, problem in [
            (
                "mx",
                "ehlo: must be one line of printable text (no control characters),"
                " got 'a b\\r\\nRCPT TO:<x>'",
            ),
            ("mx", "starttls: smtps:// is TLS from the start: leave starttls out"),
            ("mx", "expect_banner: must not be empty"),
            (
                "imap",
                "url: must be imap://host[:port] or imaps://host[:port],"
                ' got "https://imap.example.test"',
            ),
            ("imap", 'ehlo: not used by type "imap"'),
            (
                "pop",
                'url: a pop3:// URL is only host and port, got "pop3://pop.example.test/inbox"',
            ),
            ("pop", "starttls: expected a boolean (true or false), got a string"),
        ]
    ]


def test_uptimerobot_shows_mail_monitors_as_port_monitors_of_their_protocol() -> None:
    assert type_code(SmtpCheck()) == type_code(ImapCheck()) == type_code(Pop3Check()) == 4
    assert monitor_sub_type(mail("smtp", "smtp://mx:25")) == 4
    assert monitor_sub_type(mail("pop3", "pop3://mx")) == 5
    assert monitor_sub_type(mail("imap", "imap://mx:143")) == 6
    assert monitor_sub_type(mail("imap", "imaps://mx")) == 99  # 993: UptimeRobot's custom port


async def test_probe_on_the_command_line(
    tmp_path: Path, ca: trustme.CA, cert: trustme.LeafCert
) -> None:
    server = await SmtpServer(starttls=server_context(cert)).start()
    ca_file = write_ca(ca, tmp_path)
    try:
        url = f"smtp://127.0.0.1:{server.port}"
        up = await asyncio.to_thread(
            probed,
            "probe",
            "--type",
            "smtp",
            "--starttls",
            "--ca-file",
            ca_file,
            "--ehlo",
            "cli.example.test",
            "--expect-banner",
            "probed-test",
            url,
        )
        injecting = await asyncio.to_thread(
            probed, "probe", "--type", "smtp", "--ehlo", "x\r\nRCPT TO:<a@b>", url
        )
        lacking = await asyncio.to_thread(
            probed, "probe", "--type", "smtp", "--expect-banner", "nope", url
        )
    finally:
        await server.stop()
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.startswith("UP  smtp smtp://127.0.0.1:")
    assert "certificate: expires" in up.stdout and "protocol:    TLS 1." in up.stdout
    assert injecting.returncode == 1 and "--ehlo: must be a host name" in injecting.stderr
    assert lacking.returncode == 2 and 'greeting lacks "nope"' in lacking.stdout
