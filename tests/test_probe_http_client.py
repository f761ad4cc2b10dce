"""HTTP client options against real loopback servers: mutual TLS, a forward proxy and OAuth2
client credentials (docs/design.md §19.4)."""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from probed.config import Monitor
from probed.config.http_client import OAuth2
from probed.probes import make_session, run_probe
from probed.probes.tls import TLSContexts
from tests.kit.certs import issue, server_context, write_ca
from tests.kit.monitors import make_monitor
from tests.kit.proxy import Proxy, serve_proxy
from tests.kit.servers import Target, serve
from tests.kit.token_server import TokenServer, serve_tokens

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def monitor(url: str, kind: str = "http", **options: object) -> Monitor:
    options.setdefault("timeout", 5)
    if kind == "keyword":
        options.setdefault("keyword", "hello")
    if kind == "json":
        options.setdefault("json_query", "ok")
    return make_monitor(kind=kind, url=url, **options)


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    return write_ca(ca, tmp_path)


@pytest.fixture
def client_pair(ca: trustme.CA, tmp_path: Path) -> tuple[str, str]:
    cert = ca.issue_cert("probe.example.test")
    cert_path, key_path = tmp_path / "client.pem", tmp_path / "client.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return str(cert_path), str(key_path)


def mutual_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A server context that refuses a client without a certificate from ``ca``."""
    context = server_context(issue(ca, expires_in=timedelta(days=90)))
    context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(context)
    return context


# --- mutual TLS --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http", "keyword"])
async def test_a_client_certificate_from_the_servers_ca_is_accepted(
    ca: trustme.CA, ca_file: str, client_pair: tuple[str, str], kind: str
) -> None:
    cert, key = client_pair
    async with serve(Target(), mutual_tls(ca)) as target, make_session() as session:
        url = target.url("/parts")
        result = await run_probe(
            monitor(url, kind, ca_file=ca_file, client_cert=cert, client_key=key), session, NOW
        )
    assert result.ok, result.reason
    assert result.timings.tls is not None


async def test_without_a_client_certificate_the_server_refuses_the_check(
    ca: trustme.CA, ca_file: str
) -> None:
    async with serve(Target(), mutual_tls(ca)) as target, make_session() as session:
        result = await run_probe(monitor(target.url("/status/200"), ca_file=ca_file), session, NOW)
    assert not result.ok
    # TLS 1.3 sends the refusal after the handshake: it shows as an alert or a closed connection.
    assert "certificate required" in result.reason or "closed" in result.reason, result.reason


async def test_a_client_key_gone_at_check_time_is_a_readable_failure(
    ca: trustme.CA, ca_file: str, client_pair: tuple[str, str]
) -> None:
    cert, key = client_pair
    os.unlink(key)
    async with make_session() as session:
        result = await run_probe(
            monitor("https://127.0.0.1:9/", ca_file=ca_file, client_cert=cert, client_key=key),
            session,
            NOW,
        )
    assert not result.ok
    assert result.reason.startswith("cannot read client_key ")


def test_contexts_are_cached_per_certificate_pair_and_rebuilt_when_one_changes(
    ca: trustme.CA, ca_file: str, client_pair: tuple[str, str], tmp_path: Path
) -> None:
    cert, key = client_pair
    contexts = TLSContexts()
    first = contexts.get(verify=True, ca_file=ca_file, client_cert=cert, client_key=key)
    assert contexts.get(verify=True, ca_file=ca_file, client_cert=cert, client_key=key) is first
    assert contexts.get(verify=True, ca_file=ca_file) is not first
    other = ca.issue_cert("other.example.test")
    other.cert_chain_pems[0].write_to_path(cert)
    other.private_key_pem.write_to_path(key)
    assert contexts.get(verify=True, ca_file=ca_file, client_cert=cert, client_key=key) is not first


# --- proxy -------------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_https_goes_through_the_proxy_with_connect_and_its_credentials(
    ca: trustme.CA, ca_file: str
) -> None:
    cert = issue(ca, expires_in=timedelta(days=90))
    async with (
        serve(Target(), server_context(cert)) as target,
        serve_proxy() as proxy,
        make_session() as session,
    ):
        url = target.url("/status/200")
        check = monitor(url, ca_file=ca_file, proxy=proxy.url_with("bob", "pr0xy-pass"))
        result = await run_probe(check, session, NOW)
    assert result.ok, result.reason
    assert [(r.method, r.target, r.proxy_authorization) for r in proxy.seen] == [
        ("CONNECT", url.split("/")[2], basic("bob", "pr0xy-pass"))
    ]
    # connect: TCP to the proxy and its answer to CONNECT; tls: the target's handshake.
    t = result.timings
    assert t.connect is not None and t.tls is not None and t.tls > 0
    assert t.connect + t.tls <= t.total
    assert result.cert_expires_at is not None


async def test_http_goes_through_the_proxy_in_absolute_form() -> None:
    async with serve(Target()) as target, serve_proxy() as proxy, make_session() as session:
        url = target.url("/parts")
        check = monitor(url, "keyword", proxy=proxy.url_with("bob", "pr0xy-pass"))
        result = await run_probe(check, session, NOW)
    assert result.ok, result.reason
    assert [(r.method, r.target, r.proxy_authorization) for r in proxy.seen] == [
        ("GET", url, basic("bob", "pr0xy-pass"))
    ]
    # The proxy forwarded it; the target never sees the proxy's credentials.
    assert [s.path for s in target.seen] == ["/parts"]
    assert "Proxy-Authorization" not in target.seen[0].headers


async def test_a_proxy_that_never_answers_connect_is_one_failed_check_within_the_timeout() -> None:
    async with serve_proxy(Proxy(silent=True)) as proxy, make_session() as session:
        check = monitor(
            "https://127.0.0.1:9/", timeout=0.5, proxy=proxy.url_with("bob", "pr0xy-pass")
        )
        result = await run_probe(check, session, NOW)
    assert not result.ok
    assert result.reason == "timeout after 500ms waiting for the proxy's answer to CONNECT"
    assert result.timings.total < 2
    assert result.evidence is not None
    assert result.evidence.address == f"127.0.0.1:{proxy.port}"  # the proxy's, reached
    assert "pr0xy-pass" not in repr(result.evidence) and "pr0xy-pass" not in result.reason


async def test_a_proxy_refusing_connect_names_its_status() -> None:
    async with serve_proxy(Proxy(refuse=407)) as proxy, make_session() as session:
        result = await run_probe(monitor("https://127.0.0.1:9/", proxy=proxy.url), session, NOW)
    assert not result.ok
    assert result.reason == "proxy refused CONNECT: HTTP 407"


async def test_a_proxy_that_is_not_listening_says_so() -> None:
    async with serve_proxy() as proxy:
        url = proxy.url
    async with make_session() as session:
        result = await run_probe(monitor("http://127.0.0.1:9/", proxy=url), session, NOW)
    assert not result.ok
    assert result.reason == "proxy: connection refused"


# --- OAuth2 ------------------------------------------------------------------------------------


@pytest.fixture
async def tokens() -> AsyncIterator[TokenServer]:
    async with serve_tokens() as server:
        yield server


def oauth2(tokens: TokenServer, scopes: tuple[str, ...] = ("read", "probe")) -> OAuth2:
    return OAuth2(tokens.url("/token"), "probe-client", "cl1ent-s3cret", scopes)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_token_is_fetched_once_and_reused_until_shortly_before_it_expires(
    tokens: TokenServer,
) -> None:
    clock = Clock()
    check = monitor(tokens.url("/api"), "json", oauth2=oauth2(tokens))
    async with make_session() as session:
        first = await run_probe(check, session, NOW, clock)
        clock.now += 200
        second = await run_probe(check, session, NOW, clock)
        clock.now += 90  # 290 s: inside the 30 s margin before the 300 s expiry
        third = await run_probe(check, session, NOW, clock)
    assert [first.ok, second.ok, third.ok] == [True, True, True]
    assert tokens.issued == 2
    assert tokens.forms[0] == {
        "grant_type": "client_credentials",
        "client_id": "probe-client",
        "client_secret": "cl1ent-s3cret",
        "scope": "read probe",
    }


@pytest.mark.parametrize(
    ("expires_in", "kept"),
    [(None, 3570.0), ("120", 108.0), (120, 108.0), (-5, 3570.0), (True, 3570.0)],
)
async def test_a_tokens_lifetime_comes_from_expires_in_or_defaults_to_an_hour(
    tokens: TokenServer, expires_in: object, kept: float
) -> None:
    clock = Clock()
    tokens.expires_in = expires_in
    check = monitor(tokens.url("/api"), oauth2=oauth2(tokens))
    async with make_session() as session:
        await run_probe(check, session, NOW, clock)
        clock.now += kept - 0.5
        await run_probe(check, session, NOW, clock)
        assert tokens.issued == 1
        clock.now += 1
        await run_probe(check, session, NOW, clock)
    assert tokens.issued == 2


async def test_a_token_refused_with_401_is_replaced_once_and_the_request_retried(
    tokens: TokenServer,
) -> None:
    check = monitor(tokens.url("/api"), oauth2=oauth2(tokens))
    async with make_session() as session:
        assert (await run_probe(check, session, NOW)).ok
        tokens.revoked.add("tok-1-abcdef")
        retried = await run_probe(check, session, NOW)
        tokens.revoked.add("tok-2-abcdef")
        tokens.answer = None
        # The API refuses every token from now on: one refresh, one retry, then the 401 stands.
        tokens.revoked.add("tok-3-abcdef")
        refused = await run_probe(check, session, NOW)
    assert retried.ok and retried.reason == "HTTP 200"
    assert not refused.ok and refused.reason == "HTTP 401, expected 2xx"
    assert tokens.issued == 3


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((500, "text/plain", "boom"), "oauth2 token endpoint: HTTP 500"),
        (
            (200, "text/html", "<html>login</html>"),
            "oauth2 token endpoint: answer is not JSON (text/html)",
        ),
        (
            (200, "application/json", '{"token_type": "Bearer"}'),
            "oauth2 token endpoint: no access_token in the answer",
        ),
    ],
)
async def test_a_token_endpoint_failure_is_the_checks_failure_with_its_own_reason(
    tokens: TokenServer, answer: tuple[int, str, str], reason: str
) -> None:
    tokens.answer = answer
    async with make_session() as session:
        result = await run_probe(monitor(tokens.url("/api"), oauth2=oauth2(tokens)), session, NOW)
    assert not result.ok
    assert result.reason == reason
    assert result.status_code is None  # the target was never asked


async def test_a_token_endpoint_that_never_answers_is_a_timeout_that_names_it(
    tokens: TokenServer,
) -> None:
    tokens.hang = True
    check = monitor(tokens.url("/api"), timeout=0.5, oauth2=oauth2(tokens))
    async with make_session() as session:
        result = await run_probe(check, session, NOW)
    assert not result.ok
    assert result.reason == "timeout after 500ms waiting for the oauth2 token endpoint"
    assert result.status_code is None


async def test_neither_the_secret_nor_the_token_appears_in_a_failed_checks_evidence(
    tokens: TokenServer,
) -> None:
    check = monitor(tokens.url("/api"), "keyword", keyword="never there", oauth2=oauth2(tokens))
    async with make_session() as session:
        result = await run_probe(check, session, NOW)
    assert not result.ok
    assert result.evidence is not None
    shown = repr(result.evidence)
    assert "tok-1-abcdef" not in shown and "cl1ent-s3cret" not in shown
    assert "***" in shown  # the body echoed the token: masked
    assert "cl1ent-s3cret" not in repr(check)


async def test_the_token_request_goes_through_the_monitors_proxy(tokens: TokenServer) -> None:
    async with serve_proxy() as proxy, make_session() as session:
        check = monitor(tokens.url("/api"), oauth2=oauth2(tokens), proxy=proxy.url)
        result = await run_probe(check, session, NOW)
    assert result.ok, result.reason
    assert [r.method for r in proxy.seen] == ["POST", "GET"]
