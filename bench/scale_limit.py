"""The physical limit for bench/scale.py: what nginx alone serves on this machine, to fresh
connections from a minimal client, and what such a client costs per request in Python.

Two clients, each a child process running for a fixed time with 64 requests in flight, a fresh
connection per request: raw asyncio streams (the least a Python prober can do) and aiohttp's
client with ``force_close`` (what probed's checks are built on). Figures: requests per second,
nginx's CPU per request, the client's CPU per request.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bench.scale_parts import Nginx, Proc, loadavg

RAW = """
import asyncio, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
done = 0
async def one(i):
    global done
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /l/{i} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n"
    writer.write(request.encode())
    await reader.read(-1)
    writer.close()
    done += 1
async def worker(k, end):
    i = k
    while time.monotonic() < end:
        await one(i)
        i += 64
async def main():
    end = time.monotonic() + seconds
    await asyncio.gather(*(worker(k, end) for k in range(64)))
    print(done)
asyncio.run(main())
"""

AIOHTTP = """
import asyncio, sys, time
import aiohttp
port, seconds = int(sys.argv[1]), float(sys.argv[2])
done = 0
async def worker(session, k, end):
    global done
    i = k
    while time.monotonic() < end:
        async with session.get(f"http://127.0.0.1:{port}/l/{i}") as r:
            await r.read()
        done += 1
        i += 64
async def main():
    end = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=64, force_close=True, use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session, k, end) for k in range(64)))
    print(done)
asyncio.run(main())
"""


async def nginx_limit(tmp: Path, seconds: float = 10) -> dict[str, object]:
    nginx = Nginx(tmp)
    out: dict[str, object] = {"load": [loadavg()]}
    try:
        await nginx.start()
        for name, script in (("raw asyncio", RAW), ("aiohttp", AIOHTTP)):
            nginx0 = nginx.cpu()
            client = Proc(
                f"client-{name.split()[0]}",
                [sys.executable, "-c", script, str(nginx.port), str(seconds)],
                tmp,
            )
            # wait4 gives the child's own rusage: /proc forgets it once it has been reaped.
            _, status, usage = await asyncio.to_thread(os.wait4, client.pid, 0)
            client.popen.returncode = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
            requests = int(client.log.read_text().split()[-1])
            nginx_cpu = nginx.cpu() - nginx0
            out[name] = {
                "requests_per_s": requests / seconds,
                "nginx_cpu_ms_per_request": nginx_cpu / requests * 1000,
                "client_cpu_ms_per_request": cpu / requests * 1000,
                "client_cpu_s": cpu,
            }
        out["load"] = [*out["load"], loadavg()]  # type: ignore[misc]
        return out
    finally:
        nginx.stop()
