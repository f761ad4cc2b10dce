"""Is the probe host itself online? ``[probed] connectivity_check`` (docs/design.md §3).

Before a failed check counts against its target, ``ConnectivityCheck.confirm`` TCP-connects to
the configured addresses; when none accepts, the result is marked ``offline`` with the reason
``probe host offline``, and the state machine ignores it: no monitor goes down and no alert is
sent because the probe host lost its own network. The answer is cached for a few seconds and
shared by every check failing at the same time, so an outage of many targets costs one probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import structlog

from probed.model import CheckResult

log = structlog.get_logger("probed")

OFFLINE_REASON = "probe host offline"


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` → (host, port)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class ConnectivityCheck:
    """Whether any of ``addresses`` accepts a TCP connection within ``timeout`` seconds."""

    def __init__(
        self,
        addresses: Sequence[str],
        *,
        timeout: float = 2.0,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.addresses = tuple(split_address(a) for a in addresses)
        self.timeout = timeout
        self.ttl = ttl
        self.clock = clock
        self._cached: tuple[float, bool] | None = None
        self._running: asyncio.Task[bool] | None = None
        self._was_online = True

    async def confirm(self, result: CheckResult) -> CheckResult:
        """``result`` unchanged when it is good or the host is online; else marked offline."""
        if result.ok or result.offline or await self.online():
            return result
        return replace(result, offline=True, reason=OFFLINE_REASON)

    async def online(self) -> bool:
        """The cached answer while fresh; else one probe, shared by concurrent callers."""
        if self._cached is not None and self.clock() - self._cached[0] < self.ttl:
            return self._cached[1]
        if self._running is None:
            self._running = asyncio.create_task(self._probe())
        task = self._running
        # shield: a check cancelled while waiting must not cancel the probe others wait for.
        answer = await asyncio.shield(task)
        if self._running is task:
            self._running = None
            self._cached = (self.clock(), answer)
            self._log_change(answer)
        return answer

    async def _probe(self) -> bool:
        tasks = [asyncio.create_task(self._connect(host, port)) for host, port in self.addresses]
        try:
            for next_done in asyncio.as_completed(tasks):
                if await next_done:
                    return True
            return False
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _connect(self, host: str, port: int) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                _, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    def _log_change(self, online: bool) -> None:
        if online == self._was_online:
            return
        self._was_online = online
        addresses = [f"{h}:{p}" for h, p in self.addresses]
        if online:
            log.info("probe host online again: failed checks count again", checked=addresses)
        else:
            log.error("probe host offline: failed checks are not counted", checked=addresses)
