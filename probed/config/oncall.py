"""The on-call keys of a monitor (docs/design.md §17): ``runbook``, ``escalate``,
``evidence_bytes``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """``{ after = "15m", alert = ["sms"] }``: while an incident is open and not acknowledged,
    send its DOWN to ``alert`` once ``after`` seconds have passed since the confirmed DOWN."""

    after: float
    alert: tuple[str, ...]
