"""``probed status``, ``pause`` and ``resume`` as a user runs them: a real subprocess talking to
the real API app, with its output and exit code."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from probed.cli.api_client import default_url
from probed.model import Status
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN
from tests.kit.harness import api_client
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli


async def probed(*args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROBED_API_TOKEN", "PROBED_LISTEN")}
    if token is not None:
        env["PROBED_API_TOKEN"] = token
    return await run_cli(*args, env=env)


@pytest.fixture
async def harness(make_harness):
    # The CLI compares times with the real clock: the fake one starts two hours ago.
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    return make_harness(
        [
            make_monitor("DutyCall Frontend"),
            make_monitor("DutyCall Backend API", url="http://api.test/"),
        ],
        clock,
    )


@pytest.fixture
async def url(harness):
    async for client in api_client(harness):
        yield str(client.make_url("")).rstrip("/")


async def test_status_prints_a_table_of_every_monitor(harness, url):
    cert = harness.clock() + timedelta(days=45, hours=1)
    for i in range(120):
        ok = not 60 <= i < 72  # 12 minutes down in 2 hours: 90% up
        await harness.check("DutyCall Frontend", ok=ok, duration=0.123, cert_expires_at=cert)
        harness.clock.advance(60)
    code, out, err = await probed("status", "--url", url)
    assert code == 0, err
    header, frontend, backend = out.splitlines()
    assert header.split() == [
        "NAME",
        "STATE",
        "SINCE",
        "UP",
        "24H",
        "UP",
        "30D",
        "RESPONSE",
        "CERT",
    ]
    assert frontend.split()[2:] == ["up", "48m", "90.00%", "90.00%", "123", "ms", "44d"]
    assert backend.split()[3:] == ["pending", "2h", "-", "-", "-", "-"]


async def test_pause_for_a_while_and_resume_by_name(harness, url):
    code, out, err = await probed("pause", "DutyCall Frontend", "--for", "30m", "--url", url)
    assert code == 0, err
    until = (harness.clock() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert out.strip() == f"DutyCall Frontend: paused until {until}"
    assert harness.tracked("DutyCall Frontend").state.status is Status.PAUSED
    code, out, err = await probed("resume", "dutycall frontend", "--url", url)
    assert (code, out.strip()) == (0, "DutyCall Frontend: pending")


async def test_an_unknown_name_is_a_usage_error_with_suggestions(harness, url):
    code, _, err = await probed("pause", "DutyCall Fronted", "--url", url)
    assert code == 1
    assert err.strip() == (
        "probed pause: no monitor named 'DutyCall Fronted' (did you mean 'DutyCall Frontend'?)"
    )


async def test_a_missing_or_wrong_token_is_a_usage_error_with_the_daemons_message(harness, url):
    code, _, err = await probed("pause", "DutyCall Frontend", "--url", url, token=None)
    assert code == 1
    assert "missing or wrong API token" in err and "(HTTP 401)" in err
    harness.token = None
    code, _, err = await probed("resume", "DutyCall Frontend", "--url", url)
    assert code == 1 and "no API token is configured" in err and "(HTTP 403)" in err


async def test_a_bad_duration_is_refused_before_asking_the_daemon(url):
    code, _, err = await probed("pause", "x", "--for", "soon", "--url", url)
    assert code == 1 and 'invalid duration "soon"' in err


async def test_an_unreachable_daemon_exits_2(tmp_path):
    code, _, err = await probed("status", "--url", "http://127.0.0.1:9")
    assert code == 2 and "cannot reach probed at http://127.0.0.1:9" in err


def test_the_default_url_comes_from_the_config_listen(tmp_path: Path):
    config = tmp_path / "monitors.toml"
    assert default_url(config, {}) == "http://127.0.0.1:9925"
    config.write_text('[probed]\nlisten = "0.0.0.0:8080"\n')
    assert default_url(config, {}) == "http://127.0.0.1:8080"
    assert default_url(config, {"PROBED_LISTEN": "[::]:9000"}) == "http://[::1]:9000"
    config.write_text('[probed]\nlisten = "${LISTEN}"\n')
    assert default_url(config, {}) == "http://127.0.0.1:9925"


async def test_status_json_prints_the_apis_answer(harness, url):
    code, out, err = await probed("status", "--json", "--url", url)
    assert code == 0, err
    answer = json.loads(out)
    assert [m["name"] for m in answer["monitors"]] == ["DutyCall Frontend", "DutyCall Backend API"]
    assert answer["monitors"][0]["state"] == "pending"


async def on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """What ``probed ARGS`` writes to stdout when stdout is a terminal."""
    main, child = os.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "probed", *args, stdout=child, env=env
        )
        os.close(child)
        child = -1
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        chunks = []
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(main)
        if child != -1:
            os.close(child)


async def test_status_colours_the_state_on_a_terminal_unless_no_color(harness, url):
    await harness.check("DutyCall Frontend", ok=True, duration=0.1)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = await on_a_terminal("status", "--url", url, env=env)
    frontend = next(line for line in coloured.splitlines() if "Frontend" in line)
    assert "\x1b[32mup\x1b[0m" in frontend
    assert "\x1b[2mpending\x1b[0m" in coloured
    # Escape codes outside the padding: stripped, the columns line up as without colour.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert await on_a_terminal("status", "--url", url, env={**env, "NO_COLOR": "1"}) == plain
    code, piped, _ = await probed("status", "--url", url)
    assert code == 0 and "\x1b[" not in piped


async def test_pause_reads_the_token_from_the_configs_api_token_file(harness, url, tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    config = tmp_path / "monitors.toml"
    config.write_text('[probed]\napi_token_file = "token"\n')
    code, out, err = await probed("pause", "DutyCall Frontend", "--url", url, token=None)
    assert code == 1 and "(HTTP 401)" in err
    code, out, err = await probed(
        "pause", "DutyCall Frontend", "--url", url, "-c", str(config), token=None
    )
    assert (code, out.strip()) == (0, "DutyCall Frontend: paused"), err
    config.write_text(f'[probed]\napi_token = "{TOKEN}"\n')
    code, out, err = await probed(
        "resume", "DutyCall Frontend", "--url", url, "-c", str(config), token=None
    )
    assert (code, out.strip()) == (0, "DutyCall Frontend: pending"), err
