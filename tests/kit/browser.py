"""A Chromium page that keeps what went wrong in it: console errors, page errors and every
request it made (the status page tests assert none left loopback and nothing failed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Watched:
    context: Any
    page: Any
    errors: list[str] = field(default_factory=list)
    """Console errors and uncaught page errors, as text."""
    requests: list[str] = field(default_factory=list)
    """Every URL the page requested."""


async def watched_page(browser: Any, width: int, height: int = 900, **options: Any) -> Watched:
    """A new context (``options``: color_scheme, device_scale_factor, …) and page in it."""
    context = await browser.new_context(viewport={"width": width, "height": height}, **options)
    page = await context.new_page()
    watched = Watched(context, page)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(str(e)))
    page.on("request", lambda r: watched.requests.append(r.url))
    return watched
