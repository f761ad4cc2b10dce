"""The ``push`` kind's settings and reader (docs/design.md §2); the reader contract is in
probed.config.http.

A push monitor has no URL: its job calls probed at ``/push/<token>``, and the token is the only
credential of that path, so it is read like a password (``token`` or ``token_file``) and never
shown where the monitor's URL would be (``Monitor.display_url``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from probed.config.reader import Section

MIN_TOKEN = 16
_TOKEN = re.compile(r"[A-Za-z0-9._~-]+")
"""RFC 3986's unreserved characters: the path carries the token as written, no escaping."""
TOKEN_HELP = (
    f"must be at least {MIN_TOKEN} characters of A-Z, a-z, 0-9, '-', '_', '.' or '~'"
    " (e.g. from `openssl rand -hex 16`)"
)
MAX_DEFAULT_GRACE = 3600.0
PUSH_PREFIX = "/push/"
HIDDEN_PATH = PUSH_PREFIX + "***"
"""A push monitor's path as shown to anyone who does not hold the API token."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PushCheck:
    """``type = "push"`` (a heartbeat): up while the job pings within ``interval`` + ``grace``."""

    kind: ClassVar[str] = "push"

    token: str = field(default="", repr=False)
    """At least MIN_TOKEN unreserved characters; the path ``/push/<token>`` is its URL."""
    grace: float | None = None
    """Seconds a ping may be late; None: the interval, at most an hour (``grace_for``)."""

    @property
    def key(self) -> tuple[object, ...]:
        # Neither the token (it would reach the database) nor the grace makes another check:
        # a new token or grace keeps the monitor's state and its last ping.
        return ()

    @property
    def path(self) -> str:
        return PUSH_PREFIX + self.token

    def grace_for(self, interval: float) -> float:
        return min(interval, MAX_DEFAULT_GRACE) if self.grace is None else self.grace


def read_push(sec: Section, url: str) -> PushCheck:
    """The push keys present in sec; the token is required (``token`` or ``token_file``)."""
    token = sec.secret("token", required=True)
    if token is not None and (len(token) < MIN_TOKEN or not _TOKEN.fullmatch(token)):
        # The message never quotes the token: it is a secret even when it is a bad one.
        where = "token_file" if "token_file" in sec.data else "token"
        sec.problem(where, TOKEN_HELP)
        token = None
    return PushCheck(token=token or "", grace=sec.duration("grace"))
