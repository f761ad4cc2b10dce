"""``probed status``, ``pause`` and ``resume`` as a user runs them: a real subprocess talking to
the real API app, with its output and exit code."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from probed.cli.api_client import default_url
from probed.model import Status
from tests.daemon_proc import run_cli
from tests.history_fixtures import TOKEN, FakeClock, Harness, api_client, monitor


async def probed(*args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROBED_API_TOKEN", "PROBED_LISTEN")}
    if token is not None:
        env["PROBED_API_TOKEN"] = token
    return await run_cli(*args, env=env)


@pytest.fixture
async def harness(tmp_path, monkeypatch):
    # The CLI compares times with the real clock: the fake one starts two hours ago.
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    h = Harness(
        tmp_path / "probed.db",
        [monitor("DutyCall Frontend"), monitor("DutyCall Backend API", url="http://api.test/")],
        clock,
    )
    yield h
    await h.close()


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
