"""The ``json`` kind's settings and reader (docs/design.md §2); the reader contract is in
probed.config.http."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import ClassVar

import jmespath
from jmespath.exceptions import JMESPathError

from probed.config.http import HttpCheck, read_http_keys
from probed.config.reader import Section, describe, pick


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonCheck(HttpCheck):
    """``type = "json"``: a GET whose body is JSON and whose ``json_query`` holds."""

    kind: ClassVar[str] = "json"

    json_query: str
    """A JMESPath expression, valid (checked when the config is read)."""
    json_expect: object = None
    """What the query must give (a TOML value: JSON's types but null); None: any value that
    JMESPath counts as true (not false, null, "", [] or {})."""

    @property
    def key(self) -> tuple[object, ...]:
        return (self.method, self.json_query, repr(self.json_expect))


def read_json(sec: Section, url: str) -> JsonCheck:
    """The json keys present in sec; a missing json_query reads as "" (the caller reports it)."""
    http = read_http_keys(sec, get_only="json")
    query = sec.string("json_query", nonempty=True)
    if query is not None and query.strip():
        try:
            jmespath.compile(query)
        except JMESPathError as exc:
            detail = str(exc).splitlines()[0].rstrip(":")
            sec.problem("json_query", f'not a valid JMESPath expression "{query}": {detail}')
    return JsonCheck(
        **{f.name: getattr(http, f.name) for f in fields(HttpCheck)},
        json_query=pick(query, ""),
        json_expect=_expect(sec),
    )


def _expect(sec: Section) -> object:
    if "json_expect" not in sec.data:
        return None
    value = sec.data["json_expect"]
    if _has_dates(value):
        sec.problem("json_expect", f"must be a JSON value, got {describe(value)}")
        return None
    return sec.expand("json_expect", value) if isinstance(value, str) else value


def _has_dates(value: object) -> bool:
    """TOML dates and times have no JSON counterpart: no body could ever equal one."""
    if isinstance(value, dt.date | dt.time):
        return True
    if isinstance(value, list):
        return any(_has_dates(item) for item in value)
    if isinstance(value, dict):
        return any(_has_dates(item) for item in value.values())
    return False
