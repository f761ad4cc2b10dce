"""A bound on the evidence a mass outage stores (docs/design.md §16): 1,000 monitors going down
at once keep at most 10 MB of evidence in all.

Each incident's evidence is already bounded (``evidence_bytes`` of body, 100 headers); what is
left to bound is how many incidents open together. Within any minute the first EVIDENCE_BUDGET
bytes are kept whole; past it an incident keeps the check's own facts (status line, address,
error, certificate) without body and headers, and says so.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any, Final

EVIDENCE_BUDGET: Final = 8 * 1024 * 1024
"""Bytes of evidence kept whole per minute, across every incident."""
WINDOW: Final = timedelta(minutes=1)
TRIMMED: Final = "body and headers left out: a mass outage used up the evidence budget"


class EvidenceBudget:
    def __init__(self, limit: int = EVIDENCE_BUDGET, window: timedelta = WINDOW) -> None:
        self.limit, self.window = limit, window
        self._spent: deque[tuple[datetime, int]] = deque()
        self._total = 0

    def fit(self, checks: list[dict[str, Any]], sizes: list[int], now: datetime) -> None:
        """Trim ``checks`` (the JSON of an incident's evidence, ``sizes`` their encoded
        lengths) in place when the minute's budget cannot take them whole, and count them."""
        while self._spent and self._spent[0][0] <= now - self.window:
            self._total -= self._spent.popleft()[1]
        size = sum(sizes)
        if self._total + size > self.limit:
            for check in checks:
                evidence = check.get("evidence")
                if isinstance(evidence, dict):
                    for key in ("body", "body_bytes", "body_truncated", "headers"):
                        evidence.pop(key, None)
                    evidence["trimmed"] = TRIMMED
            size = sum(len(str(c)) for c in checks)
        self._spent.append((now, size))
        self._total += size
