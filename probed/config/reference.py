"""The configuration reference, docs/configuration.md, generated from the config model.

Keys, TOML types and which keys are required come from the JSON Schema (probed.config.schema),
defaults from the model's dataclasses, the sentence per key from probed.config.key_help (else
the field's docstring); tests/test_config_reference.py keeps the shipped file equal to
reference(), so the reference cannot drift from what ``probed check`` reads.

Regenerate with::

    python -m probed.config.reference > docs/configuration.md
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from probed.config import channels
from probed.config.key_help import DEFAULT_TEXT, HELP, TYPE_TEXT
from probed.config.kinds import KINDS
from probed.config.maintenance import MaintenanceWindow
from probed.config.model import Monitor, Settings
from probed.config.report import ReportSettings
from probed.config.schema import Schema, json_schema
from probed.config.status_page import StatusPage
from probed.config.subscriptions import SubscriberWebhook
from probed.units import format_duration

REGENERATE = "python -m probed.config.reference > docs/configuration.md"

INTRO = """\
# Configuration reference

<!-- Generated from the config model by `{regenerate}`; do not edit. -->

Every key of `monitors.toml`, table by table: its TOML type, its default and what it does. The
shipped [`monitors.toml`](../monitors.toml) shows them in context; [kinds.md](kinds.md) says how
each kind of monitor is checked and [alerts.md](alerts.md) what the channels send.

- Every key is optional unless its default says **required**. Unknown keys are errors, and
  `probed check` reports every problem in the file at once, without touching the network.
- Durations are strings such as `"500ms"`, `"30s"`, `"5m"`, `"1h30m"`, `"2d"`, `"0"`, or integer
  seconds.
- Any string may use `${{ENV_VAR}}`; a variable that is not set is an error. `$${{` is a literal
  `${{`.
- A secret may come from a file instead: `password_file`, `token_file`, … (the trailing newline
  is dropped). Set the key or its `_file` twin, not both.
- Relative paths (`state_dir`, `ca_file`, `*_file`) are relative to the directory of the file.
- Editors: `#:schema ./schema/monitors.schema.json` as the first line lets Taplo / Even Better
  TOML complete and check keys as you type (see [kinds.md](kinds.md#editor-support)).
"""


def reference() -> str:
    """docs/configuration.md: every table of monitors.toml with each key's type, default and use."""
    schema = json_schema()
    props = schema["properties"]
    parts = [INTRO.format(regenerate=REGENERATE)]
    parts += _probed(props["probed"])
    parts += _monitor(props["monitor"]["items"], props["defaults"]["properties"])
    parts += _alerts(props["alerts"])
    parts += _maintenance(props["maintenance"]["items"])
    parts += _status_page(props["status_page"])
    parts += _report(props["report"])
    parts += _subscriptions(props["subscriptions"]["properties"]["webhooks"]["items"])
    return "\n".join(parts)


def _probed(table: Schema) -> list[str]:
    return [
        "## `[probed]`: the daemon\n",
        *_rows("probed", table, Settings),
    ]


def _monitor(table: Schema, defaults: Schema) -> list[str]:
    kind_keys = {key for kind in KINDS.values() for key in kind.keys}
    common = {k: v for k, v in table["properties"].items() if k not in kind_keys}
    kinds = ["| `type` | what it checks | required keys |", "|---|---|---|"]
    for name, kind in KINDS.items():
        required = ["url"] if kind.url_problem is not None else []
        # A secret read from a file (``token_file``) stands in for the key itself.
        secrets = [k.removesuffix("_file") for k in kind.extra_keys if k.endswith("_file")]
        required += [
            f"{k}` or `{k}_file" if k in secrets else k
            for k in dict.fromkeys([*kind.required, *secrets])
        ]
        listed = ", ".join(f"`{k}`" for k in required) or "—"
        kinds.append(f"| `{name}` | {_first_sentence(kind.check.__doc__)} | {listed} |")
    every = ["| key | kinds | type | default | description |", "|---|---|---|---|---|"]
    for key, prop in table["properties"].items():
        if key not in kind_keys:
            continue
        owners = [name for name, kind in KINDS.items() if key in kind.keys]
        checks = [KINDS[n].check for n in owners]
        cls = next((c for c in checks if _field(c, key) is not None), checks[0])
        default = _default("monitor", key, cls, prop, table, KINDS[owners[0]].required)
        names = ", ".join(owners)
        every.append(
            f"| `{key}`{_star(key, defaults)} | {names} | {_type('monitor', key, prop)} |"
            f" {default} | {_help('monitor', key, cls)} |"
        )
    return [
        "## `[defaults]` and `[[monitor]]`\n",
        "Each `[[monitor]]` table is one check. Keys marked * may also be set in `[defaults]`,",
        "which applies them to every monitor that does not set its own.\n",
        "### Keys of every monitor\n",
        *_rows("monitor", {**table, "properties": common}, Monitor, defaults=defaults),
        "### Kinds\n",
        *kinds,
        "",
        "### Keys of some kinds\n",
        "A key of another kind is an error on a monitor.\n",
        *every,
        "",
    ]


def _alerts(alerts: Schema) -> list[str]:
    out = [
        "## `[alerts.NAME]`: channels\n",
        "Every `[alerts.NAME]` table is a channel that monitors name in `alert`; `type` says what",
        "it is and may be left out when NAME is the type (`[alerts.email]`).\n",
    ]
    for name, table in alerts["properties"].items():
        cls = getattr(channels, f"{name.title()}Channel", None)
        if cls is None:
            raise LookupError(f"no {name.title()}Channel in probed.config.channels for {name}")
        doc = _first_sentence(cls.__doc__)
        out += [f'### `type = "{name}"`\n', f"{doc}.\n", *_rows(name, table, cls, "channel")]
    return out


def _maintenance(table: Schema) -> list[str]:
    return [
        "## `[[maintenance]]`: maintenance windows\n",
        "While a window is open its monitors are paused, send no alerts and their time is left",
        "out of uptime. A one-off window has `start` and `end`; a weekly one `days`, `time`,",
        "`duration` and `timezone`.\n",
        *_rows("maintenance", table, MaintenanceWindow),
    ]


def _status_page(table: Schema) -> list[str]:
    return [
        "## `[status_page]`: branding, embedding and layout\n",
        "The public status page's look and contents (docs/status-page.md); every key is"
        " optional.\n",
        *_rows("status_page", table, StatusPage),
    ]


def _report(table: Schema) -> list[str]:
    return [
        "## `[report]`: the monitoring report\n",
        "A report per week or month, mailed when the period ends: per monitor uptime against its",
        "`slo`, error budget left, incidents with their times to acknowledge and resolve, and",
        "response times, each against the period before. `probed report` prints it at any time.\n",
        *_rows("report", table, ReportSettings),
    ]


def _subscriptions(table: Schema) -> list[str]:
    return [
        "## `[subscriptions]`: webhook subscribers of the status page\n",
        '`webhooks = [{ url = "…", secret = "…" }]`: each gets incident news and maintenance',
        "notices as JSON (email subscribers sign up on the page). Keys of each entry:\n",
        *_rows("subscriptions", table, SubscriberWebhook),
    ]


def _rows(
    section: str, table: Schema, cls: type, shared: str = "", defaults: Schema | None = None
) -> list[str]:
    """One row per key of ``table``; ``shared``: the key_help table of keys that several
    tables have in common (the channels' ``type``, ``kinds``)."""
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in table["properties"].items():
        default = _default((section, shared), key, cls, prop, table, ())
        rows.append(
            f"| `{key}`{_star(key, defaults)} | {_type(section, key, prop)} | {default} |"
            f" {_help((section, shared), key, cls)} |"
        )
    return [*rows, ""]


def _star(key: str, defaults: Schema | None) -> str:
    return " *" if defaults is not None and key in defaults else ""


def _help(sections: str | tuple[str, str], key: str, cls: type) -> str:
    """The key's sentence: key_help's, else its field's docstring; "" when neither says."""
    for table in (sections,) if isinstance(sections, str) else sections:
        if text := HELP.get(table, {}).get(key):
            return text
    return _field_docs(cls).get(_field_name(key), "")


def _default(
    sections: str | tuple[str, str],
    key: str,
    cls: type,
    prop: Schema,
    table: Schema,
    required: tuple[str, ...],
) -> str:
    for where in (sections,) if isinstance(sections, str) else sections:
        if text := DEFAULT_TEXT.get(where, {}).get(key):
            return text
    if key in table.get("required", ()) or key in required:
        return "**required**"
    if "default" in prop:
        return _toml(prop["default"], prop)
    found = _field(cls, _field_name(key))
    if found is None or found.default is dataclasses.MISSING:
        return "—"
    return _toml(found.default, prop)


def _toml(value: Any, prop: Schema) -> str:
    """A default as it would be written in monitors.toml."""
    if value is None or value == frozenset():
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and prop.get("$ref") == "#/definitions/duration":
        return f'`"{format_duration(value)}"`'
    if isinstance(value, int | float):
        return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        if prop.get("type") == "object":
            return "`{}`"
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return f"`{value}`"


def _type(section: str, key: str, prop: Schema) -> str:
    """The key's type as a reader would name it: key_help's words, else the schema's."""
    if text := TYPE_TEXT.get(section, {}).get(key):
        return text
    if not prop and key.endswith("_file"):
        return "path"
    return _schema_type(prop)


def _schema_type(prop: Schema) -> str:
    ref = prop.get("$ref", "")
    if ref:
        return {"duration": "duration", "strings": "string or array", "secret_file": "path"}[
            ref.rsplit("/", 1)[1]
        ]
    if "enum" in prop:
        seen = dict.fromkeys(v for v in prop["enum"] if not (isinstance(v, str) and v.islower()))
        shown = seen or dict.fromkeys(prop["enum"])
        return " \\| ".join(f'`"{v}"`' for v in shown)
    kind = prop.get("type")
    if kind == "array":
        return f"array of {_schema_type(prop.get('items', {}))}"
    if kind == "object":
        if "properties" in prop:
            return "table {" + ", ".join(prop["properties"]) + "}"
        return "table of strings"
    if prop.get("format") == "date-time":
        return "date-time"
    if kind == "integer" and "maximum" in prop:
        return f"integer {prop.get('minimum', 0)}-{prop['maximum']}"
    if isinstance(kind, str):
        return kind
    if "anyOf" in prop:
        return "integer, string or array"
    return "any value"


_TABLE_PREFIX = re.compile(r'^`?(type = "\w+"|\[alerts\.\w+\])`?( \([^)]*\))?: ')
"""How check and channel docstrings start: the table they describe, which the page says."""


def _first_sentence(doc: str | None) -> str:
    text = " ".join(inspect.cleandoc(doc or "").split()).replace("``", "`")
    sentence = text.split(". ")[0].rstrip(".")
    sentence = _TABLE_PREFIX.sub("", sentence)
    return sentence[:1].upper() + sentence[1:]


def _field_name(key: str) -> str:
    return "sender" if key == "from" else key


def _field(cls: type, name: str) -> dataclasses.Field[Any] | None:
    return next((f for f in dataclasses.fields(cls) if f.name == name), None)


def _field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string after it in the class body), this class's and its
    bases'."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        docs |= dict(_docstrings(ast.parse(textwrap.dedent(inspect.getsource(klass)))))
    return docs


def _docstrings(tree: ast.Module) -> Iterator[tuple[str, str]]:
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            yield node.target.id, " ".join(after.value.value.split())


def main() -> None:
    print(reference(), end="")


if __name__ == "__main__":
    main()
