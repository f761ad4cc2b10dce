"""Monitors that set none of their kind's keys share one check, read once: what each monitor
gets, and every problem reported, are what reading each on its own gave."""

from __future__ import annotations

from pathlib import Path

import pytest

from probed.config import ConfigError, HttpCheck, KeywordCheck, parse_config

HEAD = '[probed]\nstate_dir = "s"\n[defaults]\nexpect_status = ["2xx", 301]\nmax_redirects = 2\n'


def monitor(name: str, extra: str = "", kind: str = "http") -> str:
    return (
        f'[[monitor]]\nname = "{name}"\ntype = "{kind}"\nurl = "http://127.0.0.1/{name}"\n{extra}'
    )


def test_monitors_without_keys_of_their_kind_share_the_defaults_check() -> None:
    text = HEAD + monitor("a") + monitor("b") + monitor("c", 'method = "HEAD"\n')
    text += monitor("k", 'keyword = "ok"\n', "keyword") + monitor("d")
    config = parse_config(text, Path("m.toml"), {})
    a, b, c, k, d = (m.check for m in config.monitors)
    assert isinstance(a, HttpCheck) and a.max_redirects == 2 and a.method == "GET"
    assert [r.text for r in a.expect_status] == ["2xx", "301"]
    assert a is b is d  # read once
    assert c is not a and c == HttpCheck(
        method="HEAD", expect_status=a.expect_status, max_redirects=2
    )
    assert isinstance(k, KeywordCheck) and k.keyword == "ok" and k.max_redirects == 2


def test_each_monitor_still_reports_its_own_problems() -> None:
    text = HEAD + monitor("a") + monitor("b", "max_redirects = 99\n") + monitor("k", "", "keyword")
    text += monitor("k2", "", "keyword")
    with pytest.raises(ConfigError) as raised:
        parse_config(text, Path("m.toml"), {})
    assert raised.value.problems == [
        'm.toml: monitor "b" (#2) max_redirects: must be between 0 and 50, got 99',
        'm.toml: monitor "k" (#3) keyword: missing (required for type "keyword")',
        'm.toml: monitor "k2" (#4) keyword: missing (required for type "keyword")',
    ]
