"""The on-call keys (docs/design.md §17): a monitor's ``runbook``, ``escalate`` and
``evidence_bytes``, and ``[probed] external_url``, read through a Section like every key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from probed.config.reader import Section, describe, split_url, url_problem
from probed.evidence import EVIDENCE_BYTES_MAX
from probed.units import format_duration

ONCALL_KEYS = ("runbook", "escalate", "evidence_bytes")
"""Keys of [defaults] and [[monitor]] read here."""
_ONCALL = frozenset(ONCALL_KEYS)
STEP_KEYS = ("after", "alert")


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """``{ after = "15m", alert = ["sms"] }``: while an incident is open and not acknowledged,
    send its DOWN to ``alert`` once ``after`` seconds have passed since the confirmed DOWN."""

    after: float
    alert: tuple[str, ...]


def read_oncall(sec: Section, channels: tuple[str, ...]) -> dict[str, Any]:
    """The on-call keys ``sec`` sets, by Monitor field (to ``replace`` in its base: a key it
    does not set, or sets wrongly, keeps the base's value); ``channels`` are what a step may
    name."""
    if _ONCALL.isdisjoint(sec.data):
        return {}  # most monitors of a large file: no getter per key
    found: dict[str, Any] = {}
    if (runbook := sec.string("runbook")) is not None:
        if problem := url_problem(runbook):
            sec.problem("runbook", problem)
        else:
            found["runbook"] = runbook
    if (steps := _escalate(sec, channels)) is not None:
        found["escalate"] = steps
    if (size := sec.integer("evidence_bytes", 0, EVIDENCE_BYTES_MAX)) is not None:
        found["evidence_bytes"] = size
    return found


def _escalate(sec: Section, channels: tuple[str, ...]) -> tuple[EscalationStep, ...] | None:
    """``escalate``: an array of steps in strictly increasing ``after``; None if absent or
    wrong (every problem reported)."""
    raw = sec.data.get("escalate")
    if raw is None:
        return None
    if not isinstance(raw, list):
        sec.problem("escalate", f"expected an array of tables, got {describe(raw)}")
        return None
    steps: list[EscalationStep] = []
    # The latest ``after`` so far and its step's number, even of a step with another problem,
    # so that one misplaced step is one problem, not one for each step after it.
    latest: tuple[float, int] | None = None
    for number, item in enumerate(raw, 1):
        where = f"escalate[{number}]"
        if not isinstance(item, dict):
            sec.problem(
                where,
                f'expected a table like {{ after = "15m", alert = ["sms"] }}, got {describe(item)}',
            )
            continue
        step = Section(sec.reader, f"{sec.prefix}{where}.", item)
        step.reject_unknown(STEP_KEYS)
        after = step.duration("after", positive=True)
        if "after" not in item:
            step.problem("after", "missing (required)")
        if after is not None and latest is not None and after <= latest[0]:
            step.problem(
                "after",
                f"must be later than step {latest[1]}'s {format_duration(latest[0])} (steps go"
                f" in increasing order), got {format_duration(after)}",
            )
        elif after is not None:
            latest = (after, number)
        alert = step.strings("alert", required=True)
        if alert is not None and not alert:
            step.problem("alert", "must name at least one channel")
        for channel in alert or ():
            if channel not in channels:
                step.problem(
                    "alert", f'unknown alert channel "{channel}": no [alerts.{channel}] table'
                )
        if step.failed:
            sec.failed.add("escalate")
        elif after is not None and alert:
            steps.append(EscalationStep(after, alert))
    return None if "escalate" in sec.failed else tuple(steps)


def read_external_url(sec: Section) -> str | None:
    """``[probed] external_url``: an http(s) URL with a host and neither query nor fragment,
    without its trailing "/" (links are built as ``<external_url>/ack/…``)."""
    url = sec.string("external_url")
    if url is None:
        return None
    if problem := url_problem(url):
        sec.problem("external_url", problem)
        return None
    parts = split_url(url)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        sec.problem(
            "external_url", f'must have no query or fragment (links are added to it), got "{url}"'
        )
        return None
    return url.rstrip("/")
