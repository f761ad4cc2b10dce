"""A password or token in a monitor's URL never reaches anything a person or a client sees:
the APIs, alert emails, the CLI, the logs and the database file."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from probed import logs
from probed.redact import redact
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, email_channel, make_config
from tests.kit.harness import Harness, api_client
from tests.kit.monitors import make_monitor
from tests.kit.processes import run_cli
from tests.kit.smtp import SmtpServer

SECRET = "s3cr3t-p@ss"
URL = f"https://alice:{SECRET}@api.example.test/health"
SHOWN = "https://alice:***@api.example.test/health"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (URL, SHOWN),
        ("https://TOKEN123@api.test/x", "https://***@api.test/x"),
        (
            "smtp://bob:hunter2@mail.test:587 and http://c:d@e.test",
            "smtp://bob:***@mail.test:587 and http://c:***@e.test",
        ),
        ("https://api.test/path?next=a@b.test", "https://api.test/path?next=a@b.test"),
        ("https://api.test/", "https://api.test/"),
    ],
)
def test_redact_hides_passwords_and_tokens_and_nothing_else(text, shown):
    assert redact(text) == shown


async def test_the_apis_and_the_database_never_show_the_password(tmp_path, monkeypatch):
    h = Harness.of(tmp_path / "probed.db", [make_monitor("api", url=URL)])
    await h.check("api", ok=False)
    await h.check("api", ok=False)
    clients = api_client(h)
    client = await anext(clients)
    try:
        v1 = await (await client.get("/api/v1/monitors")).text()
        v2 = await (
            await client.post("/v2/getMonitors", data={"api_key": TOKEN, "logs": "1"})
        ).text()
        found = await (
            await client.post("/v2/getMonitors", data={"api_key": TOKEN, "search": "p@ss"})
        ).json()
    finally:
        await clients.aclose()
    await h.close()
    for answer in (v1, v2):
        assert SECRET not in answer and SHOWN in answer.replace("\\/", "/")
    assert found["monitors"] == []  # search cannot be used to guess the password
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("probed.db*"))
    assert SECRET.encode() not in stored


async def test_alert_emails_never_show_the_password(tmp_path):
    smtp = await SmtpServer().start()
    try:
        config = make_config(tmp_path, [make_monitor("api", url=URL)], email_channel(smtp.port))
        h = Harness(config, FakeClock())
        await h.go_down("api")
        await h.dispatcher.run_once()
        await h.close()
        (mail,) = smtp.inbox
        for part in ("plain", "html"):
            assert SECRET not in mail.part(part) and "alice:***@" in mail.part(part)
    finally:
        await smtp.stop()


async def test_probed_check_never_shows_the_password(tmp_path):
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nstate_dir = "{tmp_path}"\n[[monitor]]\nname = "api"\nurl = "{URL}"\n'
    )
    code, out, err = await run_cli("check", "-c", str(config))
    assert code == 0, err
    assert SECRET not in out + err and SHOWN in out


def test_a_failed_reloads_problems_are_redacted_in_the_log():
    out = io.StringIO()
    logs.configure("info", stream=out)
    try:
        structlog.get_logger("probed").error("reload failed", problems=[f'url: "{URL}" is bad'])
    finally:
        structlog.reset_defaults()
    assert SECRET not in out.getvalue()
    assert json.loads(out.getvalue())["problems"] == [f'url: "{SHOWN}" is bad']
