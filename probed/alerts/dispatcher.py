"""The dispatcher: delivers the outbox, retries with backoff, gives up loudly, sends digests.

Each round (``run_once``) it queues due reminders, expires alerts older than ``max_age``, and
gives every channel with something due a worker of its own: the worker sends the channel's due
storm digests, then its due single alerts in order, then lets a channel that re-sends state
(Alertmanager) refresh it. Channels work side by side, and a round never waits for a busy one:
a slow or unreachable receiver delays only its own channel. A row is marked sent only after its
channel returned the server's acceptance. A transient failure backs the row off (5 s, doubling,
at most 5 min) and pauses its channel until then; a permanent one marks the row failed. A
monitor's alerts never overtake each other: a row waits while an older row of the same monitor
and channel is pending. ``run`` loops until ``stop``, which gives it one last bounded round to
flush (held digests included).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import structlog

from probed.alerts.channels import Channel, Refreshing
from probed.alerts.messages import Message, render
from probed.alerts.outbox import AlertStatus, Outbox, OutboxRow
from probed.errors import NotifierError
from probed.metrics import Metrics
from probed.model import AlertKind

log = structlog.get_logger("probed")

FIRST_RETRY = 5.0
MAX_RETRY = 300.0
MIN_GAP = 0.25
"""Longest pause between the end of a round and the start of one woken by new rows. A round
reads every pending row; in a mass outage thousands of monitors go down within seconds, each
waking the dispatcher, and a round per transition made that quadratic. The pause is GAP_FACTOR
times what the last round took, so a cheap round (a few alerts) costs the next alert ~nothing."""
GAP_FACTOR = 4.0
"""Rounds woken back to back take at most a fifth of the event loop."""
IDLE_ROUND = 60.0
"""Longest wait between rounds when nothing is due (expiry and pruning still need rounds)."""
KEEP_FINISHED = timedelta(days=30)
"""Sent, failed and expired rows are kept this long for inspection, then pruned."""


def backoff(attempts: int) -> float:
    """Seconds before retry number ``attempts``: 5, 10, 20, … at most 300."""
    return min(MAX_RETRY, FIRST_RETRY * 2.0 ** max(0, attempts - 1))


class Dispatcher:
    """Delivers the outbox through the current channels."""

    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        metrics: Metrics,
        now: Callable[[], datetime],
        max_age: float = 86400.0,
        remind: Callable[[datetime], datetime | None] | None = None,
        bell: asyncio.Event | None = None,
        min_gap: float = MIN_GAP,
        sent: Callable[[Sequence[OutboxRow], datetime], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.sent = sent
        """Told of rows their channel accepted, once marked sent (an incident's timeline)."""
        self.channels = channels
        """Replaced by a reload (``configure``), together with ``max_age``."""
        self.metrics = metrics
        self.now = now
        self.max_age = max_age
        self.remind = remind
        self.min_gap = min_gap
        self._wake = bell or asyncio.Event()
        """Set when new rows were committed (the recorder rings it) or on stop."""
        self._stopping = False
        self._stopped = asyncio.Event()
        self._first = True
        self._paused: dict[str, datetime] = {}
        """Channels backing off after a transient failure, until when."""
        self._pruned: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy: dict[str, asyncio.Task[None]] = {}
        """Channels whose worker is sending, by name."""

    def configure(self, channels: Mapping[str, Channel], max_age: float) -> None:
        """Take a reload's channels and ``max_age``; the next round delivers through them."""
        self.channels, self.max_age = channels, max_age

    def start(self) -> None:
        """Run the delivery loop in a task of the running event loop."""
        self._task = asyncio.create_task(self.run(), name="alert dispatcher")

    def wake(self) -> None:
        """Start a round now (new alerts were committed)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until ``stop``; the last round flushes whatever it can."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._wake.clear()
                flush = self._stopping
                began = loop.time()
                if flush and self._busy:
                    await asyncio.wait(list(self._busy.values()))
                try:
                    delay = await self.run_once(flush=flush, wait=flush)
                except Exception:
                    # A bug or a database error must not end alerting for good.
                    log.exception("alert dispatcher round failed")
                    delay = FIRST_RETRY
                if flush:
                    return
                ended = loop.time()
                gap = min(self.min_gap, GAP_FACTOR * (ended - began))
                try:
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                if not self._stopping and (rest := ended + gap - loop.time()) > 0:
                    # Woken soon after a round: let the rows of a burst gather (stop does not wait).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(rest):
                            await self._stopped.wait()
        finally:
            for worker in list(self._busy.values()):
                worker.cancel()

    def cancel(self) -> None:
        """End the loop now (a second stop signal): no more flushing."""
        if self._task is not None:
            self._task.cancel()

    async def stop(self, grace: float) -> None:
        """Let the loop flush for at most ``grace`` seconds, then end it; rows left pending
        stay in the outbox for the next start."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=max(0.0, grace))
        if not done:
            task.cancel()
            await asyncio.wait({task})
            log.warning("alert flush cut short by the shutdown grace", **self._queue_fields())
        elif pending := self.outbox.queue(self.now())[0]:
            log.info("alerts left in the outbox for the next start", pending=pending)

    async def run_once(self, *, flush: bool = False, wait: bool = True) -> float:
        """One delivery round; seconds until the next one is needed. With ``wait`` it returns
        once the workers it started are done; the loop does not wait for them."""
        now = self.now()
        # Alerts held in memory while the disk was full are written as soon as it takes them.
        self.outbox.persist()
        next_reminder = self.remind(now) if self.remind is not None else None
        self._expire(now)
        # After a restart, and when flushing, pending alerts are tried at once.
        eager, self._first = flush or self._first, False
        pending = self.outbox.pending()
        by_channel: dict[str, list[OutboxRow]] = {}
        for row in pending:
            by_channel.setdefault(row.channel, []).append(row)
        started: list[asyncio.Task[None]] = []
        for name in dict.fromkeys([*by_channel, *self.channels]):
            if name in self._busy:
                continue  # still at work: it wakes a new round when done
            plan = self._plan(by_channel.get(name, []), now, eager=eager, flush=flush)
            refresh = self._refresh_due(name, now)
            if plan or refresh:
                started.append(self._start(name, plan, refresh))
        if wait and started:
            await asyncio.wait(started)
            pending = self.outbox.pending()
        self._prune(now)
        return self._next_round(now, next_reminder, pending)

    def _plan(
        self, rows: Sequence[OutboxRow], now: datetime, *, eager: bool, flush: bool
    ) -> list[tuple[list[OutboxRow], bool]]:
        """What a channel's worker sends now, in order: (rows, is a digest)."""
        if not rows or not self._open(rows[0], now):
            return []
        plan: list[tuple[list[OutboxRow], bool]] = []
        groups: dict[str, list[OutboxRow]] = {}
        for row in rows:
            if row.digest is not None:
                groups.setdefault(row.digest, []).append(row)
        for members in groups.values():
            if flush or members[0].next_attempt_at <= now:
                plan.append((members, True))
        blocked: set[str] = set()
        for row in rows:
            if row.monitor in blocked:
                continue
            if row.digest is not None or not (eager or row.next_attempt_at <= now):
                blocked.add(row.monitor)  # later rows of this monitor wait for this one
            else:
                plan.append(([row], False))
        return plan

    def _refresh_due(self, name: str, now: datetime) -> bool:
        channel = self.channels.get(name)
        if not isinstance(channel, Refreshing):
            return False
        due = channel.refresh_due()
        return due is not None and due <= now

    def _start(
        self, name: str, plan: list[tuple[list[OutboxRow], bool]], refresh: bool
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._work(name, plan, refresh), name=f"alerts to {name}")
        self._busy[name] = task

        def done(_: asyncio.Task[None]) -> None:
            self._busy.pop(name, None)
            self._wake.set()  # what it left (a retry time, a next row) needs a new round

        task.add_done_callback(done)
        return task

    async def _work(
        self, name: str, plan: list[tuple[list[OutboxRow], bool]], refresh: bool
    ) -> None:
        """One channel's share of a round."""
        try:
            for rows, digest in plan:
                if not await self._deliver(rows, digest=digest):
                    return  # the channel backs off: nothing else of it is tried now
            channel = self.channels.get(name)
            if refresh and isinstance(channel, Refreshing):
                await channel.refresh()
        except Exception:
            # One channel's bug or database error must not stop the others, nor alerting; it
            # waits a little, rather than failing again in a tight loop.
            log.exception("alert channel round failed", channel=name)
            self._paused[name] = self.now() + timedelta(seconds=FIRST_RETRY)

    def _open(self, row: OutboxRow, now: datetime) -> bool:
        until = self._paused.get(row.channel)
        return until is None or until <= now

    async def _deliver(self, rows: Sequence[OutboxRow], *, digest: bool) -> bool:
        """Try to send ``rows`` as one message; False if they stay pending for a retry."""
        first = rows[0]
        kind = AlertKind.DIGEST if digest else first.kind
        ids = [r.id for r in rows]
        fields = {"channel": first.channel, "kind": str(kind), "alerts": len(rows)}
        fields["monitor"] = first.monitor if not digest else f"{len(rows)} monitors"
        channel = self.channels.get(first.channel)
        if channel is None:
            error = f'alert channel "{first.channel}" is no longer configured'
            self.outbox.mark_given_up(ids, AlertStatus.FAILED, error)
            self.metrics.alert_outcome(first.channel, str(kind), "failed")
            log.error("alert dropped", error=error, **fields)
            return True
        try:
            answer = await channel.send(self._message(rows, digest))
        except NotifierError as exc:
            if exc.permanent:
                self.outbox.mark_given_up(ids, AlertStatus.FAILED, str(exc))
                self.metrics.alert_outcome(first.channel, str(kind), "failed")
                log.error("alert refused for good: not retried", answer=str(exc), **fields)
                return True
            retry_at = self.now() + timedelta(seconds=backoff(first.attempts + 1))
            attempts = self.outbox.retry_later(ids, retry_at, str(exc))
            self._paused[first.channel] = retry_at
            log.warning(
                "alert delivery failed: will retry",
                error=str(exc),
                attempts=attempts,
                retry_in=round((retry_at - self.now()).total_seconds(), 1),
                **fields,
            )
            return False
        self._paused.pop(first.channel, None)
        self.outbox.mark_sent(ids, self.now())
        if self.sent is not None:
            self.sent(rows, self.now())
        self.metrics.alert_outcome(first.channel, str(kind), "sent")
        log.info("alert sent", answer=answer, message_id=self._message_id(rows, digest), **fields)
        return True

    def _message(self, rows: Sequence[OutboxRow], digest: bool) -> Message:
        first = rows[0]
        if not digest:
            return render(first.kind, [first.payload], first.message_id, first.created_at)
        payloads = [r.payload for r in rows]
        return render(
            AlertKind.DIGEST, payloads, self._message_id(rows, True), first.created_at, first.kind
        )

    @staticmethod
    def _message_id(rows: Sequence[OutboxRow], digest: bool) -> str:
        # A digest takes its first member's id, so a resend of the same digest keeps it.
        mid = rows[0].message_id
        return mid.replace("<alert-", "<digest-", 1) if digest else mid

    def _expire(self, now: datetime) -> None:
        max_age = self.max_age
        stale = self.outbox.older_than(now - timedelta(seconds=max_age))
        for row in stale:
            error = f"undeliverable for {max_age:g}s: {row.last_error or 'never tried'}"
            self.outbox.mark_given_up([row.id], AlertStatus.EXPIRED, error)
            self.metrics.alert_outcome(row.channel, str(row.kind), "failed")
            log.error(
                "alert given up: undeliverable for too long",
                monitor=row.monitor,
                channel=row.channel,
                kind=str(row.kind),
                attempts=row.attempts,
                created_at=row.created_at.isoformat(),
                last_error=row.last_error,
            )

    def _prune(self, now: datetime) -> None:
        if self._pruned is None or now - self._pruned > timedelta(hours=1):
            self._pruned = now
            self.outbox.prune(now - KEEP_FINISHED)

    def _next_round(
        self, now: datetime, next_reminder: datetime | None, pending: Sequence[OutboxRow]
    ) -> float:
        """Update the queue metrics; seconds until a row, reminder, refresh or expiry is due."""
        queues: dict[str, tuple[int, datetime]] = dict.fromkeys(self.channels, (0, now))
        for row in pending:
            count, oldest = queues.get(row.channel, (0, row.created_at))
            queues[row.channel] = (count + 1, min(oldest, row.created_at))
        for name, (count, oldest) in queues.items():
            self.metrics.alert_queue(name, count, max(0.0, (now - oldest).total_seconds()))
        times = [t for t in (next_reminder,) if t is not None]
        if pending:
            first = min(r.created_at for r in pending)
            times.append(first + timedelta(seconds=self.max_age))
        heads: set[tuple[str, str]] = set()
        for row in pending:
            if row.channel in self._busy:
                continue  # its worker wakes a round when done
            if (row.monitor, row.channel) not in heads:  # only a monitor's oldest row can go
                heads.add((row.monitor, row.channel))
                times.append(max(row.next_attempt_at, self._paused.get(row.channel, now)))
        for channel in self.channels.values():
            if isinstance(channel, Refreshing) and (due := channel.refresh_due()) is not None:
                times.append(due)
        delay = min(((t - now).total_seconds() for t in times), default=IDLE_ROUND)
        return min(IDLE_ROUND, max(0.05, delay))

    def _queue_fields(self) -> dict[str, object]:
        length, oldest = self.outbox.queue(self.now())
        return {"pending": length, "oldest_seconds": round(oldest, 1)}
