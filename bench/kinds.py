"""CPU per check of each kind, beside the http probe's: N checks in this process, one at a time,
against loopback targets in another process (and dnsmasq; ping: the kernel's echo reply on
127.0.0.1), so only probed's side is counted.

A domain check sends nothing (always up); its row is followed by the RDAP query the domain
watch makes once per domain every 12 h.

Push has no probe: its figures are a ping (an HTTP request from another process to a probed
built here, recorded as a check: state machine, SQLite transaction, metrics) and a scheduled
check of its deadline (no ping due: nothing recorded).

Figures: CPU seconds (time.process_time) per 1,000 checks and wall time per check, per kind.

    .venv/bin/python bench/kinds.py [--checks 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from probed import logs
from probed.config import Config, Settings
from probed.domains.rdap import expiry
from probed.probes import make_session, run_probe
from probed.service.build import build
from tests.kit.certs import issue, server_context
from tests.kit.mail_servers import Greeter, greeter_server
from tests.kit.monitors import make_monitor
from tests.kit.rdap import domain_answer
from tests.kit.smtp import SmtpServer


def serve_targets(ports: multiprocessing.SimpleQueue[int]) -> None:
    """The targets, in a child process: an aiohttp app, a TCP listener, a TLS listener, an SMTP
    server (aiosmtpd, offering STARTTLS) and the kit's IMAP and POP3 (implicit TLS) greeters."""

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/health", lambda _: web.json_response({"status": "success"}))
        answer = domain_answer("example.com", "2027-08-13T04:00:00Z")
        app.router.add_get("/rdap/domain/{name}", lambda _: web.json_response(answer))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.put(runner.addresses[0][1])

        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.read()
            except ConnectionError:
                pass
            finally:
                writer.close()

        plain = await asyncio.start_server(hold, "127.0.0.1", 0)
        ports.put(plain.sockets[0].getsockname()[1])
        # The probe does not verify (the CA lives here): verification adds little to a handshake.
        cert = issue(trustme.CA(), expires_in=timedelta(days=90))
        tls = await asyncio.start_server(hold, "127.0.0.1", 0, ssl=server_context(cert))
        ports.put(tls.sockets[0].getsockname()[1])
        smtp = await SmtpServer(starttls=server_context(cert)).start()
        ports.put(smtp.port)
        async with (
            greeter_server(Greeter("imap")) as imap,
            greeter_server(Greeter("pop3"), implicit_tls=server_context(cert)) as pop3s,
        ):
            ports.put(imap)
            ports.put(pop3s)
            await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def measure(name: str, url: str, checks: int, **settings: object) -> None:
    kind = name.split()[0]
    monitor = make_monitor(kind=kind, url=url, timeout=5, **settings)
    async with make_session() as session:
        for _ in range(20):  # warm-up: imports, contexts
            await run_probe(monitor, session, datetime.now(UTC))
        cpu, wall = time.process_time(), time.perf_counter()
        failed = 0
        for _ in range(checks):
            result = await run_probe(monitor, session, datetime.now(UTC))
            failed += not result.ok
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{name:<14} {cpu / checks * 1000:6.2f} CPU s per 1,000 checks"
        f"  {wall / checks * 1000:6.2f} ms per check  ({failed} failed: {result.reason})"
    )


async def measure_rdap(base: str, checks: int) -> None:
    """A domain check sends nothing; its cost is the RDAP query, made once per domain every
    12 h (docs/design.md §19.2), measured here per query."""
    async with make_session() as session:
        for _ in range(20):
            await expiry(session, base, "example.com", 5)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(checks):
            await expiry(session, base, "example.com", 5)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{'domain rdap':<14} {cpu / checks * 1000:6.2f} CPU s per 1,000 queries"
        f"  {wall / checks * 1000:6.2f} ms per query  (one per domain every 12 h)"
    )


def send_pings(port: int, path: str, count: int, done: multiprocessing.SimpleQueue[int]) -> None:
    """In a child process: ``count`` pings one after another on one keep-alive connection."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: probed\r\n\r\n".encode()
        for _ in range(count):
            sock.sendall(request)
            answer = b""
            while not answer.endswith(b"OK"):
                answer += sock.recv(4096)
    done.put(count)


async def measure_push(checks: int, tmp: str) -> None:
    token = "bench-push-0123456789abcdef"
    monitor = make_monitor("push", "push", url="", token=token, interval=86400.0, down_after=1)
    # Its log line per check is part of the cost, as JSON to journald; here to /dev/null.
    logs.configure("info", stream=io.TextIOWrapper(io.FileIO(os.devnull, "w")), json=True)
    parts = build(Config(Path(tmp) / "monitors.toml", Settings(state_dir=Path(tmp)), (monitor,)))
    runner = web.AppRunner(parts.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    loop = asyncio.get_running_loop()
    try:
        for count in (20, checks):  # warm-up, then the measured run
            done: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
            pinger = multiprocessing.Process(
                target=send_pings, args=(port, f"/push/{token}", count, done)
            )
            cpu, wall = time.process_time(), time.perf_counter()
            pinger.start()
            await loop.run_in_executor(None, pinger.join)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert done.get() == checks and parts.pipeline.monitors["push"].last is not None
        print(
            f"{'push ping':<14} {cpu / checks * 1000:6.2f} CPU s per 1,000 checks"
            f"  {wall / checks * 1000:6.2f} ms per check  (each stored as a check)"
        )
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(checks):
            assert await parts.pipeline.check("push") is None  # the next ping is not due
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{'push deadline':<14} {cpu / checks * 1000:6.2f} CPU s per 1,000 checks"
            f"  {wall / checks * 1000:6.2f} ms per check  (in time: nothing recorded)"
        )
    finally:
        await runner.cleanup()
        await parts.aclose()


async def run(checks: int, ports: list[int], dns: int, tmp: str) -> None:
    http, tcp, tls, smtp, imap, pop3s = ports
    base = f"http://127.0.0.1:{http}/health"
    await measure("http HEAD", base, checks, method="HEAD")
    await measure("http GET", base, checks)
    await measure("json", base, checks, json_query="status", json_expect="success")
    await measure("tcp", f"tcp://127.0.0.1:{tcp}", checks)
    await measure("tcp tls", f"tcp://127.0.0.1:{tls}", checks, tls=True, verify_tls=False)
    await measure("ssl", f"https://127.0.0.1:{tls}/", checks, verify_tls=False)
    await measure("dns", f"dns://127.0.0.1:{dns}/example.test?type=A", checks, expect=("10.0.0.1",))
    # One echo request a check (count = 1): the default's three cost three of these, plus waits.
    await measure("ping", "127.0.0.1", checks, count=1)
    await measure("domain", "example.com", checks)
    await measure_rdap(f"http://127.0.0.1:{http}/rdap", checks)
    await measure("smtp", f"smtp://127.0.0.1:{smtp}", checks)
    await measure(
        "smtp starttls", f"smtp://127.0.0.1:{smtp}", checks, starttls=True, verify_tls=False
    )
    await measure("imap", f"imap://127.0.0.1:{imap}", checks)
    await measure("pop3 pop3s", f"pop3s://127.0.0.1:{pop3s}", checks, verify_tls=False)
    await measure_push(checks, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    ports: multiprocessing.SimpleQueue[int] = multiprocessing.SimpleQueue()
    targets = multiprocessing.Process(target=serve_targets, args=(ports,), daemon=True)
    targets.start()
    target_ports = [ports.get() for _ in range(6)]
    dns_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        dnsmasq = subprocess.Popen(
            [
                shutil.which("dnsmasq") or "/usr/sbin/dnsmasq",
                "--keep-in-foreground",
                f"--port={dns_port}",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
                f"--pid-file={tmp}/dnsmasq.pid",
                "--address=/example.test/10.0.0.1",
            ]
        )
        try:
            time.sleep(0.5)  # dnsmasq's start; a missed first query only costs a warm-up check
            asyncio.run(run(args.checks, target_ports, dns_port, tmp))
        finally:
            dnsmasq.terminate()
            dnsmasq.wait()
            targets.terminate()


if __name__ == "__main__":
    main()
