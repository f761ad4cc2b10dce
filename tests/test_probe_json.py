"""The json kind: its keys in monitors.toml, and the probe against a real aiohttp target
serving good, wrong, non-JSON and huge bodies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from probed.config import BasicAuth, JsonCheck, Monitor
from probed.model import CheckResult
from probed.probes import run_probe
from probed.probes.json import same_json
from tests.kit.configs import load_monitors, load_problems, monitor_problem
from tests.kit.monitors import make_monitor
from tests.kit.processes import probed
from tests.kit.servers import CREDENTIALS, Target, serve


async def check(
    target: Target, session: aiohttp.ClientSession, body: bytes, **settings: object
) -> CheckResult:
    target.parts = [body]
    settings.setdefault("timeout", 5)
    settings.setdefault("json_query", "status")
    monitor = make_monitor(
        kind="json", url=target.url(str(settings.pop("path", "/parts"))), **settings
    )
    return await run_probe(monitor, session, datetime.now(UTC))


async def test_the_expected_value_is_up(target: Target, session: aiohttp.ClientSession) -> None:
    result = await check(target, session, b'{"status": "success"}', json_expect="success")
    assert (result.ok, result.reason) == (True, 'status is "success"')
    assert result.status_code == 200 and result.timings.first_byte is not None
    assert [request.method for request in target.seen] == ["GET"]


async def test_a_query_into_nested_values_compares_numbers_lists_and_tables(
    target: Target, session: aiohttp.ClientSession
) -> None:
    body = b'{"db": {"replicas": [{"lag": 0}, {"lag": 2.0}], "ok": true}}'
    lags = await check(target, session, body, json_query="db.replicas[*].lag", json_expect=[0, 2])
    db = await check(
        target, session, body, json_query="db", json_expect={"ok": True, "replicas": []}
    )
    assert (lags.ok, lags.reason) == (True, "db.replicas[*].lag is [0, 2.0]")
    assert (db.ok, db.reason) == (
        False,
        'db is {"replicas": [{"lag": 0}, {"lag": 2.0}], "ok": true}, '
        'expected {"ok": true, "replicas": []}',
    )


def test_true_is_not_1_and_1_is_1_0() -> None:
    assert same_json(1, 1.0) and same_json([{"a": 1}], [{"a": 1.0}])
    assert not same_json(True, 1) and not same_json(0, False) and not same_json([1], {"1": 1})


@pytest.mark.parametrize(
    ("body", "ok", "reason"),
    [
        (b'{"status": "ok"}', True, 'status is "ok"'),
        (b'{"status": 0}', True, "status is 0"),  # JMESPath's truth: 0 is true
        (b'{"status": false}', False, "status is false, expected a value that is not false"),
        (b'{"status": ""}', False, 'status is "", expected a value that is not false'),
        (b'{"other": 1}', False, "status is null, expected a value that is not false"),
    ],
)
async def test_without_json_expect_the_result_must_be_true_in_jmespaths_sense(
    target: Target, session: aiohttp.ClientSession, body: bytes, ok: bool, reason: str
) -> None:
    result = await check(target, session, body)
    assert (result.ok, result.reason.removesuffix(", null or empty")) == (ok, reason)


@pytest.mark.parametrize(
    ("body", "settings", "reason"),
    [
        pytest.param(
            b'{"status": "degraded"}',
            {"json_expect": "success"},
            'status is "degraded", expected "success"',
            id="another value, both rendered as JSON",
        ),
        pytest.param(
            b"",
            {"path": "/status/503"},
            "HTTP 503, expected 2xx",
            id="an unexpected status, judged before the body",
        ),
        *(
            pytest.param(body, {}, "body is not JSON", id=f"a body that is not JSON: {body!r}")
            for body in (b"<html>Service Unavailable</html>", b'{"status": "ok"', b"")
        ),
    ],
)
async def test_a_wrong_answer_is_down_with_the_reason(
    target: Target,
    session: aiohttp.ClientSession,
    body: bytes,
    settings: dict[str, object],
    reason: str,
) -> None:
    result = await check(target, session, body, **settings)
    assert (result.ok, result.reason) == (False, reason)


async def test_a_body_past_max_body_is_down_without_reading_it_all(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await check(target, session, b"", path="/huge", max_body=1024 * 1024)
    assert (result.ok, result.reason) == (False, "body is larger than max_body (1 MiB)")
    exact = await check(target, session, b'"x"', json_query="@", max_body=3)
    assert (exact.ok, exact.reason) == (True, '@ is "x"')


async def test_a_query_that_fails_on_this_document_says_so(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await check(target, session, b'{"status": 5}', json_query="length(status)")
    assert not result.ok
    assert result.reason.startswith("json_query failed: In function length(), invalid type")


async def test_headers_and_basic_auth_of_http_monitors_apply(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await check(
        target,
        session,
        b'{"status": "ok"}',
        headers=(("X-Api-Key", "k1"),),
        basic_auth=BasicAuth(*CREDENTIALS),
    )
    assert result.ok
    assert target.seen[0].headers["X-Api-Key"] == "k1"
    assert target.seen[0].headers["Authorization"].startswith("Basic ")


API = '[[monitor]]\nname = "api"\ntype = "json"\nurl = "https://a.test/h"\n'


def load(tmp_path: Path, keys: str) -> list[Monitor]:
    return load_monitors(tmp_path, API + keys, {"WANT": "success"})


def test_a_json_monitor_reads_its_query_and_any_toml_value_to_expect(tmp_path: Path) -> None:
    [monitor] = load(tmp_path, 'json_query = "status"\njson_expect = "${WANT}"\n')
    assert monitor.check == JsonCheck(json_query="status", json_expect="success")
    [monitor] = load(tmp_path, 'json_query = "db"\njson_expect = { ok = true, n = [1, 2.5] }\n')
    assert monitor.check == JsonCheck(json_query="db", json_expect={"ok": True, "n": [1, 2.5]})


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        (
            'json_query = "status =="',
            'json_query: not a valid JMESPath expression "status ==": '
            "Invalid jmespath expression: Incomplete expression",
        ),
        ('json_query = "s"\nmethod = "POST"', 'method: json checks always use GET, got "POST"'),
        (
            'json_query = "s"\njson_expect = 2026-01-01',
            "json_expect: must be a JSON value, got a date",
        ),
        ("", 'json_query: missing (required for type "json")'),
    ],
)
def test_json_monitor_problems_name_the_monitor_and_key(
    tmp_path: Path, keys: str, problem: str
) -> None:
    assert load_problems(tmp_path, f"{API}{keys}\n") == [monitor_problem(tmp_path, "api", problem)]


async def test_probe_and_check_on_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text(
        '[[monitor]]\nname = "api"\ntype = "json"\nurl = "https://a.test/h"\njson_query = "s"\n'
    )
    async with serve(Target(parts=[b'{"status": "degraded"}'])) as target:
        args = ("probe", "--type", "json", "--json-query", "status", target.url("/parts"))
        up = await asyncio.to_thread(probed, *args)
        down = await asyncio.to_thread(probed, *args, "--json-expect", "success")
        number = await asyncio.to_thread(probed, *args, "--json-expect", "3")
    missing = await asyncio.to_thread(probed, "probe", "--type", "json", "http://127.0.0.1:1/")
    check = await asyncio.to_thread(probed, "check", "-c", str(config))
    assert up.returncode == 0 and 'reason:      status is "degraded"' in up.stdout, up.stderr
    assert down.returncode == 2
    assert 'reason:      status is "degraded", expected "success"' in down.stdout
    assert "expected 3\n" in number.stdout
    assert missing.returncode == 1 and "--type json needs --json-query" in missing.stderr
    assert check.returncode == 0 and "api   json  5m" in check.stdout
