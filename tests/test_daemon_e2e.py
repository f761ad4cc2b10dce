"""End to end: ``probed run`` as a subprocess against a local target that breaks and heals."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import wait_for
from tests.kit.tools import promtool_lint, require_tool

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, port: int, body: str) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        'shutdown_grace = "3s"\n' + body
    )
    return path


async def test_metrics_follow_a_target_from_up_to_seems_down_to_down_and_back_up(
    tmp_path, switchable
):
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        f"""
[[monitor]]
name = "api"
url = "{switchable.url}"
interval = "1s"
timeout = "1s"
retry_interval = "1s"
down_after = 3
""",
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        seen: list[float] = []

        async def status_is(code: float):
            value = await daemon.metric("probed_monitor_status", "api")
            if value is not None and (not seen or seen[-1] != value):
                seen.append(value)
            return value == code

        await wait_for(lambda: status_is(2), 10, "up")
        switchable.status = 503
        await wait_for(lambda: status_is(8), 10, "seems down")
        await wait_for(lambda: status_is(9), 10, "down")
        assert await daemon.metric("probe_success", "api") == 0
        assert await daemon.metric("probe_http_status_code", "api") == 503
        switchable.status = 200
        await wait_for(lambda: status_is(2), 10, "up again")
        assert seen[-4:] == [2, 8, 9, 2]
        assert await daemon.metric("probe_success", "api") == 1
        text = await daemon.metrics()
        assert 'probed_checks_total{monitor="api",result="failure"} 3.0' in text
    finally:
        assert await daemon.stop() == 0
    logs = [json.loads(line) for line in daemon.logs().splitlines() if line.startswith("{")]
    kinds = [e["kind"] for e in logs if e.get("event") == "transition"]
    assert kinds == ["first_up", "seems_down", "down", "up"]
    up = [e for e in logs if e.get("event") == "transition"][-1]
    assert re.fullmatch(r"HTTP 200 in \d+(\.\d)? ms", up["reason"]), up  # what recovered


async def test_a_restart_keeps_a_down_monitor_down_without_a_new_transition(tmp_path, switchable):
    port = free_port()
    switchable.status = 500
    config = write_config(
        tmp_path,
        port,
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\ninterval = "1s"\n'
        'retry_interval = "1s"\ndown_after = 2\n',
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    await wait_for(lambda: _eq(daemon.metric("probed_monitor_status", "api"), 9), 10, "down")
    assert await daemon.stop() == 0
    daemon = DaemonProcess(config, port)
    await daemon.start()
    # Restored from the store before the first check runs.
    assert await daemon.metric("probed_monitor_status", "api") == 9
    hits = switchable.hits
    await wait_for(lambda: switchable.hits > hits + 1, 10, "two more checks")
    assert await daemon.stop() == 0
    transitions = [
        json.loads(line)["kind"]
        for line in daemon.logs().splitlines()
        if '"event": "transition"' in line
    ]
    assert transitions == ["seems_down", "down"]  # both from the first run only


async def _eq(awaitable, value):
    return (await awaitable) == value


async def test_sigterm_drains_a_hanging_check_within_the_grace_period(tmp_path, switchable):
    port = free_port()
    switchable.hang = True
    config = write_config(
        tmp_path, port, f'[[monitor]]\nname = "slow"\nurl = "{switchable.url}"\ninterval = "1s"\n'
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    await wait_for(lambda: switchable.hits > 0, 5, "a check in flight")
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert await daemon.stop() == 0
    assert time.monotonic() - started < 3.0 + 2.0
    assert '"event": "stopped"' in daemon.logs()


async def test_a_broken_config_makes_run_exit_1_with_the_problem_and_no_traceback(tmp_path):
    config = tmp_path / "monitors.toml"
    config.write_text('[[monitor]]\nname = "x"\nurl = "ftp://nope"\nintervall = "1m"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "probed", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "intervall" in proc.stderr and "url" in proc.stderr


@require_tool("promtool")
async def test_promtool_accepts_the_real_metrics_output(tmp_path, switchable):
    port = free_port()
    config = write_config(
        tmp_path,
        port,
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\ninterval = "1s"\n'
        f'[[monitor]]\nname = "paused one"\nurl = "{switchable.url}"\npaused = true\n',
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        await wait_for(lambda: _eq(daemon.metric("probe_success", "api"), 1), 10, "a check")
        text = await daemon.metrics()
    finally:
        await daemon.stop()
    assert 'probed_monitor_status{monitor="paused one"} 0.0' in text
    promtool_lint(text)


async def test_a_second_sigterm_stops_at_once_without_waiting_for_the_grace_period(
    tmp_path, switchable
):
    port = free_port()
    switchable.hang = True
    config = write_config(
        tmp_path,
        port,
        f'[[monitor]]\nname = "slow"\nurl = "{switchable.url}"\ninterval = "8s"\ntimeout = "8s"\n',
    )
    config.write_text(config.read_text().replace('shutdown_grace = "3s"', 'shutdown_grace = "60s"'))
    daemon = DaemonProcess(config, port)
    await daemon.start()
    await wait_for(lambda: switchable.hits > 0, 12, "a check in flight")
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    daemon.signal(signal.SIGTERM)
    assert await daemon.stop(timeout=10) == 0
    # The hanging check had up to 8 s left and the grace period 60 s.
    assert time.monotonic() - started < 3
    assert "second stop signal" in daemon.logs()
