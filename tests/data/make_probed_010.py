"""Writes ``probed-0.1.0.sql`` (a state database as probed 0.1.0 leaves it, dumped with
``iterdump``) and ``probed-0.1.0-answers.json`` (what 0.1.0 itself served from it), for
tests/test_upgrade.py. Not run in CI: it needs the 0.1.0 code.

Ran against commit 5e1f801 (the last 0.1 commit before the storage was restructured):

    git worktree add /tmp/probed-010 5e1f801
    cd /tmp/probed-010 && /path/to/.venv/bin/python /path/to/tests/data/make_probed_010.py \
        /path/to/tests/data

Three monitors over 3.5 hours on a fake clock, through 0.1.0's real pipeline, history, pauses
and alert recorder: "up" (a blip, then an outage that recovered), "paused" (paused via the API)
and "down" (down since 3h20m, its DOWN alert still waiting in the outbox: every earlier alert is
marked sent). Hours 0 and 1 are rolled up into ``hourly``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the 0.1.0 checkout

from aiohttp.test_utils import TestClient, TestServer
from tests.alert_fixtures import T0, FakeClock, email_channel, make_config
from tests.history_fixtures import monitor

from probed.alerts.outbox import Outbox
from probed.alerts.recorder import AlertRecorder
from probed.engine.pauses import Pauses
from probed.engine.pipeline import Pipeline, Tracked
from probed.history import History
from probed.metrics import Metrics
from probed.model import CheckResult, Timings
from probed.service.daemon import check_key
from probed.store import Store
from probed.web import make_app
from probed.web.context import Api

# URLs on 127.0.0.1 port 9, where nothing listens: the upgrade test's daemon may check them.
MONITORS = [
    monitor(name, url=f"http://127.0.0.1:9/{name}", down_after=3, alert=("email",))
    for name in ("up", "paused", "down")
]
END = T0 + timedelta(hours=3, minutes=30)


async def main(out: Path) -> None:
    import probed.engine.pipeline as pipeline_module

    clock = FakeClock()
    scratch = Path(tempfile.mkdtemp())
    path = scratch / "probed.db"
    config = make_config(scratch, MONITORS, email_channel(25))
    store = Store.open(path)
    metrics = Metrics()
    pipeline = Pipeline(store, metrics, None, clock)  # type: ignore[arg-type]
    history = History(store, clock)
    history.start_run()
    pauses = Pauses(pipeline, store, tuple, clock)
    outbox = Outbox(store)
    recorder = AlertRecorder(
        outbox,
        lambda: config,
        clock,
        monitors=lambda: pipeline.monitors.values(),
        wake=lambda: None,
    )
    pipeline.record_hooks.append(recorder)
    rows = store.sync_monitors([(m.name, check_key(m), None) for m in config.monitors], clock())
    for m in config.monitors:
        pipeline.track(Tracked(m, rows[m.name].id, rows[m.name].state))
    failing: set[str] = set()

    async def probe(m: object, session: object, now: object) -> CheckResult:
        name = m.name  # type: ignore[attr-defined]
        minute = int((clock() - T0).total_seconds() // 60)
        if name in failing:
            return CheckResult(
                ok=False,
                reason="HTTP 503, expected 2xx",
                at=clock(),
                status_code=503,
                timings=Timings(dns=0.001, connect=0.002, first_byte=0.03, total=0.031),
            )
        total = (0.1, 0.25, 0.125)[minute % 3]
        return CheckResult(
            ok=True,
            reason="HTTP 200",
            at=clock(),
            status_code=200,
            timings=Timings(dns=0.002, connect=0.004, first_byte=total - 0.01, total=total),
        )

    pipeline_module.run_probe = probe  # type: ignore[assignment]
    for minute in range(int((END - T0).total_seconds() // 60)):
        clock.t = T0 + timedelta(minutes=minute)
        failing = set()
        if minute == 30:
            failing.add("up")  # a blip: one failure
        if 60 <= minute < 75:
            failing.add("up")  # an outage of 15 minutes
        if minute >= 200:
            failing.add("down")
        if minute == 180:
            pauses.pause(pipeline.monitors["paused"], None, "API")
        for name in pipeline.monitors:
            await pipeline.check(name)
        if minute == 190:
            while history.rollup_step():
                pass
    clock.t = END
    pending = outbox.pending()
    assert pending[-1].monitor == "down" and str(pending[-1].kind) == "down", pending
    outbox.mark_sent([row.id for row in pending[:-1]], clock())
    history.heartbeat()
    history.stop_run()

    # What 0.1.0 serves from this database after a restart, at END.
    history = History(store, clock)
    pipeline = Pipeline(store, Metrics(), None, clock)  # type: ignore[arg-type]
    rows = store.sync_monitors([(m.name, check_key(m), None) for m in config.monitors], clock())
    for m in config.monitors:
        pipeline.track(
            Tracked(m, rows[m.name].id, rows[m.name].state, store.last_check(rows[m.name].id))
        )
    api = Api(pipeline, history, Pauses(pipeline, store, tuple, clock), lambda: "t", clock)
    async with TestClient(
        TestServer(make_app(Metrics(), lambda: True, api), host="127.0.0.1")
    ) as client:
        resp = await client.get("/api/v1/monitors")
        served = await resp.json()
    states = {
        name: {
            "status": int(row.state.status),
            "since": row.state.since.isoformat() if row.state.since else None,
            "failures": row.state.failures,
            "successes": row.state.successes,
            "outage_start": row.state.outage_start.isoformat() if row.state.outage_start else None,
            "reason": row.state.reason,
        }
        for name, row in rows.items()
    }
    answers = {
        "now": END.isoformat(),
        "check_keys": {m.name: check_key(m) for m in config.monitors},
        "pending_alert": {"monitor": pending[-1].monitor, "message_id": pending[-1].message_id},
        "states": states,
        "api_v1_monitors": served,
    }
    store.close()
    db = sqlite3.connect(path)
    (out / "probed-0.1.0.sql").write_text("\n".join(db.iterdump()) + "\n")
    db.close()
    (out / "probed-0.1.0-answers.json").write_text(json.dumps(answers, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
