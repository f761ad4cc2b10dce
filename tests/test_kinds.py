"""The kind registry's contract: every kind has a check type, a reader and a probe, and
monitors.toml reaches each of them by its ``type``."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import get_type_hints

import pytest

from probed.config import KINDS, Kind
from probed.config.kinds import KIND_KEYS
from probed.probes import probe_of
from tests.kit.configs import load_monitors, load_problems, monitor_problem
from tests.kit.processes import probed

KIND_NAMES = list(KINDS)
PROBED_KINDS = [name for name in KINDS if KINDS[name].probe is not None]
# A key of another kind, per kind: every pair the registry defines.
MISPLACED = [
    (kind, key)
    for kind in KINDS
    for key in KIND_KEYS
    if key not in KINDS[kind].keys
    # Accepted (and unused) on http monitors since 0.1: see probed.config.tables._check.
    and not (key == "ssl_expiry_days" and kind in ("http", "keyword"))
]
# A value for every required key of every kind: a new kind with a required key adds one here.
TOML_VALUES = {"keyword": '"ok"', "json_query": '"status"'}
# A URL of every kind whose URL is not https: a new kind with its own scheme adds one here.
TOML_URLS = {
    "tcp": "tcp://example.com:5432",
    "dns": "dns:///example.com?type=A",
    "ping": "icmp://example.com",
}
TOML_URLS["domain"] = "example.com"
TOML_URLS |= {"smtp": "smtp://mx.example.com", "imap": "imaps://mx.example.com"}
TOML_URLS |= {"pop3": "pop3s://mx.example.com"}
# What a kind needs that its fields do not say (a secret that may come from a file instead).
TOML_EXTRA = {"push": 'token = "0123456789abcdef"\n'}


def monitor_toml(kind: Kind[object], extra: str = "") -> str:
    required = "".join(f"{key} = {TOML_VALUES[key]}\n" for key in kind.required)
    url = TOML_URLS.get(kind.name, "https://example.com/")
    url_line = "" if kind.url_problem is None else f'url = "{url}"\n'
    return (
        f'[[monitor]]\nname = "M"\n{url_line}type = "{kind.name}"\n'
        f"{required}{TOML_EXTRA.get(kind.name, '')}{extra}"
    )


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_kind_is_registered_under_the_name_its_check_type_gives(name: str) -> None:
    assert KINDS[name].name == name == KINDS[name].check.kind


@pytest.mark.parametrize("name", KIND_NAMES)
def test_every_kind_has_a_reader_of_its_check_type(name: str) -> None:
    kind = KINDS[name]
    assert get_type_hints(kind.read)["return"] is kind.check


@pytest.mark.parametrize("name", PROBED_KINDS)
def test_every_kind_has_a_probe_with_the_one_signature_taking_its_check(name: str) -> None:
    kind = KINDS[name]
    probe = probe_of(kind)
    assert inspect.iscoroutinefunction(probe)
    assert list(inspect.signature(probe).parameters) == ["monitor", "check", "session", "tracker"]
    assert get_type_hints(probe)["check"] is kind.check


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_monitor_of_each_kind_loads_into_its_check_type(tmp_path: Path, name: str) -> None:
    [monitor] = load_monitors(tmp_path, monitor_toml(KINDS[name]))
    assert type(monitor.check) is KINDS[name].check
    assert monitor.type == name


@pytest.mark.parametrize(("name", "key"), MISPLACED, ids=[f"{k}-{key}" for k, key in MISPLACED])
def test_a_key_of_another_kind_is_rejected_with_the_kind_named(
    tmp_path: Path, name: str, key: str
) -> None:
    problems = load_problems(tmp_path, monitor_toml(KINDS[name], f"{key} = true\n"))
    assert problems == [monitor_problem(tmp_path, "M", f'{key}: not used by type "{name}"')]


def test_a_default_shared_by_several_kinds_is_one_problem(tmp_path: Path) -> None:
    monitors = "\n".join(
        monitor_toml(kind).replace('"M"', f'"{kind.name}"') for kind in KINDS.values()
    )
    problems = load_problems(tmp_path, "[defaults]\nmax_body = 0\n\n" + monitors)
    path = tmp_path / "monitors.toml"
    assert problems == [f"{path}: [defaults] max_body: must be at least 1, got 0"]


def test_check_keys_keep_the_shape_0_1_stored(tmp_path: Path) -> None:
    # The store compares these with keys written by 0.1: a different shape would send every
    # monitor of an upgraded database back to pending.
    url = "https://example.com/"
    http, keyword, ssl = load_monitors(
        tmp_path,
        f'[[monitor]]\nname = "H"\nurl = "{url}"\nmethod = "HEAD"\n'
        f'[[monitor]]\nname = "K"\nurl = "{url}"\ntype = "keyword"\nkeyword = "ok"\n'
        "keyword_absent = true\n"
        f'[[monitor]]\nname = "S"\nurl = "{url}"\ntype = "ssl"\nssl_expiry_days = 9\n',
    )
    assert [json.dumps([str(part) for part in m.check_key]) for m in (http, keyword, ssl)] == [
        f'["http", "{url}", "HEAD", "None", "False"]',
        f'["keyword", "{url}", "GET", "ok", "True"]',
        f'["ssl", "{url}", "GET", "None", "False"]',
    ]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "module",
    ["model", "reader", "http", "tls", "tcp", "json", "dns", "ping", "push", "kinds", "tables"],
)
def test_each_config_module_imports_first_without_a_cycle(module: str) -> None:
    result = run_python(f"import probed.config.{module}")
    assert result.returncode == 0, result.stderr


def test_loading_a_config_with_every_kind_does_not_import_aiohttp(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(
        "\n".join(monitor_toml(k).replace('"M"', f'"{k.name}"') for k in KINDS.values())
    )
    result = run_python(
        "import sys; from probed.config import load_config; "
        f"assert len(load_config({str(path)!r}, {{}}).monitors) == {len(KINDS)}; "
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported'"
    )
    assert result.returncode == 0, result.stderr


def test_push_is_the_kind_without_a_probe_or_url_and_probe_refuses_it() -> None:
    assert [name for name in KINDS if name not in PROBED_KINDS] == ["push"]
    assert KINDS["push"].url_problem is None
    with pytest.raises(LookupError, match='type "push" has no probe'):
        KINDS["push"].load_probe()
    result = probed("probe", "--type", "push", "x")
    assert result.returncode == 1 and "invalid choice: 'push'" in result.stderr
