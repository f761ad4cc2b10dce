"""Debian's Prometheus and Alertmanager as subprocesses on free loopback ports, for end-to-end
tests of what contrib/ ships and of the Alertmanager channel; Alertmanager notifies a Receiver."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.kit.processes import free_port
from tests.kit.receiver import Receiver
from tests.kit.tools import tool

RULES = Path(__file__).resolve().parents[2] / "contrib" / "prometheus" / "probed.rules.yml"


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
    with log.open("wb") as out:
        proc = subprocess.Popen([tool(name), *args], stdout=subprocess.DEVNULL, stderr=out)
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
async def alertmanager(
    directory: Path, webhook: str, config: str | None = None
) -> AsyncIterator[Server]:
    """One Alertmanager (cluster off) in ``directory``. With no ``config`` it notifies
    ``webhook`` about every alert, grouped by alert name and monitor, within a second, and
    repeats only after an hour; a ``config`` of its own may name the webhook as ``{url}``."""
    port = free_port()
    route = {
        "receiver": "hook",
        "group_by": ["alertname", "monitor"],
        "group_wait": "1s",
        "group_interval": "1s",
        "repeat_interval": "1h",
    }
    hook = {"name": "hook", "webhook_configs": [{"url": webhook, "send_resolved": True}]}
    text = yaml.safe_dump({"route": route, "receivers": [hook]})
    path = directory / "alertmanager.yml"
    path.write_text(text if config is None else config.replace("{url}", webhook))
    args = [
        f"--config.file={path}",
        f"--storage.path={directory / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip port: one member, and no fixed port
        "--log.level=warn",
    ]
    async with run_server("prometheus-alertmanager", args, port, directory / "am.log") as am:
        yield am


class Alertmanager:
    """alertmanager() started and stopped by hand, notifying ``receiver`` at /am."""

    def __init__(self, directory: Path, receiver: Receiver, config: str | None = None) -> None:
        self.directory, self.receiver, self.config = directory, receiver, config
        directory.mkdir(parents=True, exist_ok=True)
        self._stack = contextlib.AsyncExitStack()
        self.url = ""

    async def start(self) -> Alertmanager:
        server = await self._stack.enter_async_context(
            alertmanager(self.directory, self.receiver.url + "/am", self.config)
        )
        self.url = server.base
        return self

    async def stop(self) -> None:
        await self._stack.aclose()

    def notifications(self) -> list[dict[str, Any]]:
        """What Alertmanager told the receiver, oldest first."""
        return [r.json() for r in self.receiver.requests if r.path == "/am"]


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
