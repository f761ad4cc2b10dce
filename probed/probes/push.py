"""The ``push`` kind's judgement, as pure functions: what a ping, a failure report or a check
of the deadline makes of a push monitor. Nothing is sent to the job; it calls probed, and
``probed.engine.push`` keeps what it sent (a ``PushRecord``) and runs these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from probed.config import Monitor, PushCheck
from probed.config.push import HIDDEN_PATH
from probed.evidence import Evidence
from probed.model import CheckResult, PushRecord, Timings
from probed.units import format_duration, format_span

MAX_MESSAGE = 200
"""Characters of a failure report's message kept as the check's reason (docs/design.md §6)."""
PING_REASON = "ping received"
FAIL_REASON = "failure reported by the job"


class Signal(StrEnum):
    """What a request to ``/push/<token>[/<signal>]`` says."""

    PING = "ping"
    FAIL = "fail"
    START = "start"


@dataclass(frozen=True, slots=True)
class Waiting:
    """What a push monitor is waiting since: the job's last ping or failure report that counts
    (or, when none does, when the monitor began to wait), and that report's message."""

    since: datetime
    failure: str | None = None
    """The message of a failure report, which stands until the next ping; None after a ping."""


def deadline(monitor: Monitor, check: PushCheck, waiting: Waiting) -> datetime:
    """When the next ping is due at the latest: ``interval`` + ``grace`` after the wait began."""
    return waiting.since + timedelta(seconds=monitor.interval + check.grace_for(monitor.interval))


def judge(
    monitor: Monitor, check: PushCheck, waiting: Waiting, now: datetime
) -> CheckResult | None:
    """The scheduled check: failed when the deadline has passed, or while a failure report
    stands; None when there is nothing new to say (the last ping is in time, or no ping is
    due yet), so nothing is recorded and the state stays as it is."""
    due = deadline(monitor, check, waiting)
    if now >= due:
        grace = check.grace_for(monitor.interval)
        # format_span: two units, so the reason reads well and changes at most once an hour
        # for daily jobs (each distinct reason is a row in the store).
        reason = (
            f"no ping for {format_span((now - waiting.since).total_seconds())} (expected every"
            f" {format_duration(monitor.interval)}, grace {format_duration(grace)})"
        )
        return CheckResult(ok=False, reason=reason, at=now, evidence=_evidence(waiting, due))
    if waiting.failure is not None:
        evidence = _evidence(waiting, due)
        return CheckResult(ok=False, reason=waiting.failure, at=now, evidence=evidence)
    return None


def _evidence(waiting: Waiting, due: datetime) -> Evidence:
    """The deadline and what the wait began with: the job's last ping or failure report, or
    (never pinged) when the monitor began to wait. The path is never shown: it is the token."""
    since = "last failure report" if waiting.failure is not None else "waiting since"
    facts = (("deadline", due.isoformat()), (since, waiting.since.isoformat()))
    return Evidence(url=HIDDEN_PATH, facts=facts)


def receive(
    record: PushRecord, signal: Signal, message: str, now: datetime
) -> tuple[PushRecord, CheckResult | None]:
    """The record after the job's ``signal`` and the check result it is (None for a start).

    A ping or failure report closes the run a start opened: its response time is the run's
    duration (wall clock: a run may outlast a restart of probed), else 0.
    """
    if signal is Signal.START:
        return replace(record, started=now), None
    ok = signal is Signal.PING
    reason = PING_REASON if ok else (one_line(message) or FAIL_REASON)
    ran = 0.0 if record.started is None else max(0.0, (now - record.started).total_seconds())
    # A failure report carries no evidence: its message is the reason, its time the check's.
    result = CheckResult(ok=ok, reason=reason, at=now, timings=Timings(total=ran))
    return PushRecord(at=now, ok=ok, reason="" if ok else reason), result


def one_line(text: str) -> str:
    """A message as a reason: one line of printable text, at most MAX_MESSAGE characters."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:MAX_MESSAGE]
