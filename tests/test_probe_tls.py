"""Certificates: the ssl probe's verdicts, and expiry recorded by http checks on https."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import trustme

from probed.config import Monitor
from probed.probes import run_probe
from probed.probes.tls import tls_contexts
from tests.kit.certs import (
    EXPIRIES,
    Expiry,
    chain_with_intermediate,
    issue,
    not_after,
    server_context,
    write_ca,
)
from tests.kit.monitors import make_monitor
from tests.kit.servers import Target, serve


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    return write_ca(ca, tmp_path)


def check(url: str, kind: str, **options: object) -> Monitor:
    options.setdefault("timeout", 5)
    return make_monitor(kind=kind, url=url, **options)


@pytest.mark.parametrize("expiry", EXPIRIES)
async def test_a_certificate_is_judged_on_its_days_left_without_an_http_request(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession, expiry: Expiry
) -> None:
    cert = issue(ca, expires_in=timedelta(days=expiry.lifetime))
    async with serve(Target(), server_context(cert)) as target:
        now = datetime.now(UTC)
        monitor = check(target.url("/"), "ssl", ca_file=ca_file, **expiry.settings)
        result = await run_probe(monitor, session, now)
    assert (result.ok, result.reason) == expiry.verdict(cert, now)
    assert result.cert_expires_at == not_after(cert)
    assert result.status_code is None


async def test_an_expired_certificate_fails_verification(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=-3))
    async with serve(Target(), server_context(cert)) as target:
        now = datetime.now(UTC)
        ssl_check = check(target.url("/"), "ssl", ca_file=ca_file)
        unverified = check(target.url("/"), "ssl", ca_file=ca_file, verify_tls=False)
        verified_result = await run_probe(ssl_check, session, now)
        unverified_result = await run_probe(unverified, session, now)

    assert (verified_result.ok, verified_result.reason) == (
        False,
        "certificate verify failed: certificate has expired",
    )
    # Without verification the handshake succeeds, and the date itself is the verdict.
    assert (now - not_after(cert)).days == 3
    assert (unverified_result.ok, unverified_result.reason) == (
        False,
        "certificate expired 3 days ago",
    )
    assert unverified_result.cert_expires_at == not_after(cert)


async def test_a_certificate_from_an_untrusted_ca_fails_verification(
    ca_file: str, session: aiohttp.ClientSession
) -> None:
    stranger = trustme.CA()
    cert = issue(stranger, expires_in=timedelta(days=90))
    async with serve(Target(), server_context(cert)) as target:
        now = datetime.now(UTC)
        results = [
            await run_probe(check(target.url("/status/200"), kind, ca_file=ca_file), session, now)
            for kind in ("ssl", "http")
        ]

    for result in results:
        assert (result.ok, result.reason) == (
            False,
            "certificate verify failed: unable to get local issuer certificate",
        )


async def test_verify_tls_false_accepts_a_certificate_from_an_untrusted_ca(
    session: aiohttp.ClientSession,
) -> None:
    cert = issue(trustme.CA(), expires_in=timedelta(days=90))
    async with serve(Target(), server_context(cert)) as target:
        now = datetime.now(UTC)
        url = target.url("/status/200")
        ssl_result = await run_probe(check(url, "ssl", verify_tls=False), session, now)
        http_result = await run_probe(check(url, "http", verify_tls=False), session, now)

    assert ssl_result.ok and ssl_result.reason.startswith("certificate valid for ")
    assert (http_result.ok, http_result.reason) == (True, "HTTP 200")
    assert ssl_result.cert_expires_at == http_result.cert_expires_at == not_after(cert)


async def test_a_certificate_for_another_name_is_a_hostname_mismatch(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=90), hosts=("probed.test",))
    async with serve(Target(), server_context(cert)) as target:
        assert target.server is not None
        url = f"https://localhost:{target.server.port}/"  # localhost comes from /etc/hosts
        result = await run_probe(check(url, "ssl", ca_file=ca_file), session, datetime.now(UTC))

    assert (result.ok, result.reason) == (
        False,
        "certificate verify failed: hostname mismatch, certificate is not valid for 'localhost'",
    )


async def test_an_ssl_check_times_dns_connect_and_handshake_separately(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=90))
    async with serve(Target(), server_context(cert)) as target:
        assert target.server is not None
        url = f"https://localhost:{target.server.port}/"
        result = await run_probe(check(url, "ssl", ca_file=ca_file), session, datetime.now(UTC))

    timings = result.timings
    assert result.ok
    assert timings.dns is not None and timings.connect is not None and timings.tls is not None
    assert timings.first_byte is None
    assert timings.dns + timings.connect + timings.tls <= timings.total


@pytest.mark.parametrize("kind", ["http", "keyword"])
async def test_an_http_check_on_https_records_the_certificate_expiry(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession, kind: str
) -> None:
    cert = issue(ca, expires_in=timedelta(days=5))
    async with serve(Target(), server_context(cert)) as target:
        keyword = {"keyword": "hello"} if kind == "keyword" else {}
        monitor = check(target.url("/parts"), kind, ca_file=ca_file, **keyword)
        result = await run_probe(monitor, session, datetime.now(UTC))

    # Recorded only: an expiring certificate does not fail an http or keyword check.
    assert result.ok
    assert result.cert_expires_at == not_after(cert)
    # The handshake is its own phase, apart from the TCP connect (ProbeConnector splits them).
    t = result.timings
    assert t.connect is not None and t.tls is not None and t.tls > 0
    assert t.connect + t.tls <= t.total


async def test_a_head_check_on_https_records_the_expiry_though_its_connection_closes_at_once(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=40))
    async with serve(Target(), server_context(cert)) as target:
        monitor = check(target.url("/moved"), "http", method="HEAD", ca_file=ca_file)
        result = await run_probe(monitor, session, datetime.now(UTC))

    assert (result.ok, result.reason) == (True, "HTTP 200")
    assert result.cert_expires_at == not_after(cert)


async def test_the_earliest_expiry_in_the_chain_wins_even_when_it_is_an_intermediate(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    chain = chain_with_intermediate(intermediate_days=20, leaf_days=90)
    (tmp_path / "root.pem").write_bytes(chain.root_pem)
    (tmp_path / "server.pem").write_bytes(chain.server_pem)
    context = server_context_from(tmp_path / "server.pem")
    ca_file = str(tmp_path / "root.pem")
    async with serve(Target(), context) as target:
        now = datetime.now(UTC)
        url = target.url("/status/200")
        ssl_result = await run_probe(check(url, "ssl", ca_file=ca_file), session, now)
        http_result = await run_probe(check(url, "http", ca_file=ca_file), session, now)

    days = (chain.intermediate_expires - now).days
    assert chain.intermediate_expires < chain.leaf_expires
    assert (ssl_result.ok, ssl_result.reason) == (False, f"certificate expires in {days} days")
    assert ssl_result.cert_expires_at == chain.intermediate_expires
    assert http_result.cert_expires_at == chain.intermediate_expires


async def test_tls_contexts_are_built_once_per_ca_file_and_again_when_it_changes(
    ca: trustme.CA, ca_file: str, session: aiohttp.ClientSession
) -> None:
    contexts = tls_contexts(session)
    first = contexts.get(verify=True, ca_file=ca_file)
    assert contexts.get(verify=True, ca_file=ca_file) is first

    cert = issue(ca, expires_in=timedelta(days=90))
    async with serve(Target(), server_context(cert)) as target:
        monitor = check(target.url("/status/200"), "http", ca_file=ca_file)
        trusted = await run_probe(monitor, session, datetime.now(UTC))
        trustme.CA().cert_pem.write_to_path(ca_file)  # the operator rotates the CA bundle
        rotated = await run_probe(monitor, session, datetime.now(UTC))

    assert contexts.get(verify=True, ca_file=ca_file) is not first
    assert trusted.ok
    assert rotated.reason == "certificate verify failed: unable to get local issuer certificate"


def server_context_from(path: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(path))
    return context
