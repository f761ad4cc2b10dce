"""SIGHUP reloads and sd_notify, against the real daemon process and a real AF_UNIX socket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.servers import Target, serve

pytestmark = pytest.mark.slow


def monitor(name: str, url: str, interval: str = "1s") -> str:
    return f'[[monitor]]\nname = "{name}"\nurl = "{url}"\ninterval = "{interval}"\n'


def header(tmp_path: Path, port: int) -> str:
    return f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'


async def until(predicate, timeout: float = 10, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def transitions(daemon: DaemonProcess) -> list[tuple[str, str]]:
    events = [json.loads(line) for line in daemon.logs().splitlines() if line.startswith("{")]
    return [(e["monitor"], e["kind"]) for e in events if e.get("event") == "transition"]


async def test_reload_applies_added_removed_and_changed_monitors_and_survives_a_broken_file(
    tmp_path,
):
    async with serve(Target()) as target:
        port = free_port()
        ok, bad = target.url("/status/200"), target.url("/status/500")
        config = tmp_path / "monitors.toml"
        config.write_text(
            header(tmp_path, port)
            + monitor("kept", ok)
            + monitor("retimed", ok)
            + monitor("removed", ok)
            + monitor("rewired", ok)
        )
        daemon = DaemonProcess(config, port)
        await daemon.start()
        try:

            async def all_up() -> bool:
                values = [
                    await daemon.metric("probed_monitor_status", n)
                    for n in ("kept", "retimed", "removed", "rewired")
                ]
                return values == [2, 2, 2, 2]

            await until(all_up, what="all four up")
            before = transitions(daemon)

            config.write_text(
                header(tmp_path, port)
                + monitor("kept", ok)
                + monitor("retimed", ok, interval="2s")
                + monitor("rewired", bad)
                + monitor("added", ok)
            )
            daemon.signal(signal.SIGHUP)
            await until(
                lambda: _is(daemon.metric("probed_monitor_status", "removed"), None),
                what="the removed monitor to leave /metrics",
            )
            # Same check: state kept. Changed URL: starts again from pending.
            assert await daemon.metric("probed_monitor_status", "kept") == 2
            assert await daemon.metric("probed_monitor_status", "retimed") == 2
            assert await daemon.metric("probed_monitor_status", "rewired") in (1, 8)
            assert await daemon.metric("probed_config_last_reload_successful", "") is None
            text = await daemon.metrics()
            assert "probed_config_last_reload_successful 1.0" in text
            await until(
                lambda: _is(daemon.metric("probed_monitor_status", "added"), 2),
                what="the added monitor to come up",
            )
            new = transitions(daemon)[len(before) :]
            assert ("kept", "first_up") not in new and ("retimed", "first_up") not in new

            config.write_text(header(tmp_path, port) + monitor("kept", "ftp://nope"))
            daemon.signal(signal.SIGHUP)
            await until(
                lambda: _contains(daemon.metrics(), "probed_config_last_reload_successful 0.0"),
                what="the failed reload to show",
            )
            assert await daemon.metric("probed_monitor_status", "added") == 2
            assert "reload failed" in daemon.logs() and "ftp://nope" in daemon.logs()
        finally:
            assert await daemon.stop() == 0


async def _is(awaitable, value) -> bool:
    return (await awaitable) == value


async def _contains(awaitable, text: str) -> bool:
    return text in (await awaitable)


@pytest.fixture
def notify_socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.setblocking(False)
    yield sock, str(path)
    sock.close()


async def receive(sock: socket.socket, until_text: str, timeout: float = 10) -> list[str]:
    loop = asyncio.get_running_loop()
    messages: list[str] = []
    deadline = time.monotonic() + timeout
    while not any(until_text in m for m in messages):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {until_text!r} in {messages}")
        data = await asyncio.wait_for(loop.sock_recv(sock, 4096), remaining)
        messages.append(data.decode())
    return messages


async def test_the_daemon_tells_systemd_ready_status_reloading_watchdog_and_stopping(
    tmp_path, notify_socket
):
    sock, path = notify_socket
    async with serve(Target()) as target:
        port = free_port()
        config = tmp_path / "monitors.toml"
        config.write_text(header(tmp_path, port) + monitor("api", target.url("/status/200")))
        daemon = DaemonProcess(config, port, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        await daemon.start(wait_ready=False)
        try:
            messages = await receive(sock, "READY=1")
            messages += await receive(sock, "STATUS=")
            assert any(m.startswith("STATUS=1 monitor:") for m in messages), messages
            # The summary follows the monitor's first check.
            messages = await receive(sock, "STATUS=1 monitor: 1 up")
            pings = await receive(sock, "WATCHDOG=1")
            pings += await receive(sock, "WATCHDOG=1")
            daemon.signal(signal.SIGHUP)
            messages = await receive(sock, "READY=1")
            reloading = [m for m in messages if m.startswith("RELOADING=1")]
            assert reloading and "\nMONOTONIC_USEC=" in reloading[0]
            # A wedged process gets no more pings: SIGSTOP freezes its event loop.
            daemon.signal(signal.SIGSTOP)
            await asyncio.sleep(0.3)
            while True:
                try:
                    sock.recv(4096)
                except BlockingIOError:
                    break
            await asyncio.sleep(0.6)
            with pytest.raises(BlockingIOError):
                sock.recv(4096)
            daemon.signal(signal.SIGCONT)
            await receive(sock, "WATCHDOG=1")
            daemon.signal(signal.SIGTERM)
            await receive(sock, "STOPPING=1")
        finally:
            assert await daemon.stop() == 0


async def cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROBED_API_TOKEN"}
    if token is not None:
        env["PROBED_API_TOKEN"] = token
    code, out, err = await run_cli(*args, env=env, timeout=30)
    return subprocess.CompletedProcess(args, code, out, err)


async def test_probed_reload_works_through_the_api_with_the_token_and_by_pid(tmp_path):
    async with serve(Target()) as target:
        port = free_port()
        url = target.url("/status/200")
        config = tmp_path / "monitors.toml"
        base = header(tmp_path, port) + 'api_token = "${PROBED_API_TOKEN}"\n'
        config.write_text(base + monitor("one", url))
        daemon = DaemonProcess(config, port, env={"PROBED_API_TOKEN": "s3cret-token"})
        await daemon.start()
        api = f"http://127.0.0.1:{port}"
        try:
            config.write_text(base + monitor("one", url) + monitor("two", url))
            denied = await cli("reload", "--url", api, token="wrong")
            assert denied.returncode == 1 and "wrong API token" in denied.stderr
            done = await cli("reload", "--url", api, token="s3cret-token")
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == "reloaded: 2 monitors"

            config.write_text(base + monitor("one", "ftp://nope"))
            broken = await cli("reload", "--url", api, token="s3cret-token")
            assert broken.returncode == 1
            assert "old one keeps running" in broken.stderr and "url" in broken.stderr
            assert await daemon.metric("probed_monitor_status", "two") is not None

            assert daemon.proc is not None
            pid = str(daemon.proc.pid)
            # As systemd's ExecReload runs it: an invalid file is not signalled, its problems
            # go to the journal and the reload fails.
            refused = await cli("reload", "--pid", pid, "-c", str(config), token="s3cret-token")
            assert refused.returncode == 1 and "url" in refused.stderr
            assert "not reloaded" in refused.stderr
            assert await daemon.metric("probed_monitor_status", "two") is not None

            config.write_text(base + monitor("one", url))
            by_pid = await cli("reload", "--pid", pid, "-c", str(config), token="s3cret-token")
            assert by_pid.returncode == 0, by_pid.stderr
            await until(
                lambda: _is(daemon.metric("probed_monitor_status", "two"), None),
                what="the SIGHUP reload to drop monitor two",
            )
            assert "s3cret-token" not in daemon.logs()
        finally:
            assert await daemon.stop() == 0
