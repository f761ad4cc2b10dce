"""A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, clustering
off, its storage in the test's directory, notifying a webhook receiver of the test's own with
short group timings so firing and resolved notifications arrive within a second or two."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import aiohttp

from tests.channel_fixtures import Receiver
from tests.daemon_proc import free_port

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

CONFIG = """\
global:
  resolve_timeout: 5s
route:
  receiver: test
  group_by: [alertname, monitor]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


class Alertmanager:
    def __init__(self, directory: Path, receiver: Receiver, config: str = CONFIG) -> None:
        """``config`` may name ``{url}``, the receiver's URL for webhooks."""
        self.directory, self.receiver, self.config = directory, receiver, config
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Alertmanager:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "alertmanager.yml"
        config.write_text(self.config.replace("{url}", self.receiver.url + "/am"))
        self.proc = await asyncio.create_subprocess_exec(
            BINARY,
            f"--config.file={config}",
            f"--storage.path={self.directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as session, asyncio.timeout(20):
            while True:
                try:
                    async with session.get(self.url + "/-/ready") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def notifications(self) -> list[dict[str, Any]]:
        """What Alertmanager told the receiver, oldest first."""
        return [r.json() for r in self.receiver.requests if r.path == "/am"]
