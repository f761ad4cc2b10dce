"""Debian's Prometheus and Alertmanager as subprocesses on free loopback ports, for end-to-end
tests of what contrib/ ships, and a webhook receiver that records what Alertmanager sends."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.daemon_proc import free_port

RULES = Path(__file__).resolve().parent.parent / "contrib" / "prometheus" / "probed.rules.yml"


@dataclass
class Server:
    """A subprocess serving HTTP on ``base``; its stderr is in ``log``."""

    base: str
    log: Path
    proc: subprocess.Popen[bytes]

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@asynccontextmanager
async def run_server(name: str, args: list[str], port: int, log: Path) -> AsyncIterator[Server]:
    """Start ``name`` with ``args``, wait for its /-/ready, stop it (and wait) at exit."""
    binary = shutil.which(name)
    assert binary, f"{name} not found: install Debian's prometheus / prometheus-alertmanager"
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=out)
    server = Server(f"http://127.0.0.1:{port}", log, proc)
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 20
            while True:
                assert proc.poll() is None, f"{name} exited {proc.returncode}:\n{server.logs()}"
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{server.base}/-/ready") as resp:
                        if resp.status == 200:
                            break
                assert time.monotonic() < deadline, f"{name} not ready:\n{server.logs()}"
                await asyncio.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def alertmanager(tmp_path: Path, webhook: str) -> AsyncIterator[Server]:
    """One Alertmanager (cluster off) that notifies ``webhook`` about every alert, grouped by
    alert name and monitor, within a second, and repeats only after an hour."""
    port = free_port()
    config = {
        "route": {
            "receiver": "hook",
            "group_by": ["alertname", "monitor"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {"name": "hook", "webhook_configs": [{"url": webhook, "send_resolved": True}]}
        ],
    }
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    args = [
        f"--config.file={path}",
        f"--storage.path={tmp_path / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip port: one member, and no fixed port
    ]
    async with run_server("prometheus-alertmanager", args, port, tmp_path / "am.log") as am:
        yield am


@asynccontextmanager
async def prometheus(
    tmp_path: Path,
    targets: dict[str, str],
    alertmanager_url: str | None = None,
) -> AsyncIterator[Server]:
    """Prometheus scraping ``targets`` (address → location label) every second with
    contrib/prometheus/probed.rules.yml evaluated every second."""
    port = free_port()
    shutil.copy(RULES, tmp_path / "probed.rules.yml")
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["probed.rules.yml"],
        "scrape_configs": [
            {
                "job_name": "probed",
                "static_configs": [
                    {"targets": [target], "labels": {"location": location}}
                    for target, location in targets.items()
                ],
            }
        ],
    }
    if alertmanager_url is not None:
        host = alertmanager_url.removeprefix("http://")
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [host]}]}]}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    args = [
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    async with run_server("prometheus", args, port, tmp_path / "prometheus.log") as server:
        yield server


async def query(base: str, promql: str) -> list[dict[str, Any]]:
    """An instant query's result vector (empty while Prometheus cannot answer yet)."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(f"{base}/api/v1/query", params={"query": promql}) as resp:
                body = await resp.json()
        except aiohttp.ClientError:
            return []
    assert body["status"] == "success", body
    return list(body["data"]["result"])


@dataclass
class Webhook:
    """Alertmanager's webhook receiver: every notification's JSON, in order of arrival."""

    url: str = ""
    notifications: list[dict[str, Any]] = field(default_factory=list)


@asynccontextmanager
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()

    async def receive(request: web.Request) -> web.Response:
        hook.notifications.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url("/"))
    try:
        yield hook
    finally:
        await server.close()
