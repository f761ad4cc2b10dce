"""Certificates: the ``ssl`` probe, the earliest expiry of a connection's chain, and the TLS
contexts every probe shares (cached on the session's connector)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509

from probed.config import Monitor, SslCheck
from probed.model import TlsFacts
from probed.probes.check import CONNECTING, Phase, PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.oauth2 import OAuth2Tokens
from probed.probes.reasons import format_days

TO_PROXY = "a connection to the proxy"
"""What a check through a proxy's tunnel awaits first (PhaseTracker.awaiting)."""
_CacheKey = tuple[str | None, bool, str | None, str | None]
_FileStamp = tuple[tuple[int, int, int] | None, ...]


class TLSContexts:
    """SSLContexts by (ca_file, verify_tls, client_cert, client_key), rebuilt when one of
    those files changes on disk.

    Building a context reads and parses a trust store, which costs more than a whole check
    against a nearby target; doing it once per configuration keeps checks cheap.
    """

    def __init__(self) -> None:
        self._contexts: dict[_CacheKey, tuple[_FileStamp, ssl.SSLContext]] = {}

    def get(
        self,
        *,
        verify: bool,
        ca_file: str | None,
        client_cert: str | None = None,
        client_key: str | None = None,
    ) -> ssl.SSLContext:
        """Raises ProbeError when ``ca_file`` cannot be read or holds no certificate, or the
        client certificate and key (mutual TLS: both or neither) cannot be loaded."""
        ca_file = ca_file if verify else None
        key: _CacheKey = (ca_file, verify, client_cert, client_key)
        stamp = (
            _stamp("ca_file", ca_file),
            _stamp("client_cert", client_cert),
            _stamp("client_key", client_key),
        )
        cached = self._contexts.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        context = _build_context(verify=verify, ca_file=ca_file)
        if client_cert is not None and client_key is not None:
            try:
                context.load_cert_chain(client_cert, client_key)
            except (OSError, ssl.SSLError) as exc:
                detail = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
                raise ProbeError(f"cannot load client_cert/client_key: {detail}") from exc
        self._contexts[key] = (stamp, context)
        return context


def _stamp(name: str, path: str | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ProbeError(f"cannot read {name} {path}: {exc.strerror}") from exc
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _build_context(*, verify: bool, ca_file: str | None) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        # With a cafile, create_default_context trusts only that bundle, not the system store.
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"cannot load ca_file {ca_file}: {exc}") from exc


class ProbeConnector(aiohttp.TCPConnector):
    """A TCPConnector that also owns the TLS contexts of the checks made through it, and
    connects from ``source_address`` when one is given.

    The connector is the one long-lived object every check already receives (through the
    session), so the context cache lives here rather than in a module global.
    """

    def __init__(self, *, source_address: str | None = None, **kwargs: Any) -> None:
        if source_address is not None:
            kwargs["local_addr"] = (source_address, 0)
            # Only the source's family can connect from it: resolve host names to that family.
            kwargs["family"] = address_family(source_address)
        super().__init__(**kwargs)
        self.source_address = source_address
        self.tls_contexts = TLSContexts()
        self.oauth2_tokens = OAuth2Tokens()

    async def _create_proxy_connection(self, req: Any, *args: Any, **kwargs: Any) -> Any:
        # A tunnel (https through the proxy): once the TCP connection to the proxy is open
        # (_wrap_create_connection), the check waits for the proxy's answer to CONNECT.
        tracker = CONNECTING.get()
        if tracker is not None and req.is_ssl():
            tracker.awaiting = TO_PROXY
        made = await super()._create_proxy_connection(req, *args, **kwargs)
        # Not cleared on the way out of a timeout: its reason names what was awaited.
        if tracker is not None:
            tracker.awaiting = None
        return made

    async def _start_tls_connection(self, *args: Any, **kwargs: Any) -> Any:
        # Through a proxy's tunnel TLS starts on the open connection, not in
        # _wrap_create_connection: the proxy's CONNECT answer ends the connect phase here.
        tracker = CONNECTING.get()
        if tracker is None:
            return await super()._start_tls_connection(*args, **kwargs)
        tracker.awaiting = None
        tracker.stop(Phase.CONNECT)
        tracker.start(Phase.TLS)
        transport, protocol = await super()._start_tls_connection(*args, **kwargs)
        tracker.ssl_object = transport.get_extra_info("ssl_object")
        return transport, protocol

    async def _wrap_create_connection(  # type: ignore[override]  # same call, fewer names
        self, factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> Any:
        # aiohttp opens the socket and then has the loop wrap it in TLS, with no trace signal
        # between the two. The loop asks for the protocol once the TCP connection is open and
        # just before the handshake starts: the one moment that splits connect from tls.
        tracker = CONNECTING.get()
        if tracker is None:
            return await super()._wrap_create_connection(factory, *args, **kwargs)

        def handshake_starts() -> asyncio.BaseProtocol:
            tracker.stop(Phase.CONNECT)
            tracker.start(Phase.TLS)
            return factory()

        made = factory if not kwargs.get("ssl") else handshake_starts
        transport, protocol = await super()._wrap_create_connection(made, *args, **kwargs)
        # For a failed check's evidence, even one that never sees a response: references only.
        tracker.address = transport.get_extra_info("peername")
        tracker.ssl_object = transport.get_extra_info("ssl_object")
        if tracker.awaiting == TO_PROXY:
            tracker.awaiting = "the proxy's answer to CONNECT"
        return transport, protocol


def address_family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def source_of(session: aiohttp.ClientSession) -> str | None:
    """The source address the session's connections are made from; None: the system's choice."""
    connector = session.connector
    return connector.source_address if isinstance(connector, ProbeConnector) else None


def tls_contexts(session: aiohttp.ClientSession) -> TLSContexts:
    connector = session.connector
    if isinstance(connector, ProbeConnector):
        return connector.tls_contexts
    return TLSContexts()  # a session not made by make_session: correct, only uncached


def earliest_expiry(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> datetime | None:
    """Earliest notAfter (UTC) in the peer's chain: the verified chain (trust anchor included)
    when the context verifies, else the chain the peer sent; the leaf alone as a last resort."""
    verifying = ssl_object.context.verify_mode != ssl.CERT_NONE
    name = "get_verified_chain" if verifying else "get_unverified_chain"
    # Public on SSLObject from Python 3.13; on 3.11/3.12 only the private _sslobj has it.
    getter = getattr(ssl_object, name, None) or getattr(
        getattr(ssl_object, "_sslobj", None), name, None
    )
    chain: list[Any] = list(getter() or ()) if callable(getter) else []
    certs = [_load_cert(cert) for cert in chain]
    if not certs:
        leaf = ssl_object.getpeercert(binary_form=True)
        certs = [x509.load_der_x509_certificate(leaf)] if leaf else []
    return min((cert.not_valid_after_utc for cert in certs), default=None)


def _load_cert(cert: Any) -> x509.Certificate:
    if isinstance(cert, bytes):  # 3.13+: DER
        return x509.load_der_x509_certificate(cert)
    pem: str = cert.public_bytes()  # 3.11/3.12: _ssl.Certificate, PEM by default
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def transport_tls(
    transport: asyncio.BaseTransport | None,
) -> tuple[datetime | None, TlsFacts | None]:
    """Earliest expiry of a TLS transport's chain and the connection's facts; (None, None) for
    plain TCP. Call it while the connection is open: a closed transport no longer offers its
    ``ssl_object``."""
    if transport is None:
        return None, None
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None, None
    try:
        expires_at = earliest_expiry(ssl_object)
    except ValueError:
        # A certificate cryptography cannot parse is no reason to fail an HTTP check.
        expires_at = None
    return expires_at, tls_facts(ssl_object, expires_at)


def tls_facts(ssl_object: ssl.SSLObject | ssl.SSLSocket, expires_at: datetime | None) -> TlsFacts:
    """``expires_at``: earliest_expiry(ssl_object), which is the verified chain's when the
    context verifies (and then also its "last chain" expiry)."""
    version = ssl_object.version() or ""
    verified = ssl_object.context.verify_mode != ssl.CERT_NONE
    return TlsFacts(
        # "TLSv1.3" → "TLS 1.3", as Go's tls.VersionName and so blackbox_exporter spell it.
        version=version.replace("TLSv", "TLS ") if version.startswith("TLSv") else "unknown",
        last_chain_expires_at=expires_at if verified else None,
    )


async def probe_ssl(
    monitor: Monitor, check: SslCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """TLS handshake with the URL's host; judged on the earliest expiry in the chain."""
    host, port = _target(monitor.url)
    context = tls_contexts(session).get(verify=monitor.verify_tls, ca_file=monitor.ca_file)
    sock = await open_socket(host, port, tracker, monitor.source_address)
    expires_at = await handshake(sock, host, context, tracker)
    if expires_at is None:
        raise ProbeError("no certificate presented")
    tracker.record_cert_expiry(expires_at)
    return judge_expiry(expires_at, tracker.now, check.ssl_expiry_days)


async def handshake(
    sock: socket.socket, host: str, context: ssl.SSLContext, tracker: PhaseTracker
) -> datetime | None:
    """TLS over the connected ``sock`` (closed on return): the earliest expiry of the chain."""
    with tracker.phase(Phase.TLS):
        try:
            _, writer = await asyncio.open_connection(sock=sock, ssl=context, server_hostname=host)
        except BaseException:
            sock.close()
            raise
    try:
        ssl_object = tracker.ssl_object = writer.get_extra_info("ssl_object")
        expires_at = earliest_expiry(ssl_object)
        tracker.tls = tls_facts(ssl_object, expires_at)
        return expires_at
    finally:
        # abort, not close: a graceful TLS shutdown waits for the peer's close_notify, and
        # a peer that never sends it would turn a good check into a timeout.
        writer.transport.abort()


def judge_expiry(expires_at: datetime, now: datetime, warn_days: int) -> ProbeOutcome:
    """Down when expired or when fewer than ``warn_days`` whole days are left."""
    remaining = expires_at - now
    if remaining <= timedelta(0):
        return ProbeOutcome(False, f"certificate expired {format_days((-remaining).days)} ago")
    days = remaining.days  # whole days, rounded down
    if days < warn_days:
        return ProbeOutcome(False, f"certificate expires in {format_days(days)}")
    return ProbeOutcome(True, f"certificate valid for {format_days(days)}")


def _target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ProbeError("invalid URL") from exc
    if not parts.hostname:
        raise ProbeError("invalid URL")
    return parts.hostname, port or 443


async def open_socket(
    host: str, port: int, tracker: PhaseTracker, source: str | None = None
) -> socket.socket:
    """A TCP connection to the first address of ``host`` that accepts one, from ``source`` when
    given (then only addresses of its family are tried); raises the last address's OSError
    (or socket.gaierror) when none does."""
    loop = asyncio.get_running_loop()
    family = 0 if source is None else address_family(source)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        with tracker.phase(Phase.DNS):
            infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    else:  # an address literal: no lookup, hence no DNS phase
        infos = await loop.getaddrinfo(
            host, port, family=family, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    error: OSError | None = None
    with tracker.phase(Phase.CONNECT):
        for family, type_, proto, _, address in infos:
            tracker.address = address
            sock = socket.socket(family, type_, proto)
            try:
                sock.setblocking(False)
                if source is not None:
                    sock.bind((source, 0))
                await loop.sock_connect(sock, address)
            except OSError as exc:
                sock.close()
                error = exc  # try the next address, as browsers do
            except BaseException:
                sock.close()
                raise
            else:
                return sock
    if error is None:
        raise ProbeError("DNS lookup failed")  # the resolver answered with no address
    raise error
