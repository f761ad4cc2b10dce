"""Check history in the state database (DESIGN §8): daemon runs, hourly roll-ups, retention.

``History`` is what the daemon, the APIs and the metrics use: it records when the daemon runs
(time it did not run is left out of uptime), rolls raw results up into hourly aggregates and
prunes old rows in bounded steps, and answers the bulk reads behind uptime and response times.
Transitions (kept by the store) are the source of states, incidents and pause periods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from probed.history import reads
from probed.history.rollup import Retention, prune_step, raw_horizon, rolled_up_to, rollup_step
from probed.history.schema import ensure_schema
from probed.history.uptime import Change, Run, Timeline, timeline
from probed.store import Store

__all__ = ["History", "Retention"]


class History:
    """History reads and upkeep over one Store; ``now`` is the injected clock."""

    def __init__(
        self,
        store: Store,
        now: Callable[[], datetime],
        retention: Retention | None = None,
    ) -> None:
        self.store = store
        self.now = now
        self.retention = retention or Retention()
        """Replaced by a reload (``Parts.apply``); applies from the next prune."""
        self.run_id: int | None = None
        ensure_schema(store.db)

    # Daemon runs: uptime only counts time the daemon was watching.

    def start_run(self) -> None:
        at = self.now().timestamp()
        cur = self.store.db.execute(
            "INSERT INTO runs (started_at, last_seen_at) VALUES (?, ?)", (at, at)
        )
        self.run_id = cur.lastrowid

    def heartbeat(self) -> None:
        if self.run_id is not None:
            self.store.db.execute(
                "UPDATE runs SET last_seen_at = ? WHERE id = ?",
                (self.now().timestamp(), self.run_id),
            )

    def stop_run(self) -> None:
        if self.run_id is not None:
            at = self.now().timestamp()
            self.store.db.execute(
                "UPDATE runs SET last_seen_at = ?, stopped_at = ? WHERE id = ?",
                (at, at, self.run_id),
            )
            self.run_id = None

    # Upkeep, one bounded step per call; each returns True while more work is ready.

    def rollup_step(self) -> bool:
        return rollup_step(self.store, self.now().timestamp())

    def prune_step(self) -> bool:
        return prune_step(self.store, self.now().timestamp(), self.retention)

    # Reads.

    def runs(self) -> list[Run]:
        return reads.load_runs(self.store.db, self.run_id)

    def changes(
        self, ids: Sequence[int] | None, since: datetime | None = None
    ) -> dict[int, list[Change]]:
        """Transitions by monitor id, oldest first; see ``reads.load_changes``."""
        return reads.load_changes(self.store.db, ids, None if since is None else since.timestamp())

    def timelines(
        self, ids: Sequence[int], since: datetime | None = None
    ) -> dict[int, tuple[list[Change], Timeline]]:
        """Each monitor's changes and observed timeline until now (see probed.history.uptime)."""
        now, runs = self.now(), self.runs()
        changes = self.changes(ids, since)
        return {
            mid: (changes.get(mid, []), timeline(changes.get(mid, []), runs, now)) for mid in ids
        }

    def mean_response(
        self, ids: Sequence[int] | None, start: datetime, end: datetime
    ) -> dict[int, float]:
        """Mean response time (seconds) of good checks in [start, end), by monitor id."""
        return reads.mean_response(
            self.store.db, ids, start.timestamp(), end.timestamp(), rolled_up_to(self.store.db)
        )

    def response_series(
        self, monitor_id: int, start: datetime, end: datetime, bucket: float = 0.0
    ) -> list[tuple[float, float]]:
        """(unix time, seconds) of good checks in [start, end), oldest first."""
        horizon = raw_horizon(self.store.db, self.now().timestamp(), self.retention)
        return reads.response_series(
            self.store.db, monitor_id, start.timestamp(), end.timestamp(), bucket, horizon
        )

    def last_cert_expiry(self, ids: Sequence[int]) -> dict[int, float]:
        return reads.last_cert_expiry(self.store.db, ids)

    def created_at(self) -> dict[int, float]:
        return reads.created_at(self.store.db)
