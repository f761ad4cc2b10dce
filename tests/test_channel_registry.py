"""The channel types' registry: every [alerts.NAME] table is read and sent by the type it names,
an unknown type is a config error, and the alert counters start at 0 for every kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from probed.alerts.channels import make_channels
from probed.config import ConfigError, parse_config
from probed.config.channels import CHANNEL_TYPES
from probed.model import CHANNEL_KINDS, AlertKind
from probed.service.build import build
from tests.kit.clock import FakeClock

ENV = {"HOME": "/nonexistent"}

SAMPLES = {
    "email": 'host = "127.0.0.1"\nport = 2525\nsecurity = "none"\nfrom = "p@example.test"\n'
    'to = ["a@example.test", "b@example.test"]\ntimeout = "5s"\nkinds = ["down", "up"]\n',
    "webhook": 'url = "http://127.0.0.1:1/hook"\nheaders = { X-Team = "ops" }\nsecret = "s"\n'
    'timeout = "3s"\ntemplate = "{{ subject }}"\nkinds = ["ssl"]\n',
    "alertmanager": 'urls = ["http://127.0.0.1:1", "http://127.0.0.1:2"]\ntimeout = "2s"\n'
    'resend_every = "30s"\nkinds = ["degraded", "recovered"]\n',
    "apprise": 'urls = ["json://127.0.0.1:1/chat"]\ntimeout = "4s"\nkinds = ["reminder"]\n',
}
"""A table of each type that sets most of its keys (a new type needs one here)."""


def load(tmp_path: Path, text: str):
    return parse_config(
        f'[probed]\nstate_dir = "{tmp_path / "state"}"\n{text}', tmp_path / "m.toml", ENV
    )


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.problems


def test_every_registered_type_has_a_sample_table() -> None:
    assert set(SAMPLES) == set(CHANNEL_TYPES)


def test_an_unknown_type_is_a_config_error_naming_the_known_types(tmp_path: Path) -> None:
    text = '[alerts.chat]\ntype = "slack"\nurls = ["slack://x/y/z"]\n'
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'm.toml'}: [alerts.chat] type: must be one of"
        ' email, webhook, alertmanager, apprise; got "slack"'
    ]


def test_a_table_of_no_type_and_no_type_name_is_a_config_error(tmp_path: Path) -> None:
    assert problems(tmp_path, '[alerts.chat]\nurls = ["json://127.0.0.1:1/x"]\n') == [
        f"{tmp_path / 'm.toml'}: [alerts.chat] type: missing"
        " (required: one of email, webhook, alertmanager, apprise)"
    ]


@pytest.mark.parametrize("name", list(CHANNEL_TYPES))
def test_each_type_reads_the_same_by_its_name_or_by_type(tmp_path: Path, name: str) -> None:
    channel = CHANNEL_TYPES[name]
    by_name = load(tmp_path, f"[alerts.{name}]\n{SAMPLES[name]}").channel_settings[name]
    by_type = load(tmp_path, f'[alerts.other]\ntype = "{name}"\n{SAMPLES[name]}')
    settings = by_type.channel_settings["other"]
    assert type(settings) is channel.settings and settings.type == name == channel.name
    assert settings == by_name
    assert settings.kinds is not None and settings.kinds <= set(CHANNEL_KINDS)


@pytest.mark.parametrize("name", list(CHANNEL_TYPES))
def test_a_key_of_another_type_is_refused_by_the_type_read(tmp_path: Path, name: str) -> None:
    foreign = next(
        k for c in CHANNEL_TYPES.values() for k in c.keys if k not in CHANNEL_TYPES[name].keys
    )
    table = f'[alerts.x]\ntype = "{name}"\n{SAMPLES[name]}{foreign} = "1"\n'
    found = problems(tmp_path, table)
    assert len(found) == 1 and f"[alerts.x] {foreign}: unknown key" in found[0]


def test_kinds_are_the_single_alert_kinds_of_alert_kind(tmp_path: Path) -> None:
    every = ", ".join(f'"{k}"' for k in CHANNEL_KINDS)
    config = load(
        tmp_path,
        f'[alerts.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:1/"\nkinds = [{every}]\n',
    )
    assert config.channel_settings["hook"].kinds == frozenset(CHANNEL_KINDS)
    assert set(CHANNEL_KINDS) == set(AlertKind) - {
        AlertKind.DIGEST,
        AlertKind.TEST,
        AlertKind.REPORT,
    }
    for kind in ("digest", "test", "report"):
        found = problems(
            tmp_path,
            f'[alerts.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:1/"\nkinds = ["{kind}"]\n',
        )
        assert found == [
            f'{tmp_path / "m.toml"}: [alerts.hook] kinds: unknown alert kind "{kind}"'
            " (known: down, up, ssl, reminder, degraded, recovered, domain)"
        ]


def every_type(tmp_path: Path):
    tables = "".join(f'[alerts.my-{name}]\ntype = "{name}"\n{SAMPLES[name]}' for name in SAMPLES)
    monitors = (
        '[[monitor]]\nname = "api"\nurl = "http://127.0.0.1:1/"\nalert = ["my-alertmanager"]\n'
        '[[monitor]]\nname = "web"\nurl = "http://127.0.0.1:2/"\nalert = ["my-email"]\n'
    )
    return load(tmp_path, tables + monitors)


def test_make_channels_builds_the_sender_the_registry_names_for_each_type(tmp_path: Path) -> None:
    config = every_type(tmp_path)
    channels = make_channels(config)
    assert list(channels) == [f"my-{name}" for name in CHANNEL_TYPES]
    for name, channel in CHANNEL_TYPES.items():
        built = channels[f"my-{name}"]
        assert type(built) is channel.load_sender()
        assert built.name == f"my-{name}"
    # What a sender gets besides its settings: the monitors that alert through it.
    assert channels["my-alertmanager"].monitors == {"api"}  # type: ignore[attr-defined]
    assert channels["my-webhook"].settings == config.channel_settings["my-webhook"]  # type: ignore[attr-defined]


async def test_alert_counters_start_at_0_for_every_channel_kind_and_outcome(
    tmp_path: Path,
) -> None:
    config = every_type(tmp_path)
    parts = build(config, FakeClock())
    try:
        async with TestClient(TestServer(parts.app, host="127.0.0.1")) as client:
            response = await client.get("/metrics")
            assert response.status == 200
            text = await response.text()
    finally:
        await parts.aclose()
    samples = {
        (s.labels["channel"], s.labels["kind"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "probed_alerts"
        for s in family.samples
        if s.name == "probed_alerts_total"
    }
    expected = {
        (channel, str(kind), outcome)
        for channel in config.channels
        for kind in AlertKind
        for outcome in ("sent", "failed")
    }
    assert set(samples) == expected
    assert set(samples.values()) == {0.0}
    assert ("my-email", "degraded", "sent") in samples and (
        "my-email",
        "recovered",
        "failed",
    ) in samples
