"""Words for check results: exceptions become short reasons a person can read.

The reasons are part of the contract (alert emails, API, status page), so they name what went
wrong at the target and leave library detail (host:port, class names, tracebacks) out.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl

import aiohttp

from probed.probes.check import ProbeError
from probed.redact import redact

_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection reset",
    errno.ETIMEDOUT: "connection timed out",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
}


_LOCAL_ERRNOS = {
    errno.EMFILE: "too many open files",
    errno.ENFILE: "too many open files in the system",
    errno.ENOBUFS: "no buffer space",
    errno.ENOMEM: "out of memory",
    errno.ENETUNREACH: "no route to the network",
    errno.EADDRNOTAVAIL: "no local address available",
}
"""Failures of the probe host's own resources or routing: they say nothing about the target."""


_BIND_ERRNOS = frozenset({errno.EADDRNOTAVAIL, errno.EADDRINUSE})
"""What binding a socket to a source address fails with: not an address of this host, or no
port left on it."""


def local_failure(exc: BaseException, source_address: str | None = None) -> str | None:
    """``probe host: …`` when ``exc`` came from the probe host itself (descriptors, buffers,
    memory, its routing table, a ``source_address`` it cannot send from), else None: such a
    check must not count against the target."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if source_address is not None and _bind_failure(current):
            assert isinstance(current, OSError)
            why = _sentence_part(os.strerror(current.errno or 0))
            return f"probe host: cannot send from source_address {source_address} ({why})"
        if isinstance(current, OSError) and current.errno in _LOCAL_ERRNOS:
            return f"probe host: {_LOCAL_ERRNOS[current.errno]}"
        if isinstance(current, aiohttp.ClientConnectorError):
            current = current.os_error
        else:
            current = current.__cause__ or current.__context__
    return None


def _bind_failure(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _BIND_ERRNOS


def describe_error(exc: BaseException) -> str:
    """The reason for a check that ended with ``exc`` (timeouts are the caller's to word)."""
    return target_reason(exc) or f"unexpected error: {_unexpected(exc)}"


def own_failure(exc: BaseException) -> str | None:
    """``probe host: unexpected error: …`` when ``exc`` is none of the ways a target fails
    (a bug in probed, such as a request the HTTP client refuses to build), else None: such a
    check says nothing about the target and must not count against it."""
    if target_reason(exc) is not None:
        return None
    return f"probe host: unexpected error: {_unexpected(exc)}"


def _unexpected(exc: BaseException) -> str:
    # The message may quote the request's URL: its password stays hidden.
    return redact(f"{type(exc).__name__}: {exc}")


def target_reason(exc: BaseException) -> str | None:
    """The reason for ``exc`` when it is a known way for a target to fail, else None."""
    if isinstance(exc, ProbeError):
        return str(exc)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"proxy refused CONNECT: HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"proxy: {describe_error(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return describe_error(exc.certificate_error)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS lookup failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return describe_error(exc.os_error)
    if isinstance(exc, aiohttp.ServerFingerprintMismatch):
        return "certificate fingerprint mismatch"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection without a response"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "invalid HTTP response body"
    if isinstance(exc, aiohttp.RedirectClientError):
        return "invalid redirect location"
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return "invalid URL"
    if isinstance(exc, aiohttp.ClientResponseError):
        # Raised while parsing the status line and headers (we never raise_for_status).
        return "invalid HTTP response"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {_sentence_part(exc.verify_message or exc.reason)}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {_ssl_reason(exc)}"
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.errno is not None:
        return _ERRNO_REASONS.get(exc.errno) or _sentence_part(os.strerror(exc.errno))
    if isinstance(exc, aiohttp.ClientError | OSError):
        return _sentence_part(str(exc)) or type(exc).__name__
    return None


def _ssl_reason(exc: ssl.SSLError) -> str:
    # OpenSSL's reason codes (WRONG_VERSION_NUMBER) read well once lower-cased; the message
    # text around them repeats the library, the function and the source line.
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.lower().replace("_", " ")
    return _sentence_part(str(exc)) or type(exc).__name__


def _sentence_part(text: str | None) -> str:
    """``Hostname mismatch, … 'x'.`` → ``hostname mismatch, … 'x'``: a clause in our reasons."""
    text = (text or "").strip().rstrip(".")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text


def format_size(size: int) -> str:
    """``10485760`` → ``10 MiB``, ``1536`` → ``1.5 KiB``, ``100`` → ``100 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} bytes"


def format_days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"
