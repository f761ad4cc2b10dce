"""monitors.toml is parsed with tomli's compiled wheel where it is installed: the data, and the
error of a file that is not TOML, must be exactly tomllib's."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from probed.config import parse_toml

ROOT = Path(__file__).parent.parent
FILES = sorted(
    [*ROOT.glob("examples/**/*.toml"), *ROOT.glob("tests/data/*.toml"), ROOT / "monitors.toml"]
)
NOT_TOML = [
    "interval = 5m",
    "a = {b = 1,\n c = 2}",  # TOML 1.1: a newline in an inline table
    'a = "\\e"',  # TOML 1.1: the escape character
    "t = 12:30",  # TOML 1.1: a time without seconds
    "[[monitor]]\nname = 'a'\nname = 'b'",
    "x = 1\nx = 2",
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_data_is_tomllibs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        with pytest.raises(tomllib.TOMLDecodeError) as raised:
            parse_toml(text)
        assert str(raised.value) == str(exc)
    else:
        assert parse_toml(text) == expected


@pytest.mark.parametrize("text", NOT_TOML)
def test_an_error_is_tomllibs(text: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as expected:
        tomllib.loads(text)
    with pytest.raises(tomllib.TOMLDecodeError) as raised:
        parse_toml(text)
    assert type(raised.value) is type(expected.value)
    assert str(raised.value) == str(expected.value)
