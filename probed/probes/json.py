"""The ``json`` probe: a GET whose body, read up to ``max_body`` bytes, is parsed as JSON and
queried with JMESPath."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import jmespath
from jmespath.exceptions import JMESPathError

from probed.config import JsonCheck, Monitor
from probed.probes.check import PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.http import judge_status, request, status_ok
from probed.probes.reasons import format_size

_CHUNK = 64 * 1024
_SHOWN = 200
"""Characters of a value a reason shows: reasons go into alert subjects and the status page."""
_FACT = 1024
"""Characters of the JMESPath result a failed check's evidence shows."""


async def probe_json(
    monitor: Monitor, check: JsonCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up when the status is expected, the body is JSON and ``json_query`` gives
    ``json_expect`` (or, without it, a value JMESPath counts as true)."""
    async with request(monitor, check, session, tracker, "GET") as response:
        if not status_ok(check, response.status):
            return judge_status(check, response.status)
        body = await _read(response, check.max_body, tracker, monitor.evidence_bytes)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        raise ProbeError("body is not JSON") from None
    try:
        result = jmespath.search(check.json_query, document)
    except JMESPathError as exc:
        # A valid query can still fail on a document of the wrong shape (length() of a number).
        raise ProbeError(f"json_query failed: {str(exc).splitlines()[0]}") from None
    shown = f"{check.json_query} is {_show(result)}"
    if check.json_expect is None:
        if _truthy(result):
            return ProbeOutcome(True, shown)
        _note(tracker, check, result)
        return ProbeOutcome(False, f"{shown}, expected a value that is not false, null or empty")
    if same_json(result, check.json_expect):
        return ProbeOutcome(True, shown)
    _note(tracker, check, result)
    return ProbeOutcome(False, f"{shown}, expected {_show(check.json_expect)}")


def _note(tracker: PhaseTracker, check: JsonCheck, result: object) -> None:
    """The query's whole result (the reason shows 200 characters), for a failed check only."""
    text = json.dumps(result, ensure_ascii=False)
    cut = text if len(text) <= _FACT else text[: _FACT - 1] + "…"
    tracker.facts += [("json_query", check.json_query[:_FACT]), ("result", cut)]


async def _read(
    response: aiohttp.ClientResponse, limit: int, tracker: PhaseTracker, keep: int
) -> bytes:
    """The whole body, or ProbeError past ``limit`` bytes: half a document is no document.
    Its first ``keep`` bytes are noted on ``tracker`` for evidence."""
    chunks: list[bytes] = []
    left = limit + 1  # one byte more tells a body of exactly ``limit`` from a longer one
    while left > 0:
        chunk = await response.content.read(min(_CHUNK, left))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        tracker.read_body(chunk, keep)
        left -= len(chunk)
    raise ProbeError(f"body is larger than max_body ({format_size(limit)})")


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1 (as Python's == would have it)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list | dict) or isinstance(b, list | dict):
        return False
    return bool(a == b)


def _truthy(value: object) -> bool:
    # JMESPath's own truth: false, null, "", [] and {} are false; 0 is true.
    return not (value is None or value is False or value in ("", [], {}))


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
