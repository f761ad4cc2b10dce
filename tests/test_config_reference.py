"""docs/configuration.md is generated from the config model: the shipped file is the generator's
output, and every key the schema knows is in it with a description."""

from __future__ import annotations

import re
from pathlib import Path

from probed.config.key_help import DEFAULT_TEXT, HELP, TYPE_TEXT
from probed.config.reference import REGENERATE, reference
from probed.config.schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "docs" / "configuration.md"


def schema_keys() -> dict[str, set[str]]:
    """Every key of monitors.toml by key_help table, as the JSON Schema lists them."""
    props = json_schema()["properties"]
    keys = {
        "probed": set(props["probed"]["properties"]),
        "monitor": set(props["monitor"]["items"]["properties"]),
        "maintenance": set(props["maintenance"]["items"]["properties"]),
        "status_page": set(props["status_page"]["properties"]),
        "report": set(props["report"]["properties"]),
        "subscriptions": set(
            props["subscriptions"]["properties"]["webhooks"]["items"]["properties"]
        ),
    }
    for name, table in props["alerts"]["properties"].items():
        keys[name] = set(table["properties"])
    keys["channel"] = set.intersection(*(keys[n] for n in props["alerts"]["properties"]))
    return keys


def rows(text: str) -> dict[str, list[str]]:
    """The cells of every table row of a Markdown page by their first cell's key, header rows
    left out."""
    lines = text.splitlines()
    found = {}
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("| `") and not after.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            found[cells[0].split("`")[1]] = cells
    return found


def section(text: str, heading: str) -> str:
    """A page's section from ``heading`` to the next heading of its level or above."""
    level = heading.split(" ")[0]
    body = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n#{{1,{len(level)}}} ", body, maxsplit=1)[0]


HEADINGS = {
    "probed": "## `[probed]`: the daemon",
    "monitor": "## `[defaults]` and `[[monitor]]`",
    "maintenance": "## `[[maintenance]]`: maintenance windows",
    "status_page": "## `[status_page]`: branding, embedding and layout",
    "report": "## `[report]`: the monitoring report",
    "subscriptions": "## `[subscriptions]`: webhook subscribers of the status page",
}


def test_the_shipped_reference_is_the_generated_one() -> None:
    assert SHIPPED.read_text() == reference(), f"regenerate it: {REGENERATE}"


def test_every_key_of_the_schema_has_a_row_with_a_description() -> None:
    text = reference()
    channels = json_schema()["properties"]["alerts"]["properties"]
    headings = HEADINGS | {name: f'### `type = "{name}"`' for name in channels}
    for table, keys in schema_keys().items():
        if table == "channel":
            continue
        listed = {key: cells[-1] for key, cells in rows(section(text, headings[table])).items()}
        assert keys <= set(listed), f"[{table}] not in the reference: {keys - set(listed)}"
        for key in keys:
            assert listed[key], f"[{table}] {key}: describe it in probed/config/key_help.py"


def test_the_help_tables_name_only_keys_that_exist() -> None:
    keys = schema_keys()
    for source in (HELP, DEFAULT_TEXT, TYPE_TEXT):
        for table, entries in source.items():
            assert table in keys, f"no table {table!r} in the schema"
            stale = set(entries) - keys[table]
            assert not stale, f"[{table}] names keys monitors.toml does not have: {stale}"


def test_defaults_are_read_from_the_model() -> None:
    """A default changed in the model changes the page: spot-check one per table."""
    text = reference()
    assert rows(section(text, HEADINGS["probed"]))["max_concurrent_checks"][2] == "`512`"
    assert rows(section(text, HEADINGS["monitor"]))["interval"][2] == '`"5m"`'
    assert rows(section(text, '### `type = "alertmanager"`'))["resend_every"][2] == '`"1m"`'
    assert rows(section(text, HEADINGS["maintenance"]))["timezone"][2] == '`"UTC"`'
    assert rows(section(text, HEADINGS["maintenance"]))["name"][2] == "**required**"
