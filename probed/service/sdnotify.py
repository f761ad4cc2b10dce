"""In-process sd_notify client: readiness, status, reload, shutdown and watchdog pings to systemd.

The protocol (sd_notify(3)): one AF_UNIX datagram of newline-separated ``KEY=VALUE`` lines sent to
``$NOTIFY_SOCKET``; a name starting with ``@`` is in the Linux abstract namespace. Without
``$NOTIFY_SOCKET`` (not under systemd, or ``Type=simple``) every call does nothing. Sending never
raises: a lost notification is logged, and the daemon carries on (systemd's own rule is that the
return value of sd_notify should generally be ignored).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import structlog

__all__ = ["Notifier", "WatchdogPinger", "monotonic_usec", "watchdog_interval"]

log = structlog.get_logger("probed.sdnotify")


def _socket_address(value: str) -> str | None:
    """Map ``$NOTIFY_SOCKET`` to an address for ``sendto``; None for unsupported kinds (vsock)."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    return None


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd expects in ``MONOTONIC_USEC=``."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class Notifier:
    """Sends sd_notify messages to the socket named by ``NOTIFY_SOCKET`` in ``env``.

    Every method returns True when the datagram was handed to the kernel, False when disabled or
    when sending failed. Values are sent verbatim except that newlines (which would split a value
    into a second assignment) become spaces.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        raw = env.get("NOTIFY_SOCKET", "")
        self._address = _socket_address(raw) if raw else None
        if raw and self._address is None:
            log.warning("sd_notify_unsupported_socket", notify_socket=raw)
        self._sock: socket.socket | None = None
        self._failing = False

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify."""
        return self._address is not None

    def send(self, **fields: str | int) -> bool:
        """Send one message with ``KEY=VALUE`` per field, in the order given."""
        if self._address is None or not fields:
            return False
        payload = "\n".join(
            f"{key}={str(value).replace(chr(10), ' ')}" for key, value in fields.items()
        )
        try:
            if self._sock is None:
                # Non-blocking: a full receive queue must drop the message, not stall the loop.
                self._sock = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
                )
            self._sock.sendto(payload.encode("utf-8", "replace"), self._address)
        except OSError as exc:
            # Log the first failure of a streak loudly, the repeats (e.g. every watchdog ping)
            # quietly, so a vanished socket does not flood the journal.
            report = log.debug if self._failing else log.warning
            report("sd_notify_failed", fields=sorted(fields), error=str(exc))
            self._failing = True
            return False
        if self._failing:
            log.info("sd_notify_recovered")
            self._failing = False
        return True

    def ready(self) -> bool:
        """Start-up (or a reload) is complete."""
        return self.send(READY=1)

    def status(self, text: str) -> bool:
        """One line shown by ``systemctl status``."""
        return self.send(STATUS=text)

    def reloading(self, monotonic_usec: int) -> bool:
        """A reload has started at ``monotonic_usec`` (CLOCK_MONOTONIC); follow with ``ready()``."""
        return self.send(RELOADING=1, MONOTONIC_USEC=monotonic_usec)

    def stopping(self) -> bool:
        """Shutdown has begun."""
        return self.send(STOPPING=1)

    def watchdog(self) -> bool:
        """Keep-alive ping for ``WatchdogSec=``."""
        return self.send(WATCHDOG=1)

    def close(self) -> None:
        """Release the socket; later sends open a new one."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def watchdog_interval(env: Mapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between watchdog pings (half of ``WATCHDOG_USEC``), or None when not enabled.

    As sd_watchdog_enabled(3): enabled only when ``WATCHDOG_USEC`` is a positive integer and
    ``WATCHDOG_PID`` is unset or equal to ``pid`` (default: this process).
    """
    raw_usec = env.get("WATCHDOG_USEC")
    if not raw_usec:
        return None
    raw_pid = env.get("WATCHDOG_PID")
    try:
        usec = int(raw_usec)
        if raw_pid and int(raw_pid) != (os.getpid() if pid is None else pid):
            return None
    except ValueError:
        log.warning("sd_watchdog_bad_env", watchdog_usec=raw_usec, watchdog_pid=raw_pid)
        return None
    if usec <= 0:
        return None
    return usec / 2 / 1_000_000


class WatchdogPinger:
    """Sends ``WATCHDOG=1`` every ``interval`` seconds, but only while ``is_healthy()`` is True.

    Run ``run()`` as a task on the daemon's event loop: a blocked loop stops it, and an unhealthy
    scheduler (``is_healthy`` returning False, or raising) withholds the pings, so in both cases
    systemd's watchdog fires and ``Restart=on-failure`` restarts the daemon.
    """

    def __init__(self, notifier: Notifier, interval: float, is_healthy: Callable[[], bool]) -> None:
        if interval <= 0:
            raise ValueError(f"watchdog interval must be positive, got {interval}")
        self._notifier = notifier
        self._interval = interval
        self._is_healthy = is_healthy

    def _healthy(self) -> bool:
        try:
            return self._is_healthy()
        except Exception:
            log.exception("sd_watchdog_health_check_failed")
            return False

    async def run(self) -> None:
        """Ping now and then every interval until cancelled."""
        withheld = False
        while True:
            if self._healthy():
                if withheld:
                    log.info("sd_watchdog_resumed")
                    withheld = False
                self._notifier.watchdog()
            elif not withheld:
                log.warning("sd_watchdog_withheld", reason="scheduler not making progress")
                withheld = True
            await asyncio.sleep(self._interval)
