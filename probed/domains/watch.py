"""The periodic task behind ``domain_expiry_days``: one RDAP query per registrable domain at
most every 12 h, shared by every monitor of that domain and kept in the state database across
restarts (docs/design.md §19.2). It runs beside the checks, never in them."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import aiohttp
import structlog

from probed.config import Monitor
from probed.config.domain_names import registrable, url_host
from probed.domains.bootstrap import Bootstrap, BootstrapSource
from probed.domains.rdap import Unknown, expiry
from probed.errors import StoreWriteError
from probed.metrics import Metrics
from probed.store import Store
from probed.store.domain_expiries import DomainRecord

log = structlog.get_logger("probed")

QUERY_EVERY_MS = 12 * 3600 * 1000
"""A domain's registry is asked at most this often, whatever it answered (or did not)."""
ROUND_SECONDS = 60.0
CONCURRENCY = 4
"""Registry queries at a time: a registry is asked once per domain, never a burst per monitor."""
TIMEOUT = 30.0


def watched_domain(monitor: Monitor) -> str | None:
    """The registrable domain whose expiry the monitor watches; None when it watches none."""
    return None if monitor.domain_expiry_days is None else _domain_of(monitor.url)


# Each round asks for every monitor: 10,000 look-ups in the suffix list are 0.15 s of the
# event loop, once per URL is enough.
@functools.lru_cache(maxsize=65536)
def _domain_of(url: str) -> str | None:
    host = url_host(url)
    return None if host is None else registrable(host)


class DomainWatch:
    """Keeps ``probed_domain_expiry_timestamp_seconds`` of every watching monitor; ``run()``
    until cancelled. An unknown expiry (no answer, no expiration event, a malformed date, a
    too large answer) is logged and leaves the series absent; it never fails a check."""

    def __init__(
        self,
        monitors: Callable[[], Iterable[Monitor]],
        store: Store,
        metrics: Metrics,
        bootstrap: BootstrapSource,
        clock: Callable[[], datetime],
        *,
        every: float = ROUND_SECONDS,
        timeout: float = TIMEOUT,
        concurrency: int = CONCURRENCY,
        on_expiry: Callable[[str, str, datetime], None] | None = None,
    ) -> None:
        self.monitors = monitors
        """The configured monitors now (a reload changes them)."""
        self.store = store
        self.metrics = metrics
        self.bootstrap = bootstrap
        self.clock = clock
        self.every = every
        self.timeout = timeout
        self.on_expiry = on_expiry
        """Told (monitor, domain, expiry) of every watching monitor with a known expiry, each
        round: the alert recorder's DOMAIN warnings."""
        self._gate = asyncio.Semaphore(concurrency)
        self._records: dict[str, DomainRecord] = {}
        """The last answer per domain, as stored (read from the store at first sight)."""
        self._told: dict[str, tuple[float, int]] = {}
        """Per monitor, the (expiry, whole days left) ``on_expiry`` was last told."""
        self._shown: set[str] = set()
        """Monitors with a series: one whose domain_expiry_days a reload removed loses it."""

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    await self.round(session)
                except Exception:
                    # A failing round must not end the watch for good.
                    log.exception("domain expiry round failed")
                await asyncio.sleep(self.every)

    async def round(self, session: aiohttp.ClientSession) -> None:
        """Ask the registries of the domains whose last answer is 12 h old (or missing), then
        set every watching monitor's series."""
        by_domain: dict[str, list[str]] = {}
        for monitor in self.monitors():
            if (domain := watched_domain(monitor)) is not None:
                by_domain.setdefault(domain, []).append(monitor.name)
        now_ms = int(self.clock().timestamp() * 1000)
        due = [d for d in by_domain if self._due(d, now_ms)]
        if due:
            bootstrap = await self.bootstrap.current(session, self.timeout)
            await asyncio.gather(*(self._ask(session, bootstrap, d, now_ms) for d in due))
        shown: set[str] = set()
        for domain, names in by_domain.items():
            record = self._records.get(domain)
            expires = None
            if record is not None and record.expires_ms is not None:
                expires = record.expires_ms / 1000
            for name in names:
                self.metrics.set_domain_expiry(name, expires)
                shown.add(name)
                if expires is not None and self.on_expiry is not None:
                    self._tell(name, domain, expires, now_ms)
        for gone in self._shown - shown:
            self.metrics.set_domain_expiry(gone, None)
            self._told.pop(gone, None)
        self._shown = shown

    def _tell(self, name: str, domain: str, expires: float, now_ms: int) -> None:
        # The warnings change with the whole days left: asking the recorder (a store read)
        # for every monitor every minute would be 10,000 reads a minute for nothing.
        told = (expires, int(expires - now_ms / 1000) // 86400)
        if self._told.get(name) == told:
            return
        self._told[name] = told
        assert self.on_expiry is not None
        self.on_expiry(name, domain, datetime.fromtimestamp(expires, tz=UTC))

    def _due(self, domain: str, now_ms: int) -> bool:
        if domain not in self._records and (stored := self.store.domains.get(domain)):
            self._records[domain] = stored
        record = self._records.get(domain)
        return record is None or now_ms - record.checked_ms >= QUERY_EVERY_MS

    async def _ask(
        self, session: aiohttp.ClientSession, bootstrap: Bootstrap, domain: str, now_ms: int
    ) -> None:
        base = bootstrap.server_for(domain)
        try:
            if base is None:
                raise Unknown(f'no RDAP server for "{domain}" in the bootstrap')
            async with self._gate:
                at = await expiry(session, base, domain, self.timeout)
            record = DomainRecord(domain, now_ms, int(at.timestamp() * 1000))
            log.info("domain expiry", domain=domain, expires=at.isoformat())
        except Unknown as exc:
            record = DomainRecord(domain, now_ms, None, str(exc))
            log.warning("domain expiry unknown", domain=domain, reason=str(exc))
        self._records[domain] = record
        try:
            with self.store.transaction():
                self.store.domains.put(record)
        except StoreWriteError as exc:
            # Kept in memory: the next restart asks the registry again, nothing worse.
            log.warning("domain expiry not stored", domain=domain, error=str(exc))
