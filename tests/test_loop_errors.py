"""asyncio's exception handler: a repeating error is one log line per interval, with a count."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from probed.service.loop_errors import LoopErrors


def test_a_flood_of_the_same_accept_error_is_logged_once_per_interval_with_a_count():
    now = [0.0]
    handler = LoopErrors(every=60.0, monotonic=lambda: now[0])
    loop = asyncio.new_event_loop()
    context = {
        "message": "socket.accept() out of system resource",
        "exception": OSError(24, "Too many open files"),
    }
    try:
        with capture_logs() as logs:
            for _ in range(1000):
                handler(loop, context)
            handler(loop, {"message": "another error"})
            now[0] = 61.0
            handler(loop, context)
    finally:
        loop.close()
    assert [(e["message"], e["repeated"]) for e in logs] == [
        ("socket.accept() out of system resource", 0),
        ("another error", 0),
        ("socket.accept() out of system resource", 999),
    ]
    assert logs[0]["error"] == "OSError: [Errno 24] Too many open files"
