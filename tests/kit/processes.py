"""probed as a real subprocess: one command (``probed(*args)``) or the daemon (``probed run``)."""

from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probed(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``probed ARGS`` run to its end, its output captured as text; ``env`` is its whole
    environment (None: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "probed", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )


class DaemonProcess:
    """``probed run -c <config>`` with its own state dir and stderr captured to a file."""

    def __init__(
        self,
        config: Path,
        port: int,
        env: dict[str, str] | None = None,
        open_files: int | None = None,
    ) -> None:
        self.config = config
        self.open_files = open_files
        """The daemon's soft RLIMIT_NOFILE (systemd's default is 1,024); None inherits ours."""
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **(env or {})}
        self.log_path = config.with_suffix(".log")
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, wait_ready: bool = True) -> None:
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "probed",
                "run",
                "-c",
                str(self.config),
                stdout=log,
                stderr=log,
                env=self.env,
                preexec_fn=self._limit_open_files if self.open_files else None,
            )
        if wait_ready:
            await self.wait_healthy()

    def _limit_open_files(self) -> None:
        assert self.open_files is not None
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, hard))

    async def wait_healthy(self, timeout: float = 15) -> None:
        async with aiohttp.ClientSession() as session:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise AssertionError(f"probed exited {self.proc.returncode}:\n{self.logs()}")
                try:
                    async with session.get(self.base + "/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"probed not healthy in {timeout}s:\n{self.logs()}")
                await asyncio.sleep(0.05)

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as session, session.get(self.base + "/metrics") as r:
            return await r.text()

    async def metric(self, name: str, monitor: str) -> float | None:
        text = await self.metrics()
        m = re.search(rf'^{name}\{{monitor="{re.escape(monitor)}"\}} (\S+)$', text, re.M)
        return float(m.group(1)) if m else None

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def stop(self, timeout: float = 15) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                raise AssertionError(f"probed did not stop on SIGTERM:\n{self.logs()}") from None
        assert self.proc.returncode is not None
        return self.proc.returncode

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


async def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> tuple[int, str, str]:
    """``probed(*args)`` without blocking the loop that serves the test's targets; its exit
    code, stdout and stderr."""
    done = await asyncio.to_thread(probed, *args, env=env, cwd=cwd, timeout=timeout)
    return done.returncode, done.stdout, done.stderr
