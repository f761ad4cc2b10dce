"""probed's own errors to Sentry, the parts without a daemon: the DSN's config, what an event
keeps after scrubbing, which log events are handed on, and a DSN without sentry-sdk."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from probed import logs
from probed.cli import main
from probed.config import load_config
from probed.config.model import Settings
from probed.errors import ConfigError
from probed.service import sentry
from tests.kit.sentry_ingest import require_sentry_sdk

DSN = "https://0123456789abcdef@o1.ingest.sentry.io/42"


@pytest.fixture(autouse=True)
def _restore_structlog():
    yield
    structlog.reset_defaults()


def settings_of(tmp_path: Path, text: str, env: dict[str, str]) -> Settings:
    path = tmp_path / "monitors.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env).settings


def test_the_dsn_comes_from_the_file_else_from_sentry_dsn_and_an_empty_one_turns_it_off(
    tmp_path: Path,
) -> None:
    other = "http://key@127.0.0.1:9000/7"
    assert settings_of(tmp_path, "", {}).sentry_dsn is None
    assert settings_of(tmp_path, "", {"SENTRY_DSN": DSN}).sentry_dsn == DSN
    assert settings_of(tmp_path, f'[probed]\nsentry_dsn = "{other}"\n', {"SENTRY_DSN": DSN}) == (
        Settings(state_dir=settings_of(tmp_path, "", {}).state_dir, sentry_dsn=other)
    )
    assert (
        settings_of(tmp_path, '[probed]\nsentry_dsn = ""\n', {"SENTRY_DSN": DSN}).sentry_dsn is None
    )
    # Settings' repr (in tracebacks, debuggers) leaves the DSN out.
    assert "0123456789abcdef" not in repr(settings_of(tmp_path, "", {"SENTRY_DSN": DSN}))


def test_a_wrong_dsn_from_the_environment_is_named_as_such_with_its_key_hidden(
    tmp_path: Path,
) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"SENTRY_DSN": "https://secretkey@sentry.example.com/project"})
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: [probed] sentry_dsn (from $SENTRY_DSN): must be")
    assert "secretkey" not in problem and "https://***@sentry.example.com/project" in problem


def test_scrub_drops_request_and_user_data_and_redacts_every_string() -> None:
    token = "0123456789abcdef-backup"
    event: dict[str, Any] = {
        "request": {"url": "https://a:b@x.test/", "headers": {"Authorization": "Bearer t"}},
        "user": {"ip_address": "192.0.2.1"},
        "breadcrumbs": {"values": [{"message": "check ok"}]},
        "logentry": {"message": f"push refused at /push/{token}"},
        "exception": {
            "values": [{"type": "ClientError", "value": "https://alice:s3cret@db.test/?api_key=k1"}]
        },
        "extra": {
            "headers": {"X-Auth": "h"},
            "body": "card=4111",
            "api_token": "t0ken",
            "reason": "Authorization: Basic dXNlcjpwYXNz",
            "count": 3,
        },
        "release": "probed@0.2.0",
    }
    scrubbed = sentry.scrub(event, {})
    text = json.dumps(scrubbed)
    for secret in (token, "s3cret", "k1", "4111", "t0ken", "dXNlcjpwYXNz", "192.0.2.1", "X-Auth"):
        assert secret not in text, secret
    assert set(scrubbed) == {"logentry", "exception", "extra", "release"}
    assert scrubbed["extra"]["headers"] == scrubbed["extra"]["body"] == "***"
    assert scrubbed["extra"]["count"] == 3 and scrubbed["release"] == "probed@0.2.0"
    assert "alice:***@db.test" in text and "/push/***" in text


def test_error_events_are_handed_on_redacted_with_their_exception_and_others_are_not() -> None:
    out, reported = io.StringIO(), []
    logs.configure("info", stream=out)
    logs.report_errors(lambda event: reported.append(dict(event)))
    log = structlog.get_logger("probed")
    log.info("check", monitor="api", ok=False)
    log.warning("push not stored")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("check crashed", url="https://u:pw@x.test/")
    log.critical("state lost")
    assert [e["event"] for e in reported] == ["check crashed", "state lost"]
    assert reported[0]["url"] == "https://u:***@x.test/"
    assert reported[0]["exc_info"] is True  # still the exception itself: Sentry gets its stack
    # The log line is written as before, traceback and all.
    assert out.getvalue().count("\n") == 4 and "ValueError: boom" in out.getvalue()


def test_a_reporter_that_fails_costs_no_log_line_and_a_second_one_replaces_it() -> None:
    out, calls = io.StringIO(), []

    def broken(event: object) -> None:
        calls.append(event)
        raise RuntimeError("sentry is down")

    logs.configure("info", stream=out)
    logs.report_errors(broken)
    logs.report_errors(broken)
    structlog.get_logger("probed").error("alert dropped")
    assert json.loads(out.getvalue())["event"] == "alert dropped"
    assert len(calls) == 1


def test_a_dsn_without_sentry_sdk_warns_and_runs_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # import sentry_sdk raises ImportError
    with capture_logs() as logged:
        assert sentry.start(Settings(sentry_dsn=DSN)) is None
    assert [(e["log_level"], e["event"]) for e in logged] == [("warning", sentry.MISSING)]
    assert "pip install 'probed[sentry]'" in sentry.MISSING


def test_without_a_dsn_nothing_is_set_up() -> None:
    with capture_logs() as logged:
        assert sentry.start(Settings()) is None
    assert logged == []


def test_where_events_go_is_shown_without_the_key() -> None:
    assert sentry.destination(DSN) == "o1.ingest.sentry.io (project 42)"


def test_probed_check_says_where_errors_go_or_that_sentry_sdk_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(f'[probed]\nsentry_dsn = "{DSN}"\n', encoding="utf-8")
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)
    assert main(["check", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert sentry.MISSING in out and "0123456789abcdef" not in out
    monkeypatch.undo()
    require_sentry_sdk()
    assert main(["check", "-c", str(path)]) == 0
    assert (
        "errors reported to sentry at o1.ingest.sentry.io (project 42)" in capsys.readouterr().out
    )
