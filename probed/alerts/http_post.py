"""One POST to a receiver (webhook, Alertmanager) and what its answer means (docs/design.md §4).

2xx is accepted; 408, 429, 5xx and network errors are worth a retry; any other 4xx is final.
Errors name the receiver by scheme and host only: paths and queries of hook URLs often hold
tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp

from probed.errors import NotifierError

RETRIED = frozenset({408, 429})
ANSWER_CHARS = 200
"""How much of a receiver's answer is kept for logs and ``probed test-alert``."""


def receiver(url: str) -> str:
    """``https://hooks.example.com``: the part of a URL that may be shown."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


async def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> str:
    """POST ``body``; ``HTTP 200: <answer>`` when accepted, NotifierError otherwise."""
    where = receiver(url)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, data=body, headers=dict(headers), allow_redirects=False) as resp,
        ):
            text = (await resp.text(errors="replace"))[:ANSWER_CHARS].strip()
            status = resp.status
    except TimeoutError as exc:
        raise NotifierError(f"{where}: timed out after {timeout:g}s", permanent=False) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise NotifierError(f"{where}: {exc or type(exc).__name__}", permanent=False) from exc
    answer = f"HTTP {status}" + (f": {text}" if text else "")
    if 200 <= status < 300:
        return answer
    permanent = 400 <= status < 500 and status not in RETRIED
    raise NotifierError(f"{where} answered {answer}", permanent=permanent)
