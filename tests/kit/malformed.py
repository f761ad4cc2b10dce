"""Malformed requests as the issue's attacker sent them, each carrying a known secret, and a
raw-socket sender: what the malformed-request tests and ``bench/malformed_log.py`` send."""

from __future__ import annotations

import asyncio

from tests.kit.configs import TOKEN

PUSH = "logflood-push-0123456789abcdef"
"""The push token of the monitor the daemon under test holds."""
PAD = b"a" * 9000
"""Past aiohttp's 8,190 bytes a line."""

_T = TOKEN.encode()
_MULTIPART = (
    b"--zz\r\nContent-Disposition: form-data; name=api_key\r\n\r\n" + _T + b"\r\n"
    b"--zz\r\nnot a header line\r\n\r\nx\r\n--zz--\r\n"
)


def _get(target: bytes, headers: bytes = b"Host: x\r\n") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + headers + b"\r\n"


SHAPES: dict[str, bytes] = {
    "bearer token with a control byte": _get(
        b"/api/v1/status", b"Host: x\r\nAuthorization: Bearer " + _T + b"\x01\r\n"
    ),
    "api_key with a bad byte in the query": _get(b"/v2/getMonitors?api_key=" + _T + b"\x01"),
    "over-long URL carrying api_key": _get(b"/v2/getMonitors?api_key=" + _T + b"&x=" + PAD),
    "over-long URL ending in api_key": _get(b"/v2/getMonitors?x=" + PAD + b"&api_key=" + _T),
    "over-long header after the token": _get(
        b"/api/v1/status",
        b"Host: x\r\nAuthorization: Bearer " + _T + b"\r\nX-Pad: " + PAD + b"\r\n",
    ),
    "invalid header line after the token": _get(
        b"/v2/getMonitors?api_key=" + _T, b"Host: x\r\nnot a header line\r\n"
    ),
    "bad method": b"G\x01T /v2/getMonitors?api_key=" + _T + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "no Host header": _get(
        b"/api/v1/status?api_key=" + _T, b"Authorization: Bearer " + _T + b"\r\n"
    ),
    "push token in an over-long URL": _get(b"/push/" + PUSH.encode() + b"?msg=" + PAD),
    "multipart body with a broken part": b"POST /v2/getMonitors HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: multipart/form-data; boundary=zz\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_MULTIPART) + _MULTIPART,
}
"""Each malformed shape of issue 21 (items 3 and 4), by name."""


async def send(port: int, data: bytes) -> tuple[int, bytes]:
    """``data`` on a new connection to 127.0.0.1:``port``; the answer's status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return int(head.split()[1]), await reader.readexactly(length)
    finally:
        writer.close()
