"""The public status as one value: what the page, the status JSON and the badges render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from probed.history.slo import Budget
from probed.model import Status
from probed.status.banner import Overall
from probed.status.days import Daily, Day
from probed.status.maintenance import MaintenanceState, when_text
from probed.store.incidents import IMPACT_TEXT

WINDOWS = ("1d", "7d", "30d", "90d")


@dataclass(frozen=True, slots=True)
class MonitorReport:
    id: int
    name: str
    group: str | None
    url: str | None
    """Shown only with ``status_page_show_urls``, and then with credentials redacted."""
    status: Status
    degraded: bool
    """Up, but the mean of its last good checks is above ``slow_threshold``."""
    since: datetime | None
    uptime: dict[str, float | None]
    """By window (``WINDOWS``), 0–1."""
    daily: Daily
    """The last 90 UTC days, oldest first."""
    response: list[tuple[float, float]]
    """(hour as unix time, mean seconds) over the last 24 h."""
    avg_response: float | None
    """Mean response time over the last 24 h, seconds."""
    slo: Budget | None
    marked: str | None = None
    """The impact (``minor``, ``major``) of an open manual incident naming it, the worse if
    more: what it shows unless measured down; its measured state and uptime stay as they are."""

    @property
    def days(self) -> list[Day]:
        return self.daily.days()

    @property
    def _shows_mark(self) -> bool:
        return self.marked is not None and self.status not in (Status.SEEMS_DOWN, Status.DOWN)

    @property
    def state(self) -> str:
        """The state's class on the page: its label, "degraded" or "partial" (a mark)."""
        if self._shows_mark and self.marked == "major":
            return "partial"
        if self._shows_mark or (self.status is Status.UP and self.degraded):
            return "degraded"
        return self.status.label

    @property
    def state_text(self) -> str:
        if self._shows_mark:
            return IMPACT_TEXT[self.marked or "minor"]
        if self.status is Status.UP and self.degraded:
            return "Degraded"
        return _STATE_TEXT[self.status]


_STATE_TEXT = {
    Status.UP: "Operational",
    Status.SEEMS_DOWN: "Failing",
    Status.DOWN: "Down",
    Status.PAUSED: "Maintenance",
    Status.PENDING: "Pending",
}


@dataclass(frozen=True, slots=True)
class IncidentReport:
    monitor: str
    start: datetime
    end: datetime | None
    """None while it lasts."""
    duration: float
    reason: str


@dataclass(frozen=True, slots=True)
class PostedUpdate:
    """An update as people read it (who posted it stays off the public surface)."""

    at: datetime
    stage: str
    text: str


@dataclass(frozen=True, slots=True)
class PostedIncident:
    """An incident told to people: a manual one, or one with updates (never its evidence)."""

    title: str
    """A manual incident's title; an automatic one's is "<monitor> down"."""
    stage: str | None
    open: bool
    manual: bool
    impact: str | None
    monitors: tuple[str, ...]
    """The public monitors it concerns."""
    start: datetime
    end: datetime | None
    updates: list[PostedUpdate]
    """Newest first."""
    code: str = ""
    """Its ID: the anchor the feeds and the summary link to (``#incident-<code>``)."""


@dataclass(frozen=True, slots=True)
class AnnouncementReport:
    id: int
    message: str
    level: str
    created: datetime
    expires: datetime | None


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    """A maintenance window's occurrence on the page (docs/design.md §18.2)."""

    key: str
    """Stable: the window and which of its runs (``Occurrence.key``)."""
    name: str
    monitors: tuple[str, ...]
    """The public monitors it pauses, in page order."""
    start: datetime
    end: datetime
    state: MaintenanceState

    @property
    def when(self) -> str:
        return when_text(self.start, self.end)


@dataclass(frozen=True, slots=True)
class StatusReport:
    title: str
    now: datetime
    overall: Overall
    announcements: list[AnnouncementReport]
    monitors: list[MonitorReport]
    incidents: list[IncidentReport]
    """Of the last 30 days: ongoing first, then newest first."""
    posted: list[PostedIncident] = field(default_factory=list)
    """Incidents told to people (docs/design.md §18.1) of the last 30 days: ongoing first,
    then newest first."""
    maintenance: list[MaintenanceReport] = field(default_factory=list)
    """Running and upcoming (within 7 days) by start, then completed (30 days) newest first."""

    def groups(self) -> list[tuple[str | None, list[MonitorReport]]]:
        """Monitors by group, in the order groups first appear in monitors.toml."""
        out: dict[str | None, list[MonitorReport]] = {}
        for m in self.monitors:
            out.setdefault(m.group, []).append(m)
        return list(out.items())

    def monitor(self, monitor_id: int) -> MonitorReport | None:
        return next((m for m in self.monitors if m.id == monitor_id), None)
