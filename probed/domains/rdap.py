"""One RDAP domain query (RFC 9082/9083): the registration's expiry date, or why it is unknown."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from urllib.parse import quote

import aiohttp

MAX_BYTES = 1024 * 1024
"""A domain answer is a few KB: past this, the answer is refused unread."""


class Unknown(Exception):
    """The registry gave no usable expiry; the message says why, for the log."""


async def read_capped(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body, or ValueError as soon as it passes ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ValueError(f"answer larger than {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


async def expiry(
    session: aiohttp.ClientSession, base: str, domain: str, timeout: float
) -> datetime:
    """The expiry the registry at ``base`` gives for ``domain``; Unknown within ``timeout``
    seconds otherwise (no answer, an error status, too large, no expiration event, a malformed
    date)."""
    url = f"{base.rstrip('/')}/domain/{quote(domain)}"
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, headers={"Accept": "application/rdap+json"}) as response:
                if response.status != 200:
                    raise Unknown(f"{url} answered HTTP {response.status}")
                body = await read_capped(response.content, MAX_BYTES)
    except TimeoutError:
        raise Unknown(f"{url} did not answer within {timeout:g} s") from None
    except ValueError as exc:
        raise Unknown(f"{url}: {exc}") from None
    except aiohttp.ClientError as exc:
        raise Unknown(f"{url}: {exc or type(exc).__name__}") from None
    return expiration(body, url)


def expiration(body: bytes, source: str) -> datetime:
    """The ``expiration`` event's date of an RDAP domain answer, in UTC; Unknown when there
    is none or it is not an RFC 3339 date."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise Unknown(f"{source}: the answer is not JSON") from None
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        raise Unknown(f"{source}: the answer has no events")
    for event in events:
        if isinstance(event, dict) and event.get("eventAction") == "expiration":
            date = event.get("eventDate")
            try:
                if not isinstance(date, str):
                    raise ValueError
                at = datetime.fromisoformat(date)
            except ValueError:
                raise Unknown(f'{source}: malformed expiration date "{str(date)[:60]}"') from None
            # RFC 3339 requires the offset; a registrar that leaves it out means UTC.
            return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    raise Unknown(f"{source}: the answer has no expiration event")
