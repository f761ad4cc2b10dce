"""A JSON Schema of monitors.toml, generated from the config model, for editors (Taplo / Even
Better TOML: completion, hover and validation as you type).

The keys come from the readers' key lists and each kind's check type, the value types from the
dataclasses' annotations, so a new key or kind reaches the schema by itself; tests keep the
shipped files equal to json_schema(). The schema describes the file's shape only: what needs
the environment, the file system or the other tables (``${VAR}``, ``ca_file`` contents, unique
names, ``timeout`` not above ``interval``) is for ``probed check``.

Regenerate the shipped copies with::

    python -m probed.config.schema > schema/monitors.schema.json
    cp schema/monitors.schema.json probed/monitors.schema.json
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from probed.config.channels import CHANNEL_TYPES
from probed.config.channels.email import SECURITY_PORTS
from probed.config.http import HTTP_METHODS
from probed.config.kinds import KINDS
from probed.config.maintenance import WINDOW_KEYS
from probed.config.model import Monitor, Settings
from probed.config.oncall import STEP_KEYS
from probed.config.report import EVERY, REPORT_KEYS
from probed.config.settings_table import SETTINGS_KEYS
from probed.config.status_page import LAYOUTS, STATUS_PAGE_KEYS, StatusPage
from probed.config.subscriptions import WEBHOOK_KEYS, SubscriberWebhook
from probed.config.tables import (
    DEFAULTS_KEYS,
    MONITOR_KEYS,
)
from probed.evidence import EVIDENCE_BYTES_MAX
from probed.model import CHANNEL_KINDS

Schema = dict[str, Any]

SCHEMA_ID = "https://probed.invalid/monitors.schema.json"
"""A placeholder: the schema is referred to by path (``#:schema ./monitors.schema.json``)."""

DEFINITIONS: dict[str, Schema] = {
    "duration": {
        "description": 'A duration: "30s", "5m", "1h30m", "2d", "500ms", "0" or integer seconds.',
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": r"^\s*(0|([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+)\s*$"},
            {"type": "string", "pattern": r"\$\{"},
        ],
    },
    "strings": {
        "description": "A string or an array of strings.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    },
    "secret_file": {"type": "string", "description": "A file whose contents are the value."},
}
DURATION: Schema = {"$ref": "#/definitions/duration"}
"""float fields are durations in seconds throughout the model."""
STRINGS: Schema = {"$ref": "#/definitions/strings"}
SECRET_FILE: Schema = {"$ref": "#/definitions/secret_file"}
HTTP_URL: Schema = {
    "type": "string",
    "description": "An http:// or https:// URL with a host.",
    # Or a ${VAR} to expand first: what it holds is for `probed check`.
    "pattern": r"^(https?://[^/?#\s]|\$\{)",
}

SPECIAL: dict[str, Schema] = {
    "type": {"enum": list(KINDS), "default": next(iter(KINDS))},
    "method": {"enum": [*HTTP_METHODS, *(m.lower() for m in HTTP_METHODS)]},
    "expect_status": {
        "description": 'Status codes, classes ("2xx") or ranges ("200-399").',
        "anyOf": [
            {"type": "integer"},
            {"type": "string"},
            {"type": "array", "items": {"type": ["integer", "string"]}, "minItems": 1},
        ],
    },
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "basic_auth": {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
            "password_file": SECRET_FILE,
        },
        "required": ["username"],
        "additionalProperties": False,
    },
    "proxy": {"type": "string", "pattern": r"^(http://[^/?#\s]|\$\{)"},
    "oauth2": {
        "type": "object",
        "properties": {
            "token_url": HTTP_URL,
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
            "client_secret_file": SECRET_FILE,
            "scopes": STRINGS,
        },
        "required": ["token_url", "client_id"],
        "additionalProperties": False,
    },
    "json_expect": {"description": "Any TOML value the JMESPath result must equal."},
    "security": {"enum": list(SECURITY_PORTS)},
    "loss_max": {
        "description": 'A ratio (0.2) or a percentage ("20%").',
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": 1},
            {"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"},
        ],
    },
    "ip_version": {"enum": [4, 6, "4", "6", "auto"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 100},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "from": {"type": "string"},
    "api_token_file": SECRET_FILE,
    "password_file": SECRET_FILE,
    "runbook": HTTP_URL,
    "external_url": HTTP_URL,
    "evidence_bytes": {"type": "integer", "minimum": 0, "maximum": EVIDENCE_BYTES_MAX},
    "escalate": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"after": DURATION, "alert": STRINGS},
            "required": list(STEP_KEYS),
            "additionalProperties": False,
        },
    },
}
"""Keys whose TOML form is not their field's type (or that no field holds)."""


def json_schema() -> Schema:
    """The schema of monitors.toml (draft-07, which editors' TOML tooling reads)."""
    monitor = _monitor()
    defaults_keys = {k: monitor["properties"][k] for k in DEFAULTS_KEYS}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "probed monitors.toml",
        "description": "Configuration of probed, the uptime probe daemon (probed check"
        " validates it in full).",
        "type": "object",
        "properties": {
            "probed": _table(SETTINGS_KEYS, _types(Settings)),
            "defaults": {
                "type": "object",
                "properties": defaults_keys,
                "additionalProperties": False,
            },
            "alerts": _alerts(),
            "monitor": {"type": "array", "items": monitor},
            "maintenance": {"type": "array", "items": _maintenance()},
            "status_page": _status_page(),
            "report": _report(),
            "subscriptions": _subscriptions(),
        },
        "additionalProperties": False,
        "definitions": DEFINITIONS,
    }


def _alerts() -> Schema:
    """``[alerts.NAME]`` channels: NAME may be the type itself, else ``type`` says it."""
    tables = {
        name: _table(channel.keys, _types(channel.settings), list(channel.required))
        for name, channel in CHANNEL_TYPES.items()
    }
    for table in tables.values():
        table["properties"]["type"] = {"enum": list(CHANNEL_TYPES)}
        table["properties"]["kinds"] = {"type": "array", "items": {"enum": list(CHANNEL_KINDS)}}
    named: Schema = {
        "type": "object",
        "required": ["type"],
        "allOf": [
            {"if": {"properties": {"type": {"const": name}}}, "then": table}
            for name, table in tables.items()
        ],
    }
    return {"type": "object", "properties": tables, "additionalProperties": named}


def _monitor() -> Schema:
    types_: dict[str, Schema] = {}
    for kind in KINDS.values():
        types_ |= _types(kind.check)
    types_ |= _types(Monitor)
    schema = _table(MONITOR_KEYS, types_, ["name"])
    common = [
        k for k in MONITOR_KEYS if k not in {key for kind in KINDS.values() for key in kind.keys}
    ]
    schema["allOf"] = [_kind_rule(name, common) for name in KINDS]
    return schema


def _kind_rule(name: str, common: list[str]) -> Schema:
    """Monitors of kind ``name`` set its required keys and no key of another kind only."""
    kind = KINDS[name]
    allowed = [*common, *kind.keys]
    required = list(kind.required)
    if kind.url_problem is None:  # push: its URL is probed's own /push/<token>
        allowed.remove("url")
    else:
        required.insert(0, "url")
    if name in ("http", "keyword"):
        allowed.append("ssl_expiry_days")  # accepted and ignored since 0.1 (see tables._check)
    selector: Schema = {"properties": {"type": {"const": name}}, "required": ["type"]}
    if name == next(iter(KINDS)):  # the default kind: also when type is not set
        selector = {"anyOf": [selector, {"not": {"required": ["type"]}}]}
    then: Schema = {"propertyNames": {"enum": sorted(set(allowed))}}
    if required:
        then["required"] = required
    # A secret read from a file (``token_file``) stands in for the key itself.
    secrets = [k.removesuffix("_file") for k in kind.extra_keys if k.endswith("_file")]
    if secrets:
        then["allOf"] = [
            {"anyOf": [{"required": [k]}, {"required": [f"{k}_file"]}]} for k in secrets
        ]
    return {"if": selector, "then": then}


def _subscriptions() -> Schema:
    hook = _table(WEBHOOK_KEYS, _types(SubscriberWebhook), ["url"])
    webhooks = {"type": "array", "items": hook}
    return {"type": "object", "properties": {"webhooks": webhooks}, "additionalProperties": False}


def _maintenance() -> Schema:
    schema = _table(WINDOW_KEYS, {}, ["name", "monitors"])
    props = schema["properties"]
    props["name"] = {"type": "string"}
    props["monitors"] = STRINGS
    props["start"] = props["end"] = {
        "description": "A TOML date-time with an offset, or an RFC 3339 string.",
        "type": "string",
        "format": "date-time",
    }
    props["days"] = {
        "type": "array",
        "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
    }
    props["time"] = {"type": "string", "pattern": r"^\d{1,2}:\d{2}$"}
    props["duration"] = DURATION
    props["timezone"] = {"type": "string", "description": "An IANA timezone, e.g. Europe/Berlin."}
    return schema


def _status_page() -> Schema:
    schema = _table(STATUS_PAGE_KEYS, _types(StatusPage))
    props = schema["properties"]
    props["accent"] = {"type": "string", "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"}
    props["layout"] = {"enum": list(LAYOUTS)}
    link = _table(("title", "url"), {"title": {"type": "string"}, "url": {"type": "string"}})
    link["required"] = ["title", "url"]
    props["footer_links"] = {"type": "array", "items": link}
    return schema


def _report() -> Schema:
    schema = _table(REPORT_KEYS, {})
    props = schema["properties"]
    props["every"] = {"enum": list(EVERY), "default": "1w"}
    props["at"] = {
        "type": "string",
        "pattern": r"^([A-Za-z]{3}|[0-9]{1,2})\s+\d{1,2}:\d{2}$",
    }
    props["timezone"] = {
        "type": "string",
        "description": "An IANA timezone, e.g. Europe/Berlin.",
        "default": "UTC",
    }
    props["alert"] = STRINGS
    return schema


def _table(
    keys: typing.Iterable[str], types_: dict[str, Schema], required: list[str] | None = None
) -> Schema:
    properties = {key: SPECIAL.get(key) or types_.get(key) or {} for key in keys}
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _types(cls: type) -> dict[str, Schema]:
    """A schema for each dataclass field, from its annotation."""
    hints = typing.get_type_hints(cls)
    return {f.name: _of(hints[f.name]) for f in fields(cls)}


def _of(hint: Any) -> Schema:
    if isinstance(hint, types.UnionType):  # X | None: an optional key
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _of(inner)
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return DURATION
    if hint in (str, Path):
        return {"type": "string"}
    if typing.get_origin(hint) is tuple and typing.get_args(hint)[0] is str:
        return STRINGS
    return {}  # object: any value


def main() -> None:
    print(json.dumps(json_schema(), indent=2))


if __name__ == "__main__":
    main()
