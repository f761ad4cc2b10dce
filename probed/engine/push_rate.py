"""How often a push token may signal: a token bucket per monitor, on the receiver's clock.

A job pings once per run, a loop at most about once a second; a token that sends more is a
broken job (a loop without a sleep) or a leaked token, and each signal still costs a judgement,
metrics and, past the coalescing window, a write. Past the rate ``/push`` answers 429 with the
seconds to wait. After a quiet spell the bucket is full, so the first signal of a run is never
refused (and the receiver lets the ping that closes a ``/start`` through whatever the bucket).
"""

from __future__ import annotations

from datetime import datetime

RATE = 5.0
"""Signals per second a token may keep sending."""
BURST = 30.0
"""Signals a token may send at once after a quiet spell: jobs that share one token and finish
together stay well inside it."""


class PushRate:
    """A token bucket per monitor id: ``take`` answers whether a signal may pass now."""

    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[int, tuple[float, datetime]] = {}
        """Per monitor id: signals it may still send, as of when."""

    def take(self, key: int, now: datetime) -> float:
        """0 when a signal may pass now (it uses up one), else the seconds until one may."""
        level, at = self._buckets.get(key, (self.burst, now))
        # A clock stepped back refills nothing, and never empties the bucket.
        level = min(self.burst, level + max(0.0, (now - at).total_seconds()) * self.rate)
        if level >= 1:
            self._buckets[key] = (level - 1, now)
            return 0.0
        self._buckets[key] = (level, now)
        return (1 - level) / self.rate
