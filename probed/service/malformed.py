"""The log of malformed requests: a bounded, redacted record of what clients got wrong.

A client can send thousands of bad requests a second, and each one quotes bytes the client
chose (tokens included). Each kind of problem (``invalid header``, ``line too long``, …) gets
``BURST`` WARNING lines a window, one line each, without a traceback; past that, requests are
counted and, when the window ends, one summary line per kind names the count and the busiest
client. A logged request line goes through ``redact_request`` before it is cut short, so a
token at its end is hidden, not halved.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import structlog
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
)

from probed.redact import redact_request

BURST = 5
"""Requests of one kind logged one by one in a window; the rest only in its summary."""
WINDOW = 60.0
"""Seconds a window lasts."""
SHOWN = 200
"""Characters of a request line a log line shows."""
CLIENTS = 1024
"""Distinct clients counted a window; beyond, new ones only add to the total."""

_log = structlog.get_logger("probed")


def kind_of(exc: HttpProcessingError) -> str:
    """The kind of problem aiohttp's parser found, in a few words a summary can group by."""
    if isinstance(exc, LineTooLong):
        return "line too long"
    if isinstance(exc, BadHttpMethod):
        return "invalid method"
    if isinstance(exc, InvalidURLError):
        return "invalid URL"
    message = (exc.message or "").lower()
    if isinstance(exc, InvalidHeader) or "header" in message:
        return "invalid header"
    if isinstance(exc, BadStatusLine) or "status line" in message:
        return "invalid request line"
    return "malformed request"


def problem_of(exc: HttpProcessingError) -> str:
    """aiohttp's message without the bytes it quotes (they are the client's, secrets and all)."""
    words = (exc.message or "").strip().partition(":")[0].strip()
    return words[:SHOWN] if words else type(exc).__name__


def shown(request_line: str) -> str:
    """``request_line`` redacted, then cut to ``SHOWN`` characters."""
    text = redact_request(request_line)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


class MalformedLog:
    """Logs malformed requests within the bounds above; ``now`` is a monotonic clock."""

    def __init__(
        self,
        now: Callable[[], float] = time.monotonic,
        burst: int = BURST,
        window: float = WINDOW,
        log: Any = _log,
    ) -> None:
        self.now = now
        self.burst = burst
        self.window = window
        self.log = log
        self._started: float | None = None
        self._logged: Counter[str] = Counter()
        self._unlogged: dict[str, Counter[str]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def record(self, kind: str, client: str | None, **fields: str) -> None:
        """One malformed request of ``kind`` from ``client``; ``fields`` (request line, problem)
        are logged as given: the caller redacts what the client sent (``shown``)."""
        now = self.now()
        if self._started is not None and now - self._started >= self.window:
            self.flush()
        if self._started is None:
            self._started = now
        who = client or "unknown"
        if self._logged[kind] < self.burst:
            self._logged[kind] += 1
            self.log.warning("malformed request", kind=kind, client=who, **fields)
            return
        counts = self._unlogged.setdefault(kind, Counter())
        if who in counts or len(counts) < CLIENTS:
            counts[who] += 1
        else:
            counts["other clients"] += 1
        self._schedule()

    def flush(self) -> None:
        """Ends the window: one summary line per kind of the requests it did not log."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        span = "minute" if self.window == 60 else f"{self.window:g} s"
        for kind, counts in self._unlogged.items():
            total = sum(counts.values())
            busiest, most = counts.most_common(1)[0]
            source = busiest if most == total else f"{len(counts)} clients, most from {busiest}"
            self.log.warning(
                f"{total:,} malformed requests from {source} in the last {span}: {kind}",
                kind=kind,
                count=total,
                clients=len(counts),
            )
        self._started = None
        self._logged.clear()
        self._unlogged.clear()

    def _schedule(self) -> None:
        """The summary goes out at the window's end even if no request comes after it."""
        if self._timer is not None or self._started is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a test's FakeClock): the next record() flushes
        delay = max(0.0, self._started + self.window - self.now())
        self._timer = loop.call_later(delay, self.flush)
