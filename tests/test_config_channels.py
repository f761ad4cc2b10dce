"""Reading [alerts.NAME] channels, severity, tags and location from monitors.toml."""

from __future__ import annotations

from pathlib import Path

from probed.config import EmailChannel, load_config
from probed.config.channels import AlertmanagerChannel, AppriseChannel, WebhookChannel

TEXT = """
[probed]
location = "fra"

[defaults]
alert = ["email", "hook"]
severity = "warning"
tags = { env = "prod" }

[alerts.email]
host = "smtp.example.com"
from = "probed@example.com"
to = ["oncall@example.com"]
kinds = ["down", "up"]

[alerts.hook]
type = "webhook"
url = "https://hooks.example.com/probed"
headers = { Authorization = "Bearer ${HOOK_TOKEN}" }
secret_file = "hook.secret"
timeout = "5s"

[alerts.alertmanager]
urls = ["http://127.0.0.1:9093", "http://127.0.0.1:9094/"]

[alerts.sms]
type = "apprise"
urls = ["ntfy://ntfy.example.invalid/probed"]
kinds = ["down"]

[[monitor]]
name = "db"
url = "https://db.example.com/health"
alert = ["sms", "alertmanager"]
severity = "critical"
tags = { team = "db" }

[[monitor]]
name = "web"
url = "https://web.example.com/"
"""


def load(tmp_path: Path, env: dict[str, str], text: str = TEXT):
    (tmp_path / "hook.secret").write_text("s3cret\n")
    path = tmp_path / "monitors.toml"
    path.write_text(text)
    return load_config(path, env)


def test_every_channel_table_is_read_by_its_type_in_file_order(tmp_path: Path) -> None:
    config = load(tmp_path, {"HOOK_TOKEN": "t0k"})
    settings = config.channel_settings
    assert list(settings) == ["email", "hook", "alertmanager", "sms"]
    assert isinstance(settings["email"], EmailChannel)
    assert settings["email"].kinds == frozenset({"down", "up"})
    hook = settings["hook"]
    assert isinstance(hook, WebhookChannel)
    assert (hook.secret, hook.timeout, hook.headers) == (
        "s3cret",
        5.0,
        (("Authorization", "Bearer t0k"),),
    )
    assert "s3cret" not in repr(hook) and "t0k" not in repr(hook)
    am = settings["alertmanager"]
    assert isinstance(am, AlertmanagerChannel) and am.resend_every == 60.0
    sms = settings["sms"]
    assert isinstance(sms, AppriseChannel) and sms.kinds == frozenset({"down"})


def test_severity_tags_and_alert_lists_merge_with_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, {"HOOK_TOKEN": "t"})
    db, web = config.monitors
    assert (db.alert, db.severity, db.tags) == (
        ("sms", "alertmanager"),
        "critical",
        (("env", "prod"), ("team", "db")),
    )
    assert (web.alert, web.severity, web.tags) == (("email", "hook"), "warning", (("env", "prod"),))


def test_location_comes_from_the_file_else_from_probed_location(tmp_path: Path) -> None:
    env = {"HOOK_TOKEN": "t", "PROBED_LOCATION": "ams"}
    assert load(tmp_path, env).settings.location == "fra"
    without = TEXT.replace('location = "fra"\n', "")
    assert load(tmp_path, env, without).settings.location == "ams"
    assert load(tmp_path, {"HOOK_TOKEN": "t"}, without).settings.location is None


def test_an_email_channel_of_another_name_is_a_second_smtp_channel(tmp_path: Path) -> None:
    text = TEXT + '\n[alerts.ops-mail]\ntype = "email"\nhost = "mx.example.com"\n'
    text += 'from = "probed@example.com"\nto = ["ops@example.com"]\n'
    config = load(tmp_path, {"HOOK_TOKEN": "t"}, text)
    ops = config.channel_settings["ops-mail"]
    assert isinstance(ops, EmailChannel) and ops.to == ("ops@example.com",)
    assert config.email is not None and config.email.host == "smtp.example.com"
