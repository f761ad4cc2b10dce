"""asyncio's exception handler, rate-limited: an error that repeats (``accept()`` failing with
EMFILE under a connection flood, say) is logged once per interval with a count, as one JSON
line, instead of one traceback per occurrence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger("probed")

EVERY = 60.0


class LoopErrors:
    """Install with ``loop.set_exception_handler(LoopErrors())``."""

    def __init__(self, every: float = EVERY, monotonic: Callable[[], float] = time.monotonic):
        self.every = every
        self.monotonic = monotonic
        self._last: dict[tuple[str, str], tuple[float, int]] = {}
        """By (message, error): when it was last logged and how often it came since."""

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message") or "event loop error")
        exc = context.get("exception")
        error = f"{type(exc).__name__}: {exc}" if exc is not None else ""
        key = (message, error)
        now = self.monotonic()
        logged, since = self._last.get(key, (None, 0))
        if logged is not None and now - logged < self.every:
            self._last[key] = (logged, since + 1)
            return
        if len(self._last) > 1000:
            self._last.clear()  # distinct errors without end must not grow memory
        self._last[key] = (now, 0)
        log.error("event loop error", message=message, error=error or None, repeated=since)
