"""monitors.toml → a validated, frozen Config (DESIGN §2).

Every problem is collected with its file, monitor and key, and all are raised at once in one
ConfigError; a config that loads is complete and internally consistent.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from probed.config.dns import DnsCheck
from probed.config.http import BasicAuth, HttpCheck, KeywordCheck, StatusRange
from probed.config.json import JsonCheck
from probed.config.kinds import KINDS, Kind
from probed.config.model import Check, Config, EmailChannel, Monitor, Settings, default_state_dir
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
    "JsonCheck",
    "KeywordCheck",
    "Kind",
    "Monitor",
    "Settings",
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
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    return config_from_data(data, path, env)


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
