"""IANA's RDAP bootstrap for domains (RFC 9224, ``dns.json``): which RDAP server answers for
which top-level domain.

The file shipped with probed is used until ``[probed] rdap_bootstrap`` (a URL or a file) has
been read; that source is read again at most once a day, and a copy that cannot be fetched or
parsed leaves the last good one in use.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import aiohttp
import structlog

from probed.domains.rdap import read_capped

log = structlog.get_logger("probed")

REFRESH_SECONDS = 86400.0
"""At most this often is the bootstrap source read again."""
MAX_BYTES = 1024 * 1024
"""IANA's file is some 40 KB: a source larger than this is refused."""


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Base URLs by domain suffix (lower case, no dots around: ``com``, ``co.uk``)."""

    servers: Mapping[str, str]

    def server_for(self, domain: str) -> str | None:
        """The base URL for ``domain`` (its longest listed suffix), or None when no entry
        covers it."""
        labels = domain.lower().rstrip(".").split(".")
        for start in range(len(labels)):
            if (found := self.servers.get(".".join(labels[start:]))) is not None:
                return found
        return None


def parse(data: bytes | str) -> Bootstrap:
    """The bootstrap in IANA's format; ValueError (its message readable) when it is not one."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, list):
        raise ValueError('no "services" list')
    servers: dict[str, str] = {}
    for service in services:
        if not (
            isinstance(service, list)
            and len(service) == 2
            and all(isinstance(part, list) for part in service)
        ):
            raise ValueError(f"a service is not [[names], [urls]]: {str(service)[:80]}")
        names, urls = service
        # RFC 9224 (section 4): an https URL is preferred when a service lists both.
        chosen = sorted((u for u in urls if isinstance(u, str)), key=_insecure_last)
        if not chosen:
            continue
        for name in names:
            if isinstance(name, str) and name:
                servers[name.lower().strip(".")] = chosen[0]
    if not servers:
        raise ValueError("no service lists a domain")
    return Bootstrap(MappingProxyType(servers))


def _read_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes")
    return path.read_bytes()


def _insecure_last(url: str) -> bool:
    return not url.lower().startswith("https:")


def shipped() -> Bootstrap:
    """The copy of IANA's file shipped with probed (``probed/domains/dns.json``)."""
    return parse(resources.files("probed.domains").joinpath("dns.json").read_bytes())


class BootstrapSource:
    """The bootstrap in use: the shipped copy, replaced by ``where``'s (a URL or a file) once
    read, and read again at most every ``refresh`` seconds."""

    def __init__(
        self,
        where: str | None,
        refresh: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = where
        self.refresh = refresh
        self.monotonic = monotonic
        self._current = shipped()
        self._read_at: float | None = None

    def configure(self, where: str | None) -> None:
        """A reload's ``rdap_bootstrap``: another source is read at the next query."""
        if where != self.where:
            self.where, self._read_at = where, None
            if where is None:
                self._current = shipped()

    async def current(self, session: aiohttp.ClientSession, timeout: float) -> Bootstrap:
        if self.where is None:
            return self._current
        now = self.monotonic()
        if self._read_at is not None and now - self._read_at < self.refresh:
            return self._current
        self._read_at = now  # a failed read is not retried before the next refresh either
        try:
            data = await self._read(session, timeout)
            self._current = parse(data)
        except (OSError, ValueError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "rdap bootstrap not read, the last one stays in use",
                source=self.where,
                error=str(exc) or type(exc).__name__,
            )
        return self._current

    async def _read(self, session: aiohttp.ClientSession, timeout: float) -> bytes:
        assert self.where is not None
        if not self.where.startswith(("http://", "https://")):
            return await asyncio.to_thread(_read_file, Path(self.where))
        async with session.get(
            self.where, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return await read_capped(response.content, MAX_BYTES)
