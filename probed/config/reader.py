"""The reading machinery behind probed.config: typed getters that collect problems, not raise.

A ``Section`` wraps one TOML table. Each getter returns the checked value, or None when the key is
absent or wrong; a wrong value is recorded as ``<file>: <where>: <message>`` in the shared
``Reader`` so that one pass reports every problem in the file. Long because it holds one
getter per kind of value (string, integer, duration, secret, headers …) over one bookkeeping.
"""

from __future__ import annotations

import difflib
import re
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit

from probed.units import format_duration

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_DURATION_HELP = 'expected e.g. "30s", "5m", "1h30m", "2d", "500ms" or integer seconds'
_ENV = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_STATUS_CLASS = re.compile(r"([1-5])xx", re.IGNORECASE)
_STATUS_RANGE = re.compile(r"([0-9]{3})\s*-\s*([0-9]{3})")
_STATUS_HELP = 'expected a code like 200, a class like "2xx" or a range like "200-399"'
CONTROL_CHARS = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
"""C0 and C1 controls (CR, LF, NUL, ESC, NEL …), DEL and the Unicode line separators: what a
name-like value may not hold, and what an alert's subject line loses."""
_CONTROL = re.compile(CONTROL_CHARS)
_T = TypeVar("_T")


def pick(value: _T | None, default: _T) -> _T:
    """value, or default when a getter found the key absent or wrong."""
    return default if value is None else value


def parse_duration(value: object) -> float:
    """Seconds in ``"30s"``, ``"1h30m"``, ``"500ms"``, ``"0"`` or int seconds; ValueError if not."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(
            f'expected a duration like "30s" or integer seconds, got {describe(value)}'
        )
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"duration must not be negative, got {value}")
        return float(value)
    text = value.strip()
    if text == "0":
        return 0.0
    if re.fullmatch(r"[0-9]+", text):
        raise ValueError(f'invalid duration "{value}": missing unit (e.g. "{text}s" or "{text}m")')
    if not _DURATION.fullmatch(text):
        raise ValueError(f'invalid duration "{value}": {_DURATION_HELP}')
    return sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(text))


def describe(value: object) -> str:
    """The TOML name of a value's type, for 'expected X, got Y' messages."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table", type(None): "None"}
    return names.get(type(value), f"a {type(value).__name__}")


def expand_env(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """``${NAME}`` replaced from env, ``$${`` kept as a literal ``${``; returns (text, problems)."""
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if token == "$${":
            return "${"
        if name is None:
            problems.append('unterminated "${" (write "$${" for a literal "${")')
        elif not _ENV_NAME.fullmatch(name):
            problems.append(f'invalid environment variable name "{name}"')
        elif name not in env:
            problems.append(f"environment variable {name} is not set")
        else:
            return env[name]
        return token

    return _ENV.sub(replace, text), problems


def parse_status(value: object) -> tuple[int, int, str]:
    """One expect_status entry as an inclusive (low, high, text) range; ValueError if invalid."""
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 100 <= value <= 599:
            raise ValueError(f"invalid status {value}: codes are 100-599")
        return value, value, str(value)
    if isinstance(value, str):
        text = value.strip()
        if match := _STATUS_CLASS.fullmatch(text):
            low = int(match.group(1)) * 100
            return low, low + 99, text.lower()
        if match := _STATUS_RANGE.fullmatch(text):
            low, high = int(match.group(1)), int(match.group(2))
            if 100 <= low <= high <= 599:
                return low, high, f"{low}-{high}"
            raise ValueError(f'invalid status range "{value}": need 100 <= low <= high <= 599')
        raise ValueError(f'invalid status "{value}": {_STATUS_HELP}')
    raise ValueError(f"invalid status: {_STATUS_HELP}, got {describe(value)}")


def split_url(url: str) -> SplitResult:
    """``urlsplit`` with the port checked too; ValueError with the config problem if not a URL."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        raise ValueError(f'invalid URL "{url}": {exc}') from None
    return parts


def unprintable_problem(url: str) -> str | None:
    """The problem of a URL with spaces or control characters in it, or None."""
    # The one printable space is " ": every other whitespace character is unprintable.
    if " " in url or not url.isprintable():
        return f'URL must not contain spaces or control characters: "{url}"'
    return None


def control_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name, a label or a subject: a control character, or None.

    Such a value ends up in a metric label (a raw CR breaks the scrape), an email subject or a
    log line, each of which it would corrupt."""
    if _CONTROL.search(text):
        return f"must be one line of printable text (no control characters), got {text!r}"
    return None


def url_problem(url: str) -> str | None:
    """Why url is not an http(s) URL with a host, or None when it is one."""
    try:
        parts = split_url(url)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return f'must be an http:// or https:// URL, got "{url}"'
    if not parts.hostname:
        return f'URL has no host: "{url}"'
    return unprintable_problem(url)


def listen_problem(listen: str) -> str | None:
    """Why listen is not ``host:port`` or ``[v6]:port``, or None when it is."""
    host, _, port = listen.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]") and len(host) > 2
    if not host or not re.fullmatch(r"[0-9]{1,5}", port) or (":" in host and not bracketed):
        return f'expected "host:port" or "[ipv6]:port", got "{listen}"'
    if not 1 <= int(port) <= 65535:
        return f"port must be 1-65535, got {int(port)}"
    return None


def address_problem(address: str) -> str | None:
    """Why address is not a usable email address (``a@b`` or ``Name <a@b>``), or None."""
    if "\r" in address or "\n" in address or "@" not in parseaddr(address)[1]:
        return f'not an email address: "{address}"'
    return None


@dataclass
class Reader:
    """What every section shares: the file label, the environment and the problems found."""

    file: str
    env: Mapping[str, str]
    base_dir: Path
    """Relative paths in the file are relative to the file, not to the daemon's working dir."""
    problems: list[str] = field(default_factory=list)

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.file}: {where}: {message}")


class Section:
    """One TOML table under a ``where`` prefix such as ``[probed] `` or ``monitor "X" (#2) ``."""

    def __init__(self, reader: Reader, prefix: str, data: Mapping[str, object]) -> None:
        self.reader, self.prefix, self.data = reader, prefix, data
        self.failed: set[str] = set()
        """Keys found invalid: cross-key checks skip them rather than report a second problem."""

    def problem(self, key: str, message: str) -> None:
        self.failed.add(key)
        self.reader.problem(f"{self.prefix}{key}", message)

    def reject_unknown(
        self, allowed: Collection[str], elsewhere: Mapping[str, str] | None = None
    ) -> None:
        """Report keys not in allowed; ``elsewhere`` explains known keys that belong elsewhere."""
        for key in self.data:
            if key in allowed:
                continue
            if elsewhere and key in elsewhere:
                self.problem(key, elsewhere[key])
            elif close := difflib.get_close_matches(key, list(allowed), n=1):
                self.problem(key, f'unknown key (did you mean "{close[0]}"?)')
            elif len(allowed) <= 5:
                self.problem(key, f"unknown key (allowed: {', '.join(allowed)})")
            else:
                self.problem(key, "unknown key")

    def _typed(
        self, key: str, kinds: tuple[type, ...], label: str, required: bool = False
    ) -> object:
        if key not in self.data:
            if required:
                self.problem(key, "missing (required)")
            return None
        value = self.data[key]
        # bool is a subclass of int in Python, but `true` is no integer in TOML.
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            self.problem(key, f"expected {label}, got {describe(value)}")
            return None
        return value

    def expand(self, key: str, text: str) -> str | None:
        if "$" not in text:  # nothing to expand (most values): no regex pass
            return text
        text, problems = expand_env(text, self.reader.env)
        for message in problems:
            self.problem(key, message)
        return None if problems else text

    def string(self, key: str, *, required: bool = False, nonempty: bool = False) -> str | None:
        value = self._typed(key, (str,), "a string", required)
        text = None if value is None else self.expand(key, str(value))
        if nonempty and text is not None and not text.strip():
            self.problem(key, "must not be empty")
            return None
        return text

    def label(self, key: str) -> str | None:
        """A non-empty string without control characters: a name-like value (control_problem)."""
        text = self.string(key, nonempty=True)
        if text is not None and (problem := control_problem(text)):
            self.problem(key, problem)
            return None
        return text

    def choice(self, key: str, options: Collection[str]) -> str | None:
        text = self.string(key)
        if text is not None and text not in options:
            self.problem(key, f'must be one of {", ".join(options)}; got "{text}"')
            return None
        return text

    def boolean(self, key: str) -> bool | None:
        value = self._typed(key, (bool,), "a boolean (true or false)")
        return None if value is None else bool(value)

    def integer(self, key: str, low: int, high: int | None = None) -> int | None:
        value = self._typed(key, (int,), "an integer")
        if not isinstance(value, int):
            return None
        if high is not None and not low <= value <= high:
            self.problem(key, f"must be between {low} and {high}, got {value}")
        elif value < low:
            self.problem(key, f"must be at least {low}, got {value}")
        else:
            return value
        return None

    def duration(self, key: str, *, minimum: float = 0.0, positive: bool = False) -> float | None:
        if key not in self.data:
            return None
        raw = self.data[key]
        try:
            seconds = parse_duration(self.expand(key, raw) if isinstance(raw, str) else raw)
        except ValueError as exc:
            if key not in self.failed:  # an env problem already explains the bad value
                self.problem(key, str(exc))
            return None
        if positive and seconds <= 0:
            self.problem(key, "must be greater than 0")
        elif seconds < minimum:
            self.problem(
                key, f"must be at least {format_duration(minimum)}, got {format_duration(seconds)}"
            )
        else:
            return seconds
        return None

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...] | None:
        """An array of strings; a single string counts as a one-item array."""
        value = self._typed(key, (str, list), "an array of strings", required)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            return None
        if bad := [describe(item) for item in items if not isinstance(item, str)]:
            self.problem(key, f"expected an array of strings, found {bad[0]}")
            return None
        expanded = [self.expand(key, str(item)) for item in items]
        return None if key in self.failed else tuple(s for s in expanded if s is not None)

    def table(self, key: str) -> Section | None:
        value = self._typed(key, (dict,), "a table")
        if not isinstance(value, dict):
            return None
        return Section(self.reader, f"{self.prefix}{key}.", value)

    def path(self, key: str, *, certificates: bool = False) -> Path | None:
        text = self.string(key, nonempty=True)
        if text is None:
            return None
        path = self.reader.base_dir / text
        try:
            if certificates:
                # Load it now so that a bad bundle fails `probed check`, not the first check.
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
            else:
                path.open("rb").close()
        except ssl.SSLError as exc:
            self.problem(key, f'"{path}" is not a PEM certificate bundle ({exc.reason})')
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            self.problem(key, f'cannot read "{path}": {getattr(exc, "strerror", None) or exc}')
        else:
            return path
        return None

    def secret(self, key: str, *, required: bool = False) -> str | None:
        """``key`` inline, or the contents of the file named by ``key_file``."""
        file_key = f"{key}_file"
        if key in self.data and file_key in self.data:
            self.problem(file_key, f"set either {key} or {file_key}, not both")
            return None
        if required and key not in self.data and file_key not in self.data:
            self.problem(key, f"missing (required; or set {file_key})")
            return None
        if file_key not in self.data:
            value, where = self.string(key), key
        elif (path := self.path(file_key)) is None:
            return None
        else:
            where = file_key
            try:
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                self.problem(file_key, f'"{path}" is not UTF-8 text')
                return None
            except OSError as exc:  # it could be opened a moment ago, but not read now
                self.problem(file_key, f'cannot read "{path}": {exc.strerror or exc}')
                return None
        if value == "":
            self.problem(where, "must not be empty")
            return None
        if value is not None and not value.strip():
            # A token of spaces is a templating accident (an unset variable padded), not a secret.
            self.problem(where, "must not be only whitespace")
            return None
        return value

    def headers(self, key: str) -> dict[str, str] | None:
        section = self.table(key)
        if section is None:
            return None
        headers: dict[str, str] = {}
        for name in section.data:
            value = section.string(name)
            if not _HEADER_NAME.fullmatch(name):
                section.problem(name, "invalid header name")
            elif value is not None and ("\r" in value or "\n" in value):
                section.problem(name, "header value must not contain line breaks")
            elif value is not None:
                headers[name] = value
        if section.failed:
            self.failed.add(key)
        return headers
