"""The ``tcp`` probe: a connection to ``tcp://host:port`` and, with ``tls``, a TLS handshake
judged on certificate expiry as the ssl probe judges it."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import aiohttp

from probed.config import Monitor, TcpCheck
from probed.probes.check import PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.tls import handshake, judge_expiry, open_socket, tls_contexts

# The resolver's "this name does not exist" answers; others (EAI_AGAIN, a broken resolver)
# keep the general "DNS lookup failed".
_NO_SUCH_HOST = frozenset(
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
)


async def probe_tcp(
    monitor: Monitor, check: TcpCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up when the connection opens (and, with ``tls``, the handshake succeeds and the chain's
    earliest expiry is at least ``ssl_expiry_days`` away)."""
    parts = urlsplit(monitor.url)
    host, port = parts.hostname, parts.port
    if not host or port is None:
        raise ProbeError("invalid URL")  # the config rejects these; `probed probe` may not
    # Built before connecting: an unreadable ca_file is the check's reason, not a dropped
    # connection the target would see.
    context = (
        tls_contexts(session).get(verify=monitor.verify_tls, ca_file=monitor.ca_file)
        if check.tls
        else None
    )
    try:
        sock = await open_socket(host, port, tracker, monitor.source_address)
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_HOST:
            raise ProbeError("no such host") from exc
        raise
    if context is None:
        sock.close()
        return ProbeOutcome(True, "connected")
    expires_at = await handshake(sock, host, context, tracker)
    if expires_at is None:
        raise ProbeError("no certificate presented")
    tracker.record_cert_expiry(expires_at)
    return judge_expiry(expires_at, tracker.now, check.ssl_expiry_days)
