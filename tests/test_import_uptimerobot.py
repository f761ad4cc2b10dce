"""``probed import uptimerobot``: a getMonitors answer shaped as UptimeRobot documents it, with
every monitor type, becomes a monitors.toml that ``probed check`` accepts; what cannot be
carried over is said in comments, and no credential is copied."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from probed.config import KINDS
from tests.kit.processes import run_cli
from tests.test_schema import errors

SAMPLE = Path(__file__).parent / "data" / "uptimerobot-getMonitors.json"
ENV = {
    "UPTIMEROBOT_PASSWORD_777712827": "hunter2",
    "UPTIMEROBOT_HEADER_777712828_AUTHORIZATION": "Bearer x",
    "UPTIMEROBOT_PUSH_TOKEN_777712833": "a-push-token-of-some-length",
}


async def imported(path: Path = SAMPLE) -> str:
    code, out, err = await run_cli("import", "uptimerobot", str(path))
    assert code == 0, err
    assert err == ""
    return out


async def test_the_import_passes_probed_check(tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text(await imported())

    code, out, err = await run_cli(
        "check", "-c", str(config), env={**os.environ, **ENV}, cwd=tmp_path
    )

    assert code == 0, err
    carried = 8 if "push" in KINDS else 7  # ping monitors too, since issue 24
    assert f"OK, {carried} monitors" in out
    # ... and an editor with the schema underlines nothing in it.
    assert errors(config.read_text()) == []


async def test_types_schedules_pauses_methods_and_auth_are_carried_over() -> None:
    text = await imported()
    monitors = {m["name"]: m for m in tomllib.loads(text)["monitor"]}

    assert monitors["Google"] == {
        "name": "Google",
        "id": 777749809,
        "url": "http://www.google.com",
        "interval": "15m",
    }
    web = monitors["My Web Page"]
    assert (web["method"], web["paused"], web["interval"], web["timeout"]) == (
        "HEAD",
        True,
        "1m",
        "30s",
    )
    assert web["basic_auth"] == {
        "username": "admin",
        "password": "${UPTIMEROBOT_PASSWORD_777712827}",
    }
    health = monitors["Health keyword"]
    # keyword_type 2: UptimeRobot alerts when the keyword is missing; case type 1: insensitive.
    assert (health["type"], health["keyword"], health["keyword_absent"]) == (
        "keyword",
        "success",
        False,
    )
    assert health["keyword_case_sensitive"] is False
    assert health["expect_status"] == ["2xx", 418]
    assert health["headers"] == {
        "X-Env": "prod",
        "Authorization": "${UPTIMEROBOT_HEADER_777712828_AUTHORIZATION}",
    }
    error_page = monitors["Error page absent"]
    # keyword_type 1: UptimeRobot alerts when the keyword exists; case type 0: sensitive.
    assert (error_page["keyword_absent"], error_page["keyword_case_sensitive"]) == (True, True)
    assert error_page["timeout"] == "2m"  # 300 s would exceed the 2 min interval
    assert monitors["FTP"]["url"] == "tcp://ftp.example.com:21"
    assert monitors["Custom port"]["url"] == "tcp://10.0.0.5:8000"
    assert (monitors["FTP"]["type"], monitors["Custom port"]["type"]) == ("tcp", "tcp")


async def test_ping_monitors_are_carried_over_as_ping_monitors(tmp_path: Path) -> None:
    answer = json.loads(SAMPLE.read_text())
    router = next(m for m in answer["monitors"] if m["type"] == 3)
    answer["monitors"] += [
        {**router, "id": 1, "friendly_name": "v6", "url": "2001:db8::1"},
        {**router, "id": 2, "friendly_name": "pasted", "url": "https://gw.example.com/x"},
        {**router, "id": 3, "friendly_name": "blank", "url": ""},
    ]
    saved = tmp_path / "answer.json"
    saved.write_text(json.dumps(answer))
    text = await imported(saved)
    monitors = {m["name"]: m for m in tomllib.loads(text).get("monitor", [])}
    urls = {name: monitors[name]["url"] for name in ("Router ping", "v6", "pasted")}
    assert urls == {
        "Router ping": "icmp://192.0.2.1",
        "v6": "icmp://[2001:db8::1]",
        "pasted": "icmp://gw.example.com",
    }
    assert {monitors[name]["type"] for name in urls} == {"ping"}
    assert monitors["Router ping"]["interval"] == "5m"
    assert "blank" not in monitors and "not carried over: no host to ping in url ''" in text


async def test_what_cannot_be_carried_over_is_said_and_no_credential_is_copied() -> None:
    text = await imported()

    assert "hunter2-do-not-print" not in text and "abc-secret" not in text
    assert "UPTIMEROBOT_PASSWORD_777712827" in text.split("[[monitor]]")[0]  # the header says so
    assert "not carried over: a ping monitor" not in text
    assert "not carried over: alert contact 457" in text
    assert "not carried over: maintenance window id 345" in text
    assert "not carried over: history (logs)" in text
    assert "shortened to 120s" in text
    heartbeat = text[text.index('name = "Nightly backup"') - 20 :]
    if "push" in KINDS:
        assert '\ntype = "push"' in heartbeat
    else:
        assert '# type = "push"' in heartbeat and 'no "push" kind' in heartbeat


async def test_unknown_fields_types_and_further_pages_are_listed_not_dropped(
    tmp_path: Path,
) -> None:
    answer = json.loads(SAMPLE.read_text())
    answer["pagination"]["total"] = 60
    answer["monitors"][0]["custom_field"] = {"a": 1}
    answer["monitors"].append(
        {"id": 9, "friendly_name": "Google", "url": "1.1.1.1", "type": 6, "interval": 60}
    )
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(answer))

    text = await imported(path)

    assert 'not carried over: custom_field = {"a": 1}' in text
    assert "not carried over: a type 6 monitor" in text
    assert 'name = "Google #9"' in text and 'renamed from "Google"' in text
    assert "not carried over: monitors 10-60 of 60" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Expecting property name"),
        ('{"stat": "fail", "error": {"type": "not_authorized"}}', "not a getMonitors answer"),
        ("[]", "not a getMonitors answer"),
    ],
)
async def test_a_file_that_is_not_a_getmonitors_answer_is_refused(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "answer.json"
    path.write_text(content)

    code, out, err = await run_cli("import", "uptimerobot", str(path))

    assert (code, out) == (1, "")
    assert message in err and str(path) in err
