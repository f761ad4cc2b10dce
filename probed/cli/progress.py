"""A spinner on the terminal while a command waits on the network (``probe``, ``test-alert``).

Only on a terminal: redirected output and pipes get nothing, so scripts and logs read the same
as before. It writes to stderr and erases itself, so stdout holds only the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TextIO, TypeVar

T = TypeVar("T")

_FRAMES = "|/-\\"
_EVERY = 0.1
"""Seconds between frames: fast enough to look alive, slow enough to cost nothing."""


async def with_progress(work: Awaitable[T], message: str, stream: TextIO) -> T:
    """Await ``work``, showing ``message``, a spinner and the seconds waited on ``stream``
    when it is a terminal."""
    if not stream.isatty():
        return await work
    ticker = asyncio.create_task(_spin(message, stream))
    try:
        return await work
    finally:
        ticker.cancel()
        # Erase the line: what the command prints next starts on a clean one.
        stream.write("\r\x1b[2K")
        stream.flush()


async def _spin(message: str, stream: TextIO) -> None:
    started = time.monotonic()
    frame = 0
    while True:
        waited = time.monotonic() - started
        stream.write(f"\r\x1b[2K{_FRAMES[frame % len(_FRAMES)]} {message} {waited:.1f}s")
        stream.flush()
        frame += 1
        await asyncio.sleep(_EVERY)
