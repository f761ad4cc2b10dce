"""A crowd against a running probed: keep-alive readers that each hold one connection and
re-request a path every few seconds, a cron job's ``curl`` ping once a second, and the
latency of a fresh client's GET; shared by the reader-crowd test and bench."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.kit.tools import tool

CRON_CURL = ("-fsS", "-m", "10", "--retry", "3")
"""The README's cron line: a ping that fails is a false DOWN for the job."""


@dataclass
class Crowd:
    """What the readers saw: answers, and requests the server closed or refused."""

    answered: int = 0
    failed: int = 0
    connections: int = 0


@dataclass
class Pings:
    """Exit codes of the cron job's pings, in order."""

    codes: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.codes.count(0)


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
    """One keep-alive GET on an open connection; its status."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: probed\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (int(v) for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-length"),
        0,
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def readers(
    port: int, count: int, every: float, until: float, path: str, source: str = "127.0.0.1"
) -> Crowd:
    """``count`` readers from ``source``, each on its own keep-alive connection, GET ``path``
    every ``every`` seconds (spread over the interval) until ``until``; a reader whose idle
    connection was closed opens a new one for the request."""
    crowd = Crowd()

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        streams = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        crowd.connections += 1
        return streams

    async def one(offset: float) -> None:
        await asyncio.sleep(offset)
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < until:
            status = 0
            for _ in range(2):
                # As browsers do: a kept-alive connection the server closed while idle is
                # re-opened once; a refused or reset fresh one is a failure.
                reused = streams is not None
                with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
                    streams = streams or await connect()
                    status = await asyncio.wait_for(_get(*streams, path), 10)
                if status or not reused:
                    break
                assert streams is not None
                streams[1].close()
                streams = None
            crowd.answered += status == 200
            crowd.failed += status != 200
            if status != 200 and streams is not None:
                streams[1].close()
                streams = None
            await asyncio.sleep(every)
        if streams is not None:
            streams[1].close()

    await asyncio.gather(*(one(every * i / count) for i in range(count)))
    return crowd


async def cron_pings(url: str, until: float, every: float = 1.0) -> Pings:
    """Run the cron job's ``curl`` ping of ``url`` every ``every`` seconds until ``until``."""
    curl, pings = tool("curl"), Pings()
    while time.monotonic() < until:
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            curl, *CRON_CURL, "-o", "/dev/null", url, stderr=asyncio.subprocess.DEVNULL
        )
        pings.codes.append(await proc.wait())
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    return pings


async def slowest_get(url: str, until: float, every: float = 0.5) -> tuple[float, int]:
    """Poll ``url`` on a fresh connection every ``every`` seconds until ``until``: the slowest
    answer in seconds and the number of polls not answered 200."""
    slowest, failures = 0.0, 0
    while time.monotonic() < until:
        started = time.monotonic()
        status = 0
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
            host, _, rest = url.removeprefix("http://").partition("/")
            address, _, port = host.rpartition(":")
            streams = await asyncio.open_connection(address, int(port))
            try:
                status = await asyncio.wait_for(_get(*streams, "/" + rest), 10)
            finally:
                streams[1].close()
        slowest = max(slowest, time.monotonic() - started)
        failures += status != 200
        await asyncio.sleep(every)
    return slowest, failures


def push_job_config(tmp_path: Path, port: int, public: int, token: str) -> Path:
    """A monitors.toml with ``listen`` and ``public_listen`` and one push job with ``token``."""
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\npublic_listen = "127.0.0.1:{public}"\n'
        f'state_dir = "{tmp_path / "state"}"\n\n'
        f'[[monitor]]\nname = "job"\ntype = "push"\ntoken = "{token}"\ninterval = "1m"\n',
        encoding="utf-8",
    )
    return config
