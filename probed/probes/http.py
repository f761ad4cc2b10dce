"""The ``http`` and ``keyword`` probes: one request (a HEAD refused with 405/501 is retried once
as GET), judged on the status code and, for keyword monitors, on a bounded read of the body."""

from __future__ import annotations

import base64
import codecs
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from ssl import SSLContext

import aiohttp
from aiohttp.connector import Connection
from yarl import URL

from probed.config import HttpCheck, KeywordCheck, Monitor
from probed.model import TlsFacts
from probed.probes.check import HttpNotes, PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.oauth2 import tokens_of
from probed.probes.reasons import format_size
from probed.probes.tls import source_of, tls_contexts, transport_tls

_CHUNK = 64 * 1024
"""Bytes asked of the body stream per read: aiohttp's own read buffer size."""
_HEAD_REFUSED = frozenset({405, 501})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class CertRecordingResponse(aiohttp.ClientResponse):
    """A response that notes its connection's certificate expiry the moment it starts.

    By the time a caller holds the response the connection may be gone: aiohttp releases it as
    soon as an empty body ends (always, for HEAD), and the probe connector closes what is released.
    """

    cert_expires_at: datetime | None = None
    tls: TlsFacts | None = None

    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        self.cert_expires_at, self.tls = transport_tls(connection.transport)
        return await super().start(connection)


async def probe_http(
    monitor: Monitor, check: HttpCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up when the status code is expected; the body is never read."""
    method = check.method.upper()
    async with request(monitor, check, session, tracker, method) as response:
        status = response.status
    if method == "HEAD" and status in _HEAD_REFUSED:
        # Plenty of servers refuse HEAD; the question is whether the page is served.
        async with request(monitor, check, session, tracker, "GET") as response:
            status = response.status
    return judge_status(check, status)


async def probe_keyword(
    monitor: Monitor, check: KeywordCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """GET; up when the status is expected and the keyword is in (or, with ``keyword_absent``,
    not in) the first ``max_body`` bytes of the body."""
    keyword = check.keyword
    async with request(monitor, check, session, tracker, "GET") as response:
        notes = tracker.http
        assert notes is not None  # request() made them
        notes.failed_due_to_keyword = False
        if not status_ok(check, response.status):
            return judge_status(check, response.status)
        found, truncated = await search_body(
            response,
            keyword,
            case_sensitive=check.keyword_case_sensitive,
            limit=check.max_body,
            seen=lambda chunk: tracker.read_body(chunk, monitor.evidence_bytes),
        )
        notes.failed_due_to_keyword = found == check.keyword_absent
    shown = f'keyword "{keyword}"'
    within = f" in first {format_size(check.max_body)}" if truncated else ""
    if check.keyword_absent:
        return ProbeOutcome(not found, f"{shown} found" if found else f"{shown} not found{within}")
    return ProbeOutcome(found, f"{shown} found" if found else f"{shown} not found{within}")


async def search_body(
    response: aiohttp.ClientResponse,
    keyword: str,
    *,
    case_sensitive: bool,
    limit: int,
    seen: Callable[[bytes], None] | None = None,
) -> tuple[bool, bool]:
    """(found, truncated): stream at most ``limit`` bytes of the body, decoded as it arrives,
    stopping at the first match; each chunk read goes to ``seen`` too. ``truncated``: the limit
    was reached with body left unread.

    Memory stays at one chunk plus ``len(keyword)`` characters carried over, so that a keyword
    split across two chunks (or a multi-byte character split across two reads) is still found.
    """
    fold: Callable[[str], str] = (lambda text: text) if case_sensitive else str.casefold
    needle = fold(keyword)
    # casefold never shortens text, so a match spans at most len(needle) original characters.
    keep = len(needle) - 1
    decoder = codecs.getincrementaldecoder(_charset(response))(errors="replace")
    tail = ""
    left = limit
    while left > 0:
        chunk = await response.content.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        if seen is not None:
            seen(chunk)
        text = tail + decoder.decode(chunk)
        if needle in fold(text):
            return True, False
        tail = text[-keep:] if keep else ""
    if needle in fold(tail + decoder.decode(b"", final=True)):
        return True, False
    return False, left <= 0 and not response.content.at_eof()


def _charset(response: aiohttp.ClientResponse) -> str:
    try:
        return codecs.lookup(response.charset or "utf-8").name
    except LookupError:  # a charset Python does not know: UTF-8 is the likeliest truth
        return "utf-8"


@asynccontextmanager
async def request(
    monitor: Monitor,
    check: HttpCheck,
    session: aiohttp.ClientSession,
    tracker: PhaseTracker,
    method: str,
) -> AsyncIterator[aiohttp.ClientResponse]:
    url, body = URL(monitor.url), check.body
    if source_of(session) != monitor.source_address:
        # The source address of an http check is its session's (ProbeSessions.get): a check
        # from any other would be sent from the wrong place and look fine.
        raise ProbeError(f"no session for source_address {monitor.source_address}")
    notes = tracker.http = tracker.http or HttpNotes()
    notes.redirects = 0  # a HEAD retried as GET: the GET's redirects count
    # Redirects are followed here rather than by aiohttp, which forwards custom headers (an
    # X-Api-Key, say) to whatever origin a redirect names; it only drops Authorization.
    follow = check.follow_redirects and check.max_redirects > 0
    context = tls_contexts(session).get(
        verify=monitor.verify_tls,
        ca_file=monitor.ca_file,
        client_cert=check.client_cert,
        client_key=check.client_key,
    )
    token = await _token(check, session, tracker, context)
    headers = _headers(check, token)
    hops = 0
    refreshed = False
    while True:
        response = await session.request(
            method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            ssl=context,
            proxy=check.proxy,
            trace_request_ctx=tracker,
        )
        tracker.status_code = response.status
        tracker.response = response
        tracker.record_cert_expiry(getattr(response, "cert_expires_at", None))
        tracker.tls = getattr(response, "tls", None)
        if (version := response.version) is not None:
            notes.version = version.major + version.minor / 10
        notes.content_length = -1 if response.content_length is None else response.content_length
        if response.status == 401 and token is not None and hops == 0 and not refreshed:
            # A token the server no longer takes (revoked, or expired early): one fresh token
            # and one retry, never a loop.
            response.close()
            tracker.response_done()
            assert check.oauth2 is not None  # a token comes from it
            tokens_of(session).forget(check.oauth2, token)
            refreshed = True
            token = await _token(check, session, tracker, context)
            headers = _headers(check, token)
            continue
        location = response.headers.get("Location")
        if not follow or response.status not in _REDIRECTS or not location:
            break
        response.close()
        tracker.response_done()
        hops += 1
        notes.redirects = hops
        if hops >= check.max_redirects:
            raise ProbeError("too many redirects")
        # The evidence is of the last response: a next hop that fails shows no stale one.
        tracker.response = tracker.address = tracker.ssl_object = None
        target = _redirect_target(url, location)
        if target.origin() != url.origin():
            headers = []  # the configured headers and credentials were meant for one origin
        if (response.status == 303 and method != "HEAD") or (
            response.status in (301, 302) and method == "POST"
        ):
            method, body = "GET", None
        url = target
    try:
        yield response
    finally:
        # close, not release: the unread rest of the body is of no use, and closing never
        # waits to drain it.
        response.close()
        tracker.response_done()


def _redirect_target(url: URL, location: str) -> URL:
    try:
        target = url.join(URL(location)).with_fragment(None)
    except ValueError:
        raise ProbeError("invalid redirect location") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise ProbeError("invalid redirect location")
    return target


async def _token(
    check: HttpCheck, session: aiohttp.ClientSession, tracker: PhaseTracker, context: SSLContext
) -> str | None:
    if check.oauth2 is None:
        return None
    token = await tokens_of(session).get(
        check.oauth2, session, tracker, proxy=check.proxy, ssl_context=context
    )
    tracker.secrets.append(token)
    return token


def _headers(check: HttpCheck, token: str | None = None) -> list[tuple[str, str]]:
    headers = list(check.headers)
    has_authorization = any(name.lower() == "authorization" for name, _ in headers)
    if token is not None:  # the reader refuses oauth2 with another Authorization
        headers.append(("Authorization", f"Bearer {token}"))
    elif check.basic_auth is not None and not has_authorization:
        auth = check.basic_auth
        basic = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
        headers.append(("Authorization", f"Basic {basic}"))
    return headers


def status_ok(check: HttpCheck, status: int) -> bool:
    return any(status in accepted for accepted in check.expect_status)


def judge_status(check: HttpCheck, status: int) -> ProbeOutcome:
    if status_ok(check, status):
        return ProbeOutcome(True, f"HTTP {status}")
    return ProbeOutcome(False, f"HTTP {status}, expected {check.expected_status_text()}")
