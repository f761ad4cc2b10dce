"""Evidence of failed checks of the other kinds (docs/design.md §17.2): the certificate shown,
the connect error, the DNS rcode and answer, a push monitor's deadline; real servers on
127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import dns.rcode
import trustme

from probed.config import PushCheck
from probed.model import PushRecord
from probed.probes import run_probe
from probed.probes.push import Signal, Waiting, judge, receive
from tests.kit.certs import issue, not_after, server_context, write_ca
from tests.kit.monitors import make_monitor
from tests.kit.servers import Target, raw_server, read_request, serve
from tests.test_probe_dns import udp_server

TOKEN = "push-token-0123456789abcdef"


async def test_a_certificate_about_to_expire_is_shown_with_subject_sans_and_expiry(
    ca: trustme.CA, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=3))
    ca_file = write_ca(ca, tmp_path)
    async with serve(Target(), server_context(cert)) as target:
        address = target.url("/").split("/")[2]
        now = datetime.now(UTC)
        ssl_result = await run_probe(
            make_monitor(kind="ssl", url=target.url("/"), ca_file=ca_file, timeout=5),
            session,
            now,
        )
        https_result = await run_probe(
            make_monitor(url=target.url("/status/503"), ca_file=ca_file, timeout=5),
            session,
            now,
        )
    for result in (ssl_result, https_result):
        assert not result.ok and result.evidence is not None
        shown = result.evidence.certificate
        assert shown is not None
        assert shown.not_after == not_after(cert)
        assert "localhost" in shown.sans and "127.0.0.1" in shown.sans
        assert shown.issuer and shown.subject
        assert result.evidence.address == address
    assert ssl_result.reason == "certificate expires in 2 days"
    assert https_result.evidence is not None
    assert https_result.evidence.status_line == "HTTP/1.1 503 Service Unavailable"


async def test_a_failed_handshake_is_the_error_with_the_address(
    ca: trustme.CA, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    expired = issue(ca, expires_in=timedelta(days=-3))
    ca_file = write_ca(ca, tmp_path)
    results = []
    async with serve(Target(), server_context(expired)) as target:
        expired_address = target.url("/").split("/")[2]
        for kind in ("http", "ssl"):
            monitor = make_monitor(kind=kind, url=target.url("/"), ca_file=ca_file, timeout=5)
            results.append(await run_probe(monitor, session, datetime.now(UTC)))
    async with serve(Target()) as plain:  # TLS spoken to a plain HTTP server
        plain_url = plain.url("/").replace("http:", "https:")
        plain_address = plain_url.split("/")[2]
        for kind in ("http", "ssl"):
            monitor = make_monitor(kind=kind, url=plain_url, ca_file=ca_file, timeout=5)
            results.append(await run_probe(monitor, session, datetime.now(UTC)))
    for result, address in zip(results, [expired_address] * 2 + [plain_address] * 2, strict=True):
        assert not result.ok and result.evidence is not None
        assert result.evidence.error == result.reason  # OpenSSL's errno is not named
        assert result.evidence.address == address
        assert result.evidence.certificate is None and result.evidence.status_line is None
    assert results[0].reason == "certificate verify failed: certificate has expired"
    assert results[2].reason == "TLS error: wrong version number"


async def test_a_refused_tcp_connection_names_the_errno_and_the_address(
    session: aiohttp.ClientSession,
) -> None:
    async with raw_server(read_request) as port:  # a port that was just free
        pass
    monitor = make_monitor(kind="tcp", url=f"tcp://127.0.0.1:{port}", timeout=5)
    result = await run_probe(monitor, session, datetime.now(UTC))
    assert result.reason == "connection refused" and result.evidence is not None
    assert result.evidence.error == "ECONNREFUSED: Connection refused"
    assert result.evidence.address == f"127.0.0.1:{port}"


async def test_a_name_that_does_not_exist_shows_the_rcode(session: aiohttp.ClientSession) -> None:
    async with udp_server(dns.rcode.NXDOMAIN) as (port, _):
        url = f"dns://127.0.0.1:{port}/missing.test?type=A"
        missing = await run_probe(
            make_monitor(kind="dns", url=url, timeout=5), session, datetime.now(UTC)
        )
    async with udp_server(dns.rcode.SERVFAIL) as (port, _):
        servfail = await run_probe(
            make_monitor(kind="dns", url=f"dns://127.0.0.1:{port}/broken.test", timeout=5),
            session,
            datetime.now(UTC),
        )
    assert missing.reason == "NXDOMAIN" and missing.evidence is not None
    assert missing.evidence.facts == (("rcode", "NXDOMAIN"),)
    assert missing.evidence.url == url
    assert servfail.reason == "SERVFAIL" and servfail.evidence is not None
    assert servfail.evidence.facts == (("rcode", "SERVFAIL"),)
    async with udp_server(dns.rcode.NOERROR) as (port, _):
        empty = await run_probe(
            make_monitor(
                kind="dns", url=f"dns://127.0.0.1:{port}/empty.test", expect=("10.0.0.1",)
            ),
            session,
            datetime.now(UTC),
        )
    assert empty.reason == "answer (empty) lacks 10.0.0.1" and empty.evidence is not None
    assert empty.evidence.facts == (("rcode", "NOERROR"), ("answer", "(empty)"))


def test_a_late_push_monitor_shows_its_deadline_and_never_its_token() -> None:
    monitor = make_monitor(kind="push", url="", token=TOKEN, interval=60, grace=30)
    assert isinstance(monitor.check, PushCheck)
    pinged = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    late = judge(monitor, monitor.check, Waiting(pinged), pinged + timedelta(minutes=5))
    assert late is not None and late.evidence is not None
    assert dict(late.evidence.facts) == {
        "deadline": "2026-12-08T03:01:30+00:00",
        "waiting since": "2026-12-08T03:00:00+00:00",
    }
    reported_at = pinged + timedelta(minutes=1)
    failing = judge(monitor, monitor.check, Waiting(reported_at, "backup failed"), reported_at)
    assert failing is not None and failing.evidence is not None
    assert dict(failing.evidence.facts) == {
        "deadline": "2026-12-08T03:02:30+00:00",
        "last failure report": "2026-12-08T03:01:00+00:00",
    }
    for ev in (late.evidence, failing.evidence):
        text = json.dumps(ev.to_json())
        assert TOKEN not in text and ev.url == "/push/***"
    _, ping = receive(PushRecord(at=pinged), Signal.PING, "", pinged + timedelta(minutes=2))
    assert ping is not None and ping.ok and ping.evidence is None
