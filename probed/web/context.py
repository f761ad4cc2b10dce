"""What the API handlers share: the daemon's parts, the token check and bulk monitor facts."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from probed.config import Monitor
from probed.config.kinds import inbound
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.history import History
from probed.history.uptime import Change, Timeline
from probed.incidents.book import IncidentBook
from probed.web.errors import api_error

DAY = timedelta(days=1)
EPOCH = datetime.fromtimestamp(0, UTC)
TOKEN_HELP = (
    'set api_token in the [probed] table of monitors.toml (e.g. api_token = "${PROBED_API_TOKEN}")'
    " and reload"
)


@dataclass(frozen=True, slots=True)
class Facts:
    """One monitor with its history, as both APIs present it."""

    tracked: Tracked
    changes: list[Change]
    timeline: Timeline


@dataclass(slots=True)
class Api:
    """The daemon's parts the API handlers use; built by the composition root."""

    pipeline: Pipeline
    history: History
    pauses: Pauses
    token: str | None
    """The configured api_token; replaced by a reload (``configure``)."""
    now: Callable[[], datetime]
    reload: Callable[[], Awaitable[list[str]]] | None = None
    """Re-read monitors.toml (the daemon's SIGHUP path); returns the problems found."""
    incidents: IncidentBook | None = None
    """The incidents (docs/design.md §17); None serves none."""

    def configure(self, token: str | None) -> None:
        """Take a reload's api_token: the next request is checked against it."""
        self.token = token

    def monitors(self) -> list[Tracked]:
        """The configured monitors, by id."""
        return sorted(self.pipeline.monitors.values(), key=lambda t: t.id)

    def find(self, monitor_id: str) -> Tracked | None:
        """The monitor with this integer id (as text), or None."""
        text = monitor_id.strip()
        # int() also reads other scripts' digits ("٧") and "1_0"; ids are ASCII digits.
        if not (text.isascii() and text.isdigit()):
            return None
        try:
            wanted = int(text)
        except ValueError:  # more digits than int() converts
            return None
        return next((t for t in self.pipeline.monitors.values() if t.id == wanted), None)

    def token_matches(self, given: str) -> bool:
        """Whether ``given`` is the api_token, compared in constant time; False without one."""
        token = self.token
        # aiohttp hands over undecodable header bytes as lone surrogates, and a JSON body may
        # hold them too: they cannot be UTF-8 encoded, so surrogatepass (never a match) it is.
        return token is not None and hmac.compare_digest(
            given.encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
        )

    def facts(self, tracked: Sequence[Tracked], since: datetime | None = None) -> list[Facts]:
        """Monitors with their transitions and timelines; ``since`` limits how far back (None:
        everything kept)."""
        loaded = self.history.timelines([t.id for t in tracked], since)
        return [Facts(t, *loaded[t.id]) for t in tracked]


API = web.AppKey("api", Api)


def shown_url(monitor: Monitor, holder: bool) -> str:
    """A monitor's URL for an API answer: a push monitor's path whole only to a ``holder`` of
    the api_token, ``/push/***`` to anyone else (docs/design.md §4)."""
    if holder and (push := inbound(monitor.check)) is not None:
        return push.path
    return monitor.display_url


def holds_token(api: Api, request: web.Request) -> bool:
    """Whether a read carries the api_token (then it is shown what only holders see). Reads
    need no token, so a wrong one is no error: it is simply not a holder's read."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and api.token_matches(given.strip())


def authorize(api: Api, request: web.Request) -> web.Response | None:
    """None when the request carries the api_token; else the refusal to send."""
    if api.token is None:
        return api_error(
            403, f"changes are disabled because no API token is configured: {TOKEN_HELP}"
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not api.token_matches(given.strip()):
        return api_error(
            401,
            "missing or wrong API token: send Authorization: Bearer <api_token>",
            {"WWW-Authenticate": 'Bearer realm="probed"'},
        )
    return None
