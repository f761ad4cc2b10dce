"""The subscribe form's per-client rate limit (docs/design.md §18.4), in memory."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

PER_MINUTE = 5
MAX_CLIENTS = 10_000
"""Clients remembered at once: a flood from many addresses must not grow memory for ever."""


class ClientLimit:
    """At most ``per_minute`` subscribe requests per client address in any minute."""

    def __init__(self, per_minute: int = PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[datetime]] = {}

    def allow(self, client: str, now: datetime) -> bool:
        """Count a request from ``client``; False when it is over the limit (not counted)."""
        since = now - timedelta(minutes=1)
        times = self._seen.get(client)
        if times is None:
            if len(self._seen) >= MAX_CLIENTS:
                self._forget(since)
            times = self._seen[client] = deque()
        while times and times[0] <= since:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True

    def _forget(self, since: datetime) -> None:
        idle = [c for c, t in self._seen.items() if not t or t[-1] <= since]
        for client in idle or list(self._seen)[: MAX_CLIENTS // 10]:
            del self._seen[client]
