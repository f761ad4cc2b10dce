"""Issue 9's own scenario, end to end: ``probed run`` with its state directory on a 2 MB tmpfs
that ``dd`` fills while a loopback target goes down, then space comes back. Needs the right to
mount (root); skipped with the reason otherwise."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from probed.store import Store
from tests.kit.figures import report
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import wait_for
from tests.kit.smtp import SmtpServer
from tests.kit.tools import tool
from tests.test_disk_full import small_disk

__all__ = ["small_disk"]  # a fixture, used by name

pytestmark = pytest.mark.slow

FULL_FOR = 15.0
"""Seconds the disk stays full: the outage is confirmed and alerted well within it."""


def write_config(tmp_path: Path, port: int, smtp_port: int, state: Path, url: str) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{state}"\nshutdown_grace = "3s"\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        'from = "probed <probed@example.test>"\nto = ["oncall@example.test"]\ntimeout = "2s"\n'
        f'[[monitor]]\nname = "api"\nurl = "{url}"\ninterval = "1s"\nretry_interval = "1s"\n'
        "down_after = 3\n"
    )
    return path


async def get_json(base: str, path: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(base + path) as resp:
        return resp.status, await resp.json()


async def test_a_full_state_disk_still_alerts_and_keeps_the_outage_with_its_true_start(
    tmp_path, small_disk, switchable, request
):
    smtp = await SmtpServer().start()
    port = free_port()
    daemon = DaemonProcess(
        write_config(tmp_path, port, smtp.port, small_disk, switchable.url), port
    )
    try:
        await daemon.start()

        async def status() -> float | None:
            return await daemon.metric("probed_monitor_status", "api")

        await wait_for(lambda: _is(status(), 2.0), 10, "the monitor up")
        fill = subprocess.run(
            [tool("dd"), "if=/dev/zero", f"of={small_disk / 'fill'}", "bs=64k"],
            capture_output=True,
            text=True,
        )
        assert "No space left on device" in fill.stderr

        async def refused() -> bool:
            code, body = await get_json(daemon.base, "/healthz")
            return code == 503 and "database or disk is full" in str(body.get("reason"))

        await wait_for(refused, 10, "/healthz 503 naming the full disk")
        filled = time.monotonic()
        switchable.status = 500
        failing_from = time.time()
        [down] = await smtp.wait_for(1, 20)
        assert down.subject == "[probed] DOWN: api (INC-2026-001)"
        code, body = await get_json(daemon.base, "/healthz")
        assert code == 503 and re.search(r" \d+ writes? waiting$", str(body["reason"])), body
        errors = await daemon.metrics()
        assert 'probed_store_errors_total{operation="check"} 1.0' in errors
        assert await status() == 9.0
        await asyncio.sleep(max(0.0, FULL_FOR - (time.monotonic() - filled)))
        assert (await get_json(daemon.base, "/healthz"))[0] == 503

        (small_disk / "fill").unlink()  # space comes back
        full_for = time.monotonic() - filled
        ok = await wait_for(lambda: _healthz_ok(daemon), 20, "/healthz 200 again")
        assert ok
        _, listing = await get_json(daemon.base, "/api/v1/monitors")
        [api] = listing["monitors"]  # type: ignore[misc]
        [incident] = api["incidents"]
        stated = datetime.fromisoformat(incident["start"]).timestamp()
        switchable.status = 200
        await smtp.wait_for(2, 20)
        assert smtp.subjects()[1].startswith("[probed] UP: api (INC-2026-001, down ")
        assert await daemon.stop() == 0

        await daemon.start()  # a restart sends nothing again
        await asyncio.sleep(2)
        assert len(smtp.inbox) == 2
        assert await daemon.stop() == 0
    finally:
        if daemon.proc is not None and daemon.proc.returncode is None:
            await daemon.stop()
        await smtp.stop()

    store = Store.open(small_disk / "probed.db")
    try:
        [mid] = store.monitors.created_at()
        transitions = list(reversed(store.transitions(mid)))
        kinds = [str(t.kind) for t in transitions]
        rows = [(r.kind, r.status) for r in store.outbox.rows()]
    finally:
        store.close()
    expected = ["first_up", "seems_down", "down", "up"]
    assert kinds == expected
    assert rows == [("down", "sent"), ("up", "sent")]
    first_failed_check = transitions[1].at.timestamp()
    outage_start = transitions[2].outage_start
    assert outage_start is not None and outage_start.timestamp() == first_failed_check
    assert 0 <= first_failed_check - stated < 1  # the API shows whole seconds
    error = first_failed_check - failing_from
    # The first failed check came at most one interval (1 s) after the target began failing.
    assert 0 <= error <= 1.5
    report(
        request,
        "disk full during an outage (2 MB tmpfs filled by dd, 1 s interval)",
        [
            f"transitions lost: {len(expected) - len(kinds)}",
            f"alerts lost: {2 - len(rows)} (emails received: {len(smtp.inbox)})",
            f"disk full for {full_for:.1f} s",
            "stored outage start - first failed check:"
            f" {outage_start.timestamp() - first_failed_check:.3f} s"
            f" (the API shows whole seconds: {stated - first_failed_check:+.3f} s)",
            f"stored outage start - target began failing: {error:.2f} s (interval 1 s)",
        ],
    )


async def _is(value: object, wanted: float) -> bool:
    return await value == wanted  # type: ignore[misc]


async def _healthz_ok(daemon: DaemonProcess) -> bool:
    code, _ = await get_json(daemon.base, "/healthz")
    return code == 200
