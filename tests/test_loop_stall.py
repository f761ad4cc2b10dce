"""probed's own stall is never its targets' failure: the LoopWatch's measure, a check whose
time a thread holding the GIL ate, and a push deadline passed while probed stood still."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from probed.engine.pipeline import Tracked
from probed.engine.stalls import HOLD, LoopWatch
from probed.model import Status
from probed.probes.push import Signal
from probed.service.build import build
from probed.service.sdnotify import Notifier
from tests.kit.clock import FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.servers import Switchable, wait_for
from tests.kit.stalls import hold_gil
from tests.test_sdnotify import FakeSystemd

PUSH_TOKEN = "0123456789abcdef-nightly"
DAY, HOUR = 86400.0, 3600.0


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_late_during_counts_the_part_of_a_stall_inside_the_span() -> None:
    ticks = Ticks()
    watch = LoopWatch(clock=ticks)
    watch.note(1000.0, 6.0)  # stood still from 994 to 1000
    watch.note(1010.0, 0.01)  # jitter: not a stall
    assert watch.late_during(990.0, 1011.0) == 6.0
    assert watch.late_during(997.0, 1011.0) == 3.0
    assert watch.late_during(980.0, 990.0) == 0.0
    assert watch.late_during(1001.0, 1011.0) == 0.0


def test_a_stall_is_logged_once_and_reported_while_it_lasts() -> None:
    ticks = Ticks()
    changes: list[str | None] = []
    watch = LoopWatch(clock=ticks, on_change=lambda: changes.append(watch.problem()))
    with capture_logs() as logs:
        watch.note(ticks.t, 6.2)
        for _ in range(3):  # the loop still late: the same stall
            ticks.t += 2.0
            watch.note(ticks.t, 1.5)
        assert watch.problem() == "event loop stalled 6.2s"
        ticks.t += HOLD - 1
        watch.note(ticks.t, 0.0)
        assert watch.problem() == "event loop stalled 6.2s"
        ticks.t += 1
        watch.note(ticks.t, 0.0)
        assert watch.problem() is None
    stalled = [e for e in logs if e["event"].startswith("event loop stalled")]
    assert len(stalled) == 1 and stalled[0]["seconds"] == 6.2
    assert changes == ["event loop stalled 6.2s", None]


async def check_through_stall(h: Harness, wait: float, stall: float) -> Tracked | None:
    """Start a check of "api", stand the loop still ``stall`` s after ``wait`` s, and return
    what the check made of it; the harness's loop watch is stopped after."""
    try:
        checking = asyncio.create_task(h.pipeline.check("api"))
        await asyncio.sleep(wait)
        hold_gil(stall)
        return await checking
    finally:
        h.parts.stalls.stop()


async def test_a_check_whose_time_a_gil_holding_thread_ate_is_the_probe_hosts_and_runs_again(
    tmp_path, harnesses, session, switchable: Switchable
) -> None:
    monitor = make_monitor("api", url=switchable.url, timeout=2.0, down_after=1)
    h = harnesses(make_config(tmp_path, [monitor]), FakeClock(), session=session)
    h.parts.stalls.start()
    await h.pipeline.check("api")
    assert h.tracked("api").state.status is Status.UP
    switchable.delay = 1.0  # slow, well inside its timeout
    with capture_logs() as logs:
        tracked = await check_through_stall(h, wait=0.3, stall=3.0)
    assert tracked is not None and tracked.last is not None
    assert tracked.last.offline and not tracked.last.ok
    assert tracked.last.reason.startswith("probe host: event loop stalled ")
    assert tracked.state.status is Status.UP
    assert h.kinds("api") == ["first_up"]
    assert h.pipeline.reruns == {"api": 0.0}  # the scheduler checks it again at once
    assert not h.rows()  # no alert
    warnings = [e["event"] for e in logs if e["log_level"] in ("warning", "error")]
    assert len(warnings) == 1 and warnings[0].startswith("event loop stalled"), warnings


async def test_the_check_counts_when_the_stall_left_most_of_its_time(
    tmp_path, harnesses, session, switchable: Switchable
) -> None:
    monitor = make_monitor("api", url=switchable.url, timeout=5.0, down_after=1)
    h = harnesses(make_config(tmp_path, [monitor]), FakeClock(), session=session)
    h.parts.stalls.start()
    switchable.delay = 0.5
    tracked = await check_through_stall(h, wait=0.2, stall=1.5)
    assert tracked is not None and tracked.last is not None
    assert tracked.last.ok and not tracked.last.offline
    assert "api" not in h.pipeline.reruns


def push_config(tmp_path):
    push = make_monitor(
        "nightly", "push", url="", token=PUSH_TOKEN, interval=DAY, grace=HOUR, down_after=1
    )
    return make_config(tmp_path, [push])


async def test_a_push_deadline_passed_while_probed_stood_still_waits_for_the_queued_ping(
    tmp_path, harnesses
) -> None:
    clock, ticks = FakeClock(), Ticks()
    h = harnesses(push_config(tmp_path), clock)
    h.pipeline.stalls = watch = LoopWatch(clock=ticks)
    assert h.parts.pushes.signal(PUSH_TOKEN, Signal.PING)
    clock.advance(DAY + HOUR + 5)  # the deadline passed 5 s ago, while probed stood still
    ticks.t += DAY + HOUR + 5
    watch.note(ticks.t, 30.0)
    assert await h.pipeline.check("nightly") is None
    assert h.pipeline.reruns == {"nightly": 30.0}
    assert h.tracked("nightly").state.status is Status.UP
    # The ping the job sent during the stall is read now.
    assert h.parts.pushes.signal(PUSH_TOKEN, Signal.PING)
    assert h.pipeline.reruns == {}
    assert h.tracked("nightly").state.status is Status.UP
    assert h.kinds("nightly") == ["first_up"]


async def test_a_push_deadline_missed_beyond_the_stall_is_judged_after_its_grace(
    tmp_path, harnesses
) -> None:
    clock, ticks = FakeClock(), Ticks()
    h = harnesses(push_config(tmp_path), clock)
    h.pipeline.stalls = watch = LoopWatch(clock=ticks)
    assert h.parts.pushes.signal(PUSH_TOKEN, Signal.PING)
    clock.advance(DAY + HOUR + 5)
    ticks.t += DAY + HOUR + 5
    watch.note(ticks.t, 30.0)
    assert await h.pipeline.check("nightly") is None
    clock.advance(30)
    ticks.t += 30
    tracked = await h.pipeline.check("nightly")
    assert tracked is not None and tracked.state.status is Status.DOWN
    assert h.kinds("nightly") == ["first_up", "down"]


async def test_a_push_deadline_missed_long_before_a_stall_gets_no_grace(
    tmp_path, harnesses
) -> None:
    clock, ticks = FakeClock(), Ticks()
    h = harnesses(push_config(tmp_path), clock)
    h.pipeline.stalls = watch = LoopWatch(clock=ticks)
    assert h.parts.pushes.signal(PUSH_TOKEN, Signal.PING)
    clock.advance(DAY + 2 * HOUR)  # an hour past the deadline: a stall of 30 s changes nothing
    ticks.t += DAY + 2 * HOUR
    watch.note(ticks.t, 30.0)
    tracked = await h.pipeline.check("nightly")
    assert tracked is not None and tracked.state.status is Status.DOWN


async def test_status_and_healthz_report_a_stall_while_it_lasts(tmp_path) -> None:
    config = make_config(tmp_path, [make_monitor("api")])
    systemd = FakeSystemd(str(tmp_path / "notify.sock"), str(tmp_path / "notify.sock"))
    with Notifier(systemd.env()) as notifier:
        parts = build(config, FakeClock(), notifier=notifier)
        parts.stalls.start()
        try:
            assert parts.problem() is None
            hold_gil(2.0)
            said = await wait_for(
                lambda: [m for m in systemd.messages() if "stalled" in m], 5, "STATUS="
            )
            assert said[0].startswith("STATUS=1 monitor: 1 pending; event loop stalled "), said
            assert parts.summary().startswith("1 monitor: 1 pending; event loop stalled ")
            problem = parts.problem()
            assert problem is not None and problem.startswith("event loop stalled "), problem
        finally:
            parts.stalls.stop()
            await parts.aclose()
            systemd.sock.close()
