"""Alerts end to end: ``probed run`` as a subprocess, a local HTTP target that fails on a script,
and a real SMTP server on loopback that the test stops and starts."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from probed.store import Store
from tests.kit.figures import report
from tests.kit.incident_ids import incident_ids
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import wait_for
from tests.kit.smtp import SmtpServer

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, port: int, smtp_port: int, monitors: str, extra: str = "") -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'shutdown_grace = "3s"\n{extra}\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        'from = "probed <probed@example.test>"\nto = ["oncall@example.test"]\ntimeout = "2s"\n'
        + monitors
    )
    return path


async def gauge(daemon: DaemonProcess, name: str) -> float | None:
    m = re.search(rf"^{re.escape(name)} (\S+)$", await daemon.metrics(), re.M)
    return float(m.group(1)) if m else None


async def test_kill_9_before_the_send_loses_no_alert_and_restarts_duplicate_none(
    tmp_path, switchable, request
):
    smtp = SmtpServer()  # not started: the DOWN alert cannot be sent yet
    port = free_port()
    switchable.status = 500
    config = write_config(
        tmp_path,
        port,
        smtp.port,
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\ninterval = "1s"\n'
        'retry_interval = "1s"\ndown_after = 2\n',
    )
    daemon = DaemonProcess(config, port)
    before_start = time.time()
    await daemon.start()
    first_failure = time.time()

    async def down_and_pending():
        status = await daemon.metric("probed_monitor_status", "api")
        return (
            status == 9 and await gauge(daemon, 'probed_alert_queue_length{channel="email"}') == 1
        )

    await wait_for(down_and_pending, 10, "the DOWN transition stored with its alert pending")
    await wait_for(lambda: "alert delivery failed: will retry" in daemon.logs(), 5, "a failed send")
    store = Store.open(tmp_path / "state" / "probed.db")
    try:
        [monitor_id] = store.monitors.created_at()
        transitions = list(reversed(store.transitions(monitor_id)))
        kinds = [t.kind.value for t in transitions]
        pending = [(r.kind, r.status, r.message_id) for r in store.outbox.rows()]
    finally:
        store.close()
    assert kinds == ["first_up", "seems_down", "down"] or kinds == ["seems_down", "down"]
    assert [(k, s) for k, s, _ in pending] == [("down", "pending")]
    # The only outage: the first incident of the confirmed DOWN's year (docs/design.md §17.1).
    incident = f"INC-{transitions[-1].at.year}-001"
    down_subject = f"[probed] DOWN: api ({incident})"
    daemon.signal(signal.SIGKILL)
    assert daemon.proc is not None and await daemon.proc.wait() == -signal.SIGKILL

    await smtp.start()
    try:
        daemon = DaemonProcess(config, port)
        restarted = time.monotonic()
        await daemon.start()
        await smtp.wait_for(1, 10)
        delivered_after_restart = time.monotonic() - restarted
        hits = switchable.hits
        await wait_for(lambda: switchable.hits >= hits + 3, 10, "three more failed checks")
        assert await daemon.stop() == 0
        assert smtp.subjects() == [down_subject]
        assert smtp.inbox[0].message_id == pending[0][2]  # the id stored before the kill

        # The outage ends while the daemon is stopped: the first check after the start closes
        # it with one UP, with the whole outage's duration.
        switchable.status = 200
        recovered = time.time()
        daemon = DaemonProcess(config, port)
        await daemon.start()
        await smtp.wait_for(2, 10)
        up_received = time.time()
        hits = switchable.hits
        await wait_for(lambda: switchable.hits >= hits + 2, 10, "two more good checks")
        assert await daemon.stop() == 0
    finally:
        await smtp.stop()
    subjects = smtp.subjects()
    assert len(subjects) == 2 and subjects[0] == down_subject
    up = re.fullmatch(rf"\[probed\] UP: api \({incident}, down (\d+)s\)", subjects[1])
    assert up, subjects[1]
    # The outage began during the first start and ended during the last one; bounded by the
    # clock around both rather than a fixed slack, so a slow start on a loaded machine fits.
    assert recovered - first_failure - 1 <= int(up.group(1)) <= up_received - before_start + 1
    report_lines = [
        "DOWN stored, send refused (SMTP down), SIGKILL, SMTP started, restart:",
        f"  DOWN emails received: {subjects.count(down_subject)} "
        f"(delivered {delivered_after_restart:.2f} s after the restart, same Message-ID)",
        f"restart while down: 0 further DOWN emails over {3} more failed checks",
        f"outage ended while stopped: {sum(s.startswith('[probed] UP') for s in subjects)} UP "
        f"email ({subjects[1]!r})",
    ]
    report(request, "SIGKILL and restarts (probed run subprocess)", report_lines)


# ---- a scripted fault schedule ---------------------------------------------------------------


class Scripted:
    """/<name> answers its script step by step ("ok", "fail" = 503, "hang"), then "ok"."""

    def __init__(self, scripts: dict[str, list[str]]) -> None:
        self.scripts = scripts
        self.seen: dict[str, list[tuple[float, str]]] = {name: [] for name in scripts}

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        script, seen = self.scripts[name], self.seen[name]
        step = script[len(seen)] if len(seen) < len(script) else "ok"
        seen.append((time.time(), step))
        if step == "hang":
            await asyncio.sleep(3600)
        return web.Response(status=503 if step == "fail" else 200, text="ok")

    def done(self) -> bool:
        return all(len(self.seen[n]) > len(s) for n, s in self.scripts.items())

    def outages(self, name: str, down_after: int) -> list[tuple[float, float]]:
        """(first failure, first good check after it) of each run of ``down_after`` or more
        failed checks, as the target saw them."""
        runs, start, count = [], 0.0, 0
        for at, step in self.seen[name]:
            if step != "ok":
                start, count = (at, 1) if count == 0 else (start, count + 1)
                continue
            if count >= down_after:
                runs.append((start, at))
            count = 0
        return runs


SCRIPTS = {
    # Single failures and a pair, with down_after = 3: blips, never an alert.
    "blips": ["ok", "ok", "fail", "ok", "ok", "fail", "fail", "ok", "fail", "ok"],
    "outage": ["ok", "ok", "fail", "fail", "fail", "fail", "ok"],
    "flapping": ["ok", "fail", "ok", "fail", "ok", "fail", "fail", "fail", "ok", "fail", "ok"],
    # A target that stops answering: each check costs its 1 s timeout.
    "hanging": ["ok", "hang", "hang", "hang", "ok"],
}


async def test_a_fault_schedule_alerts_every_outage_once_with_its_duration_and_blips_never(
    tmp_path, request
):
    scripted = Scripted(SCRIPTS)
    app = web.Application()
    app.router.add_get("/{name}", scripted.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    smtp = await SmtpServer().start()
    port = free_port()
    timing = {name: ("1s", "1s") for name in SCRIPTS} | {"hanging": ("2s", "2s")}
    monitors = "".join(
        f'[[monitor]]\nname = "{name}"\nurl = "{server.make_url("/" + name)}"\n'
        f'interval = "{timing[name][0]}"\nretry_interval = "{timing[name][1]}"\n'
        'timeout = "1s"\ndown_after = 3\n'
        for name in SCRIPTS
    )
    # Alert storms are tested elsewhere: a higher threshold keeps every alert a single email.
    config = write_config(tmp_path, port, smtp.port, monitors, "storm_threshold = 10")
    daemon = DaemonProcess(config, port)
    try:
        await daemon.start()
        await wait_for(lambda: scripted.done(), 40, "every script played")
        expected = {n: scripted.outages(n, 3) for n in SCRIPTS}
        await smtp.wait_for(2 * sum(len(o) for o in expected.values()), 10)
        await asyncio.sleep(1.5)  # time for any alert that should not come
        assert await daemon.stop() == 0
    finally:
        await smtp.stop()
        await server.close()
    store = Store.open(tmp_path / "state" / "probed.db")
    try:
        incidents = incident_ids(store)
    finally:
        store.close()
    lines = []
    for name in SCRIPTS:
        mails = [m for m in smtp.inbox if re.search(rf": {name}( |$)", m.subject)]
        downs = [m for m in mails if m.subject.startswith(f"[probed] DOWN: {name} (")]
        ups = [m for m in mails if m.subject.startswith(f"[probed] UP: {name} ")]
        assert [m.subject for m in downs] == [
            f"[probed] DOWN: {name} ({i})" for i in incidents.get(name, [])
        ]
        outages = expected[name]
        assert len(mails) == 2 * len(outages), [m.subject for m in mails]
        assert len(downs) == len(ups) == len(outages)
        retry = float(timing[name][1].rstrip("s"))
        budget = (3 - 1) * retry + 1.0 + 2.0
        for (start, end), down, up, incident in zip(
            outages, downs, ups, incidents.get(name, []), strict=True
        ):
            latency = down.at - start
            span = re.fullmatch(rf"\[probed\] UP: {name} \({incident}, down (\d+)s\)", up.subject)
            assert span, up.subject
            lines.append(
                f"{name:<9} outage {end - start:4.1f} s ({incident}): DOWN {latency:.2f} s after"
                f" the first failure (budget {budget:.0f} s), UP says {span.group(1)} s"
            )
            assert 0 < latency <= budget
            assert abs(int(span.group(1)) - (end - start)) <= 1
        if not outages:
            lines.append(f"{name:<9} {len(scripted.seen[name])} checks with blips: 0 alerts")
    report(request, "scripted fault schedule (probed run subprocess)", lines)
