"""A failed check's evidence (docs/design.md §17.2), built from what its PhaseTracker kept.

Built only once the verdict is known, so a good check pays nothing but the references the
tracker holds. Never reads from the network: the body is what the check read itself or what
already sits in the response's buffer. Bounded: at most MAX_HEADERS headers of MAX_VALUE
characters, ``evidence_bytes`` of body, MAX_VALUE characters of an error or fact; secrets the
monitor sends (header values, basic-auth password, URL password, push token) never appear.
"""

from __future__ import annotations

import base64
import codecs
import errno
import os
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import aiohttp
from cryptography import x509
from yarl import URL

from probed.config import HttpCheck, Monitor
from probed.config.push import PushCheck
from probed.evidence import MASK, Certificate, Evidence
from probed.probes.check import PhaseTracker

MAX_HEADERS = 100
MAX_VALUE = 1024
"""Characters of a header value, an error or a fact kept."""
MAX_SANS = 100
_MIN_SECRET = 4
"""Shorter secrets are not searched for in the body: masking every "ab" would garble it and
hide nothing worth hiding."""
_MASKED = frozenset({"set-cookie", "authorization", "proxy-authorization", "www-authenticate"})


def evidence_of(
    monitor: Monitor, tracker: PhaseTracker, exc: BaseException | None, reason: str
) -> Evidence:
    """What ``tracker`` kept of the failed check of ``monitor`` that ended with ``exc`` (None:
    the probe judged it) for ``reason``, as Evidence."""
    response = tracker.response
    fields: dict[str, Any] = {
        "url": monitor.display_url,
        "address": _address(tracker.address) or _failed_address(exc),
    }
    # Only what the target sent can hold a secret: the error is the check's reason (which
    # probed.probes.reasons words without one) or the system's words for an errno.
    if exc is not None:
        fields["error"] = (_os_error(exc) or reason)[:MAX_VALUE]
    if response is not None or tracker.facts:
        secrets = _secrets(monitor, tracker.secrets)
        if response is not None:
            sent = _sent_names(monitor.check)
            masked = _MASKED | sent if sent else _MASKED
            fields.update(_response(response, tracker, monitor.evidence_bytes, masked, secrets))
        fields["facts"] = tuple(
            (label[:MAX_VALUE], _scrub(value[:MAX_VALUE], secrets))
            for label, value in tracker.facts
        )
    if tracker.ssl_object is not None:
        fields["certificate"] = certificate(tracker.ssl_object)
    return Evidence(**fields)


def _response(
    response: aiohttp.ClientResponse,
    tracker: PhaseTracker,
    limit: int,
    masked: frozenset[str],
    secrets: tuple[str, ...],
) -> dict[str, Any]:
    version = response.version
    http_version = None if version is None else f"HTTP/{version.major}.{version.minor}"
    status = f"{http_version or 'HTTP'} {response.status} {response.reason or ''}".rstrip()
    headers: list[tuple[str, str]] = []
    # raw_headers, not headers: aiohttp decodes those with surrogateescape, and a lone
    # surrogate cannot be stored as UTF-8. Cut before decoding: a value may be 64 KiB.
    for raw_name, raw_value in response.raw_headers[:MAX_HEADERS]:
        name = raw_name[:MAX_VALUE].decode("utf-8", "backslashreplace")[:MAX_VALUE]
        if name.lower() in masked:
            headers.append((name, MASK))
            continue
        value = raw_value[:MAX_VALUE].decode("utf-8", "backslashreplace")[:MAX_VALUE]
        headers.append((name, _scrub(value, secrets)))
    content = response.content
    if tracker.body_read:  # keyword, json: what their own read produced
        data = tracker.body
        more = tracker.body_read > len(data) or not content.at_eof()
    else:  # status only: what arrived with the headers, never awaiting more
        data, more = _buffered(content, limit)
    body, shown = _decode(data, whole=not more)
    return {
        "http_version": http_version,
        "status_line": status[:MAX_VALUE],
        "headers": tuple(headers),
        "body": _scrub(body, secrets),
        "body_bytes": shown,
        "body_truncated": more,
    }


def _decode(data: bytes, *, whole: bool) -> tuple[str, int]:
    """``data`` as text, non-UTF-8 bytes escaped (``\\xff``), and how many bytes it shows: a
    character cut in two at the end of a part of a body is left out, not shown as escapes."""
    if whole:
        return data.decode("utf-8", "backslashreplace"), len(data)
    decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
    text = decoder.decode(data, final=False)
    return text, len(data) - len(decoder.getstate()[0])


def _buffered(content: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes in ``content``'s buffer, and whether there is or may be more.

    The buffer is aiohttp's private deque: read_nowait() would raise once the closed
    connection set an exception on the stream, and awaiting would read from the network.
    """
    buffer: Iterable[bytes] = getattr(content, "_buffer", ())
    offset: int = getattr(content, "_buffer_offset", 0)
    parts: list[bytes] = []
    size, more = 0, False
    for index, chunk in enumerate(buffer):
        piece = chunk[offset:] if index == 0 else chunk
        if size + len(piece) > limit:
            parts.append(piece[: limit - size])
            size, more = limit, True
            break
        parts.append(piece)
        size += len(piece)
    return b"".join(parts), more or not content.is_eof()


def certificate(ssl_object: Any) -> Certificate | None:
    """The leaf certificate of a TLS connection (usable after it closed); None when it showed
    none or one cryptography cannot read."""
    try:
        der = ssl_object.getpeercert(binary_form=True)
        if not der:
            return None
        cert = x509.load_der_x509_certificate(der)
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = [*names.get_values_for_type(x509.DNSName)]
            sans += [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            sans = []
        return Certificate(
            subject=cert.subject.rfc4514_string()[:MAX_VALUE],
            issuer=cert.issuer.rfc4514_string()[:MAX_VALUE],
            sans=tuple(san[:MAX_VALUE] for san in sans[:MAX_SANS]),
            not_after=cert.not_valid_after_utc,
        )
    except (ValueError, AttributeError):
        return None


def _os_error(exc: BaseException) -> str | None:
    """``ECONNREFUSED: Connection refused`` for the first OS error in ``exc``'s chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | aiohttp.ClientSSLError):
            return None  # OpenSSL's error numbers, not the system's: the reason says it
        if isinstance(current, aiohttp.ClientConnectorError):
            # An OSError itself, with its os_error's errno: name that one.
            current = current.os_error
            continue
        if (name := _errno_name(current)) is not None:
            return name
        current = current.__cause__ or current.__context__
    return None


def _errno_name(exc: BaseException) -> str | None:
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    if isinstance(exc, socket.gaierror):
        names = [n for n in dir(socket) if n.startswith("EAI_") and getattr(socket, n) == exc.errno]
        return f"{names[0] if names else 'EAI'}: {exc.strerror}"
    name = errno.errorcode.get(exc.errno)
    return None if name is None else f"{name}: {os.strerror(exc.errno)}"


def _address(peer: Any) -> str | None:
    """``127.0.0.1:8080`` or ``[::1]:443`` from a socket address; None for anything else."""
    if not isinstance(peer, tuple) or len(peer) < 2:
        return None
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _failed_address(exc: BaseException | None) -> str | None:
    """The address a connection failed to, when aiohttp names one (an address literal)."""
    if not isinstance(exc, aiohttp.ClientConnectorError):
        return None
    host = exc.host.strip("[]")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return _address((host, exc.port))
    return None  # a name: which of its addresses was tried is unknown


def _sent_names(check: object) -> frozenset[str]:
    """Lower-cased names of the headers the monitor sends: their values echoed back are its."""
    if not isinstance(check, HttpCheck):
        return frozenset()
    names = {name.lower() for name, _ in check.headers}
    if check.basic_auth is not None or check.oauth2 is not None:
        names.add("authorization")
    return frozenset(names)


def _secrets(monitor: Monitor, sent: Iterable[str] = ()) -> tuple[str, ...]:
    """Every secret the monitor sends (``sent``: those not in its config, an OAuth2 token), as
    it could come back in a body or a header."""
    found: list[str] = list(sent)
    check = monitor.check
    if isinstance(check, HttpCheck):
        found += [value for _, value in check.headers]
        if (auth := check.basic_auth) is not None:
            token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode("ascii")
            found += [auth.password, token]
        if (oauth2 := check.oauth2) is not None:
            found.append(oauth2.client_secret)
        if check.proxy is not None and "@" in check.proxy:
            proxy = URL(check.proxy)
            credentials = f"{proxy.user or ''}:{proxy.password or ''}".encode()
            found += [proxy.password or "", base64.b64encode(credentials).decode("ascii")]
    if isinstance(check, PushCheck):
        found.append(check.token)
    if "@" in monitor.url:  # the only way a URL holds a password
        try:
            url = URL(monitor.url)
            found += [url.password or "", url.raw_password or ""]
        except ValueError:
            pass
    if not found:
        return ()
    # Longest first, so that a secret containing another is masked whole.
    return tuple(sorted({s for s in found if len(s) >= _MIN_SECRET}, key=len, reverse=True))


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
