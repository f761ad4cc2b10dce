"""type = "apprise": the email's subject and text through the apprise library.

Each URL is handed to apprise's own parser, which builds the service object but sends nothing:
``probed check`` finds an unknown service or a malformed URL offline.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from probed.config.channels.common import read_kinds, read_urls
from probed.config.reader import Section, pick

KEYS = ("type", "kinds", "urls", "timeout")


@dataclass(frozen=True, slots=True)
class AppriseChannel:
    """type = "apprise": the email's subject and text through the apprise library."""

    type: ClassVar[str] = "apprise"
    urls: tuple[str, ...] = field(repr=False)
    timeout: float = 30.0
    kinds: frozenset[str] | None = None


def read_apprise(sec: Section) -> AppriseChannel:
    """The table's settings; wrong or missing values are reported on ``sec``."""
    urls = read_urls(sec)
    for url in urls:
        if problem := apprise_problem(url):
            sec.problem("urls", problem)
    return AppriseChannel(
        urls=urls,
        timeout=pick(sec.duration("timeout", positive=True), 30.0),
        kinds=read_kinds(sec),
    )


def apprise_label(url: str) -> str:
    """What of an apprise URL may be shown: its service; the rest holds tokens."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://***" if sep else "***"


def apprise_problem(url: str) -> str | None:
    """Why apprise refuses ``url`` (unknown service, malformed), or None; never sends."""
    # Imported here: large, and only configs with apprise channels need it.
    import apprise
    from apprise.manager_plugins import NotificationManager

    label = apprise_label(url)
    if "://" not in url:
        return f'not an apprise URL: "{label}" (expected service://..., e.g. slack://...)'
    scheme = url.partition("://")[0].lower()
    if scheme not in NotificationManager():  # type: ignore[no-untyped-call]
        return f'unknown apprise service "{scheme}://" in "{label}"'
    # apprise logs the URL it refuses, tokens and all: not a word of it reaches our logs.
    with quiet_apprise():
        service = apprise.Apprise.instantiate(url)
    if service is None:
        return f'apprise cannot use "{label}": malformed for the {scheme} service'
    return None


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Silence apprise's logger, whose lines quote service URLs with their tokens."""
    logger = logging.getLogger("apprise")
    before, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = before
