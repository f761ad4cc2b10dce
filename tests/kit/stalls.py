"""probed's own stall, made on purpose: the event loop's thread kept off the GIL."""

from __future__ import annotations

import sys
import threading
import time


def hold_gil(seconds: float) -> None:
    """Stand the event loop still for ``seconds``: a thread runs pure Python with a switch
    interval longer than that, so it keeps the GIL all along; returns once it ends."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds * 4)

    def spin() -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    holder = threading.Thread(target=spin)
    try:
        holder.start()  # returns once the loop's thread gets the GIL back
        holder.join()
    finally:
        sys.setswitchinterval(previous)
