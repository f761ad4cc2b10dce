"""The JSON Schema of monitors.toml: generated from the config model, shipped twice (the repo's
schema/ for editors, the package for installs), and the shipped configs validate against it."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from probed.config.schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "schema" / "monitors.schema.json"
CONFIGS = [
    ROOT / "monitors.toml",
    *sorted((ROOT / "examples").glob("*.toml")),
    *sorted((ROOT / "probed" / "templates").glob("*.toml")),  # probed init's starter
]
REGENERATE = "python -m probed.config.schema > schema/monitors.schema.json"


def as_json(value: object) -> object:
    """TOML data as an editor's schema validator sees it: dates and times as RFC 3339 text."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def validator() -> jsonschema.protocols.Validator:
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def errors(text: str) -> list[str]:
    return [e.message for e in validator().iter_errors(as_json(tomllib.loads(text)))]


def test_the_shipped_schema_files_are_the_generated_schema() -> None:
    generated = json.dumps(json_schema(), indent=2) + "\n"
    assert SHIPPED.read_text() == generated, f"regenerate: {REGENERATE}"
    packaged = resources.files("probed") / "monitors.schema.json"
    assert packaged.read_text(encoding="utf-8") == generated, "copy it to probed/ too"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_the_shipped_configs_validate(config: Path) -> None:
    data = as_json(tomllib.loads(config.read_text()))
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(data)]
    assert problems == []


def test_every_kind_and_its_keys_are_known_to_the_schema() -> None:
    assert (
        errors(
            '[[monitor]]\nname = "a"\nurl = "https://a.test/"\nmethod = "HEAD"\n'
            'expect_status = ["2xx", 301]\nheaders = { X-Key = "v" }\n'
            'basic_auth = { username = "u", password_file = "/run/pw" }\n'
            '[[monitor]]\nname = "b"\ntype = "keyword"\nurl = "https://b.test/"\nkeyword = "ok"\n'
            '[[monitor]]\nname = "c"\ntype = "tcp"\nurl = "tcp://c.test:5432"\ntls = true\n'
            '[[monitor]]\nname = "d"\ntype = "dns"\nurl = "dns:///d.test"\nexpect = ["1.2.3.4"]\n'
            '[[monitor]]\nname = "e"\ntype = "json"\nurl = "https://e.test/"\njson_query = "x"\n'
            "json_expect = 3\n"
            '[[monitor]]\nname = "f"\ntype = "ssl"\nurl = "https://f.test/"\nssl_expiry_days = 9\n'
            '[[monitor]]\nname = "g"\ntype = "push"\ntoken = "0123456789abcdef"\ngrace = "5m"\n'
            '[[monitor]]\nname = "h"\ntype = "push"\ntoken_file = "/run/token"\n'
        )
        == []
    )


def test_every_channel_type_is_known_to_the_schema() -> None:
    assert (
        errors(
            '[alerts.webhook]\nurl = "https://h.test/"\nsecret_file = "/run/s"\nkinds = ["down"]\n'
            '[alerts.pager]\ntype = "alertmanager"\nurls = ["http://am.test:9093"]\n'
            '[alerts.chat]\ntype = "apprise"\nurls = ["ntfy://ntfy.test/topic"]\n'
            '[alerts.backup]\ntype = "email"\nhost = "h"\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
        )
        == []
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[probed]\nlisten = "127.0.0.1:1"\nlisten_on = 3\n', "'listen_on' was unexpected"),
        ("[defaults]\ninterval = 5m\n".replace("5m", '"5 minutes"'), "is not valid"),
        ('[[monitor]]\nname = "a"\ntype = "keyword"\nurl = "https://a.test/"\n', "'keyword'"),
        (
            '[[monitor]]\nname = "a"\ntype = "gopher"\nurl = "https://a.test/"\n',
            "'gopher' is not one of",
        ),
        (
            '[[monitor]]\nname = "a"\nurl = "https://a.test/"\nkeyword = "x"\n',
            "'keyword' is not one of",
        ),
        ('[[monitor]]\nurl = "https://a.test/"\n', "'name' is a required property"),
        (
            '[alerts.email]\nhost = "h"\nfrom = "a@b.c"\nto = "x@y.z"\nsecurity = "ssl"\n',
            "'ssl' is not one of",
        ),
        ('[[monitor]]\nname = "a"\ntype = "push"\n', "is not valid under any of the given"),
        (
            '[[monitor]]\nname = "a"\ntype = "push"\ntoken = "0123456789abcdef"\nurl = "x"\n',
            "'url' is not one of",
        ),
        ('[[monitor]]\nname = "a"\ntype = "tcp"\n', "'url' is a required property"),
        ('[alerts.pager]\nurls = ["http://am.test:9093"]\n', "'type' is a required property"),
        ('[alerts.hook]\ntype = "webhook"\nurls = ["https://h.test/"]\n', "'url' is a required"),
        ('[alerts.webhook]\nurl = "https://h.test/"\nkinds = ["late"]\n', "'late' is not one"),
    ],
)
def test_the_schema_catches_what_an_editor_should_underline(text: str, message: str) -> None:
    assert any(message in problem for problem in errors(text)), errors(text)
