"""Log output: JSON lines off a terminal, and secrets never written."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from probed import logs


@pytest.fixture(autouse=True)
def _restore_structlog():
    yield
    structlog.reset_defaults()


def capture(**event: object) -> dict[str, object]:
    out = io.StringIO()
    logs.configure("debug", stream=out)
    structlog.get_logger("probed").info("check", **event)
    line = out.getvalue().strip()
    return dict(json.loads(line))


def test_lines_are_json_when_not_on_a_terminal():
    event = capture(monitor="api", ok=True)
    assert event["event"] == "check" and event["monitor"] == "api" and event["level"] == "info"
    assert str(event["timestamp"]).endswith("Z")


def test_credentials_in_urls_and_secret_fields_are_never_logged():
    event = capture(
        url="https://alice:s3cret@example.test/health",
        error="cannot reach smtp://bob:hunter2@mail.test:587",
        password="hunter2",
        api_token="t0ken",
        smtp_password="pw",
    )
    text = json.dumps(event)
    for secret in ("s3cret", "hunter2", "t0ken", '"pw"'):
        assert secret not in text
    assert event["url"] == "https://alice:***@example.test/health"


def test_the_level_filters_lines():
    out = io.StringIO()
    logs.configure("warning", stream=out)
    structlog.get_logger("probed").info("quiet")
    structlog.get_logger("probed").warning("loud")
    assert "quiet" not in out.getvalue() and "loud" in out.getvalue()
