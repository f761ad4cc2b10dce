"""What an incident keeps of a check (docs/design.md §17.2): the JSON of its evidence."""

from __future__ import annotations

from typing import Any

from probed.model import CheckResult
from probed.units import iso


def check_json(result: CheckResult) -> dict[str, Any]:
    """A check with its evidence, as the incident keeps it."""
    out: dict[str, Any] = {
        "at": iso(result.at),
        "ok": result.ok,
        "reason": result.reason,
        "status_code": result.status_code,
        "timings": result.timings.to_json(),
    }
    if result.evidence is not None:
        out["evidence"] = result.evidence.to_json()
    return out


def last_good_json(result: CheckResult) -> dict[str, Any]:
    return {
        "at": iso(result.at),
        "status_code": result.status_code,
        "response_seconds": result.duration,
        "reason": result.reason,
    }
