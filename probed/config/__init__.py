"""monitors.toml → a validated, frozen Config (docs/design.md §2).

Every problem is collected with its file, monitor and key, and all are raised at once in one
ConfigError; a config that loads is complete and internally consistent.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli

from probed.config.channels import EmailChannel
from probed.config.dns import DnsCheck
from probed.config.http import BasicAuth, HttpCheck, KeywordCheck, StatusRange
from probed.config.json import JsonCheck
from probed.config.kinds import KINDS, Kind
from probed.config.mail import ImapCheck, Pop3Check, SmtpCheck
from probed.config.model import Check, Config, Monitor, Settings, default_state_dir
from probed.config.ping import PingCheck
from probed.config.push import PushCheck
from probed.config.reader import Reader, parse_duration
from probed.config.tables import read_config
from probed.config.tcp import TcpCheck
from probed.config.tls import SslCheck
from probed.errors import ConfigError

__all__ = [
    "KINDS",
    "BasicAuth",
    "Check",
    "Config",
    "ConfigError",
    "DnsCheck",
    "EmailChannel",
    "HttpCheck",
    "ImapCheck",
    "JsonCheck",
    "KeywordCheck",
    "Kind",
    "Monitor",
    "PingCheck",
    "Pop3Check",
    "PushCheck",
    "Settings",
    "SmtpCheck",
    "SslCheck",
    "StatusRange",
    "TcpCheck",
    "config_from_data",
    "default_state_dir",
    "load_config",
    "parse_config",
    "parse_duration",
]


def load_config(path: Path | str, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a monitors.toml; ConfigError lists every problem found.

    ``env`` (default ``os.environ``) supplies ``${VAR}`` values and the default state_dir.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: cannot read: not UTF-8 text ({exc.reason})"]) from None
    return parse_config(text, path, env)


def parse_config(text: str, path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Validate monitors.toml text; ConfigError lists every problem found.

    ``path`` names the file in messages, and relative paths in the file (``ca_file``,
    ``*_file``, ``state_dir``) are taken relative to its directory.
    """
    try:
        data = parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}{duration_hint(text, exc)}"]) from None
    return config_from_data(data, path, env)


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, four times faster where tomli's compiled wheel is installed: tomllib
    is tomli, but interpreted, and took 0.8 s of the start-up at 10,000 monitors."""
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError:
        # The stdlib's own error, so that what is reported never depends on the wheel.
        return tomllib.loads(text)


_BARE_DURATION = re.compile(
    r"\s*([\w\"'.-]+)\s*=\s*(\d+(?:\.\d+)?(?:ms|s|m|h|d)(?:\d+(?:ms|s|m|h|d))*)\s*(?:#.*)?"
)


def duration_hint(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """A hint when the line TOML refused is an unquoted duration (``interval = 5m``), which
    the parser only calls an invalid value."""
    # tomllib names the line only in its message before Python 3.14.
    where = re.search(r"at line (\d+)", str(exc))
    lines = text.splitlines()
    if where is None or not 0 < int(where.group(1)) <= len(lines):
        return ""
    bare = _BARE_DURATION.fullmatch(lines[int(where.group(1)) - 1])
    if bare is None:
        return ""
    key, value = bare.groups()
    return f'; durations are strings: {key} = "{value}"'


def config_from_data(
    data: Mapping[str, object], path: Path, env: Mapping[str, str] | None = None
) -> Config:
    """Validate parsed monitors.toml data (what tomllib returns); ConfigError lists every
    problem found."""
    reader = Reader(str(path), os.environ if env is None else env, path.parent.absolute())
    config = read_config(reader, data, path)
    if reader.problems:
        raise ConfigError(reader.problems)
    return config
