"""ICMP echo requests and their replies, with each reply's hop limit (its TTL).

icmplib opens the socket (an unprivileged datagram one, else a raw one) and builds and sends
the requests; the replies are read here with recvmsg, since icmplib's own receive reads them
with recvfrom and so drops the ancillary data that carries the hop limit
(blackbox_exporter's probe_icmp_reply_hop_limit).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# icmplib ships no type information (no py.typed).
from icmplib import (  # type: ignore[import-untyped]
    ICMPLibError,
    ICMPRequest,
    ICMPv4Socket,
    ICMPv6Socket,
    SocketPermissionError,
)
from icmplib.utils import unique_identifier  # type: ignore[import-untyped]

_IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)  # Linux's value; Python 3.11 does not name it
_ECHO_REPLY: dict[int, int] = {socket.AF_INET: 0, socket.AF_INET6: 129}
_HOP_LIMIT = {
    socket.AF_INET: (socket.IPPROTO_IP, socket.IP_TTL),
    socket.AF_INET6: (socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT),
}


class NoIcmpSocket(Exception):
    """Neither an unprivileged ICMP socket nor a raw one may be opened by this process."""


@dataclass(slots=True)
class Echoes:
    """What came back of the requests sent so far."""

    sent: int = 0
    rtts: list[float] = field(default_factory=list)
    """Round trips of the replies, in seconds."""
    hop_limit: int | None = None
    """The hop limit (TTL) of the last reply, as it arrived; None: none told."""


async def echo(
    address: str,
    count: int,
    wait: float,
    budget: float,
    interval: float,
    source: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    echoes: Echoes | None = None,
) -> Echoes:
    """Send ``count`` echo requests to the IP ``address``, ``interval`` apart, waiting up to
    ``wait`` seconds for each reply, and none once ``budget`` seconds have passed; fills and
    returns ``echoes`` (so a caller cancelled midway still holds what came back). NoIcmpSocket
    when no socket may be opened; the OSError of sendto when sending fails."""
    echoes = Echoes() if echoes is None else echoes
    icmp = _open(address, source)
    with icmp:
        sock: socket.socket = icmp.sock
        level, option = _HOP_LIMIT[sock.family]
        receive = _IP_RECVTTL if sock.family == socket.AF_INET else socket.IPV6_RECVHOPLIMIT
        sock.setsockopt(level, receive, 1)
        sock.setblocking(False)
        ident = unique_identifier()
        loop = asyncio.get_running_loop()
        until = loop.time() + budget
        for sequence in range(count):
            if sequence:
                await asyncio.sleep(interval)
            if (left := until - loop.time()) <= 0:
                break  # the planned waits overran (a busy loop): the check still ends in time
            request = ICMPRequest(destination=address, id=ident, sequence=sequence)
            started = clock()
            try:
                icmp.send(request)
            except ICMPLibError as exc:
                # icmplib raises it from the OSError of sendto, whose errno says who failed
                # (ENETUNREACH: this host's routing) to probed.probes.reasons.
                cause = exc.__context__
                raise cause if isinstance(cause, OSError) else OSError(str(exc)) from None
            echoes.sent += 1
            # A datagram socket's requests carry the kernel's identifier (icmplib updates it).
            replied, hop_limit = await _reply(
                sock, request.id, sequence, min(wait, left), (level, option)
            )
            if replied:
                echoes.rtts.append(clock() - started)
                echoes.hop_limit = hop_limit
    return echoes


def _open(address: str, source: str | None) -> ICMPv4Socket | ICMPv6Socket:
    kind = ICMPv6Socket if ":" in address else ICMPv4Socket
    for privileged in (False, True):
        try:
            return kind(source, privileged)
        except SocketPermissionError:
            continue
    raise NoIcmpSocket


async def _reply(
    sock: socket.socket, ident: int, sequence: int, wait: float, hop: tuple[int, int]
) -> tuple[bool, int | None]:
    """Whether the echo reply to (``ident``, ``sequence``) came within ``wait``, and its hop
    limit (None: not told)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    raw = sock.type == socket.SOCK_RAW
    while (left := deadline - loop.time()) > 0:
        readable = loop.create_future()
        loop.add_reader(sock.fileno(), _wake, readable)
        try:
            async with asyncio.timeout(left):
                await readable
        except TimeoutError:
            return False, None
        finally:
            loop.remove_reader(sock.fileno())
        try:
            data, ancillary, _, _ = sock.recvmsg(1024, socket.CMSG_SPACE(4))
        except (BlockingIOError, InterruptedError):
            continue
        if _matches(data, sock.family, raw, ident, sequence):
            return True, _hop_limit(ancillary, hop)
    return False, None


def _wake(readable: asyncio.Future[None]) -> None:
    if not readable.done():
        readable.set_result(None)


def _matches(data: bytes, family: int, raw: bool, ident: int, sequence: int) -> bool:
    """Whether ``data`` is the echo reply to (``ident``, ``sequence``): a raw IPv4 socket reads
    the IP header too, and any ICMP message for this host (other checks' replies among them)."""
    if raw and family == socket.AF_INET:
        if not data:
            return False
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return False
    kind, _, _, got_ident, got_sequence = struct.unpack("!BBHHH", data[:8])
    # A datagram socket's replies are the kernel's to match: their identifier is its own.
    same = raw is False or got_ident == ident
    return bool(kind == _ECHO_REPLY[family] and same and got_sequence == sequence)


def _hop_limit(ancillary: list[tuple[int, int, bytes]], hop: tuple[int, int]) -> int | None:
    for level, kind, value in ancillary:
        if (level, kind) == hop and len(value) >= 4:
            return int.from_bytes(value[:4], sys.byteorder)  # the host's byte order
    return None
