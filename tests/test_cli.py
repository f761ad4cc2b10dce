"""The command line as a user runs it: a real subprocess, its output and exit code."""

from __future__ import annotations

import asyncio
import os

from probed import __version__
from tests.kit.configs import DUTYCALL_ENV
from tests.kit.processes import probed
from tests.kit.servers import Target, serve


def test_version_is_printed():
    proc = probed("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"probed {__version__}"


def test_check_summarises_the_shipped_config():
    proc = probed("check", "-c", "monitors.toml")
    assert proc.returncode == 0, proc.stderr
    assert "probed self (healthz)" in proc.stdout and "http HEAD" in proc.stdout
    assert "OK, 2 monitors" in proc.stdout


def test_check_validates_the_dutycall_example_without_the_network():
    proc = probed("check", "-c", "examples/dutycall.toml", env={**os.environ, **DUTYCALL_ENV})
    assert proc.returncode == 0, proc.stderr
    for name in ("Frontend (Production)", "Backend API", "Database Health", "SSL Certificate"):
        assert f"DutyCall {name}" in proc.stdout
    assert "keyword" in proc.stdout and "ssl" in proc.stdout and "5m" in proc.stdout


def test_check_lists_every_problem_and_exits_1(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[defaults]\ninterval = "soon"\n'
        '[[monitor]]\nname = "a"\nurl = "ftp://x"\n'
        '[[monitor]]\nname = "b"\nurl = "http://x"\ntimout = "1s"\n'
    )
    proc = probed("check", "-c", str(bad))
    assert proc.returncode == 1
    assert "3 problem(s)" in proc.stderr
    for fragment in ("[defaults] interval", 'monitor "a" (#1) url', 'monitor "b" (#2) timout'):
        assert f"{bad}: {fragment}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_config_file_is_a_clear_error():
    proc = probed("check", "-c", "/nonexistent/monitors.toml")
    assert proc.returncode == 1
    assert "/nonexistent/monitors.toml: no such config file" in proc.stderr


def test_a_usage_error_exits_1():
    proc = probed("probe")
    assert proc.returncode == 1 and "usage:" in proc.stderr


async def test_probe_prints_the_result_with_its_phases():
    async with serve(Target()) as target:
        # In a thread: the target is served by this test's event loop.
        ok = await asyncio.to_thread(probed, "probe", target.url("/status/200"))
        down = await asyncio.to_thread(
            probed, "probe", "--method", "GET", "--timeout", "1s", target.url("/status/503")
        )
        kw = await asyncio.to_thread(
            probed, "probe", "--type", "keyword", "--keyword", "HELLO", target.url("/parts")
        )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("UP  http") and "reason:      HTTP 200" in ok.stdout
    for phase in ("connect:", "first byte:", "total:"):
        assert phase in ok.stdout
    assert down.returncode == 2 and "HTTP 503, expected 2xx" in down.stdout
    assert kw.returncode == 0 and 'keyword "HELLO" found' in kw.stdout


async def test_probe_sends_from_the_source_address_it_is_given():
    async with serve(Target()) as target:
        url = target.url("/status/200")
        ok = await asyncio.to_thread(probed, "probe", "--source-address", "127.0.0.3", url)
        bad = await asyncio.to_thread(probed, "probe", "--source-address", "not-an-ip", url)
        v6 = await asyncio.to_thread(
            probed, "probe", "--source-address", "127.0.0.3", "http://[::1]:1/"
        )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [seen.remote for seen in target.seen] == ["127.0.0.3"]
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        'probed probe: --source-address: expected an IPv4 or IPv6 address such as "192.0.2.10",'
        ' got "not-an-ip"'
    )
    assert v6.returncode == 1 and "is an IPv4 address but the URL's host" in v6.stderr
