"""End to end: ``probed run`` watches domain expiry through a local RDAP server named by
``[probed] rdap_bootstrap``; the answer is shared by a domain's monitors and kept across a
restart, and an unknown expiry changes nothing else."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.kit.processes import DaemonProcess, free_port
from tests.kit.rdap import rdap_server
from tests.kit.receiver import Receiver
from tests.kit.servers import wait_for

pytestmark = pytest.mark.slow

EXPIRES_TS = datetime(2027, 8, 13, 4, tzinfo=UTC).timestamp()


def _config(tmp_path: Path, port: int, bootstrap: Path, hook: str) -> Path:
    # Paused: the monitors' own checks would look the names up; domain expiry goes on.
    monitors = "".join(
        f'[[monitor]]\nname = "{name}"\nurl = "{url}"\ndomain_expiry_days = 30\npaused = true\n'
        for name, url in (
            ("site", "https://www.example.com/"),
            ("api", "https://api.example.com/"),
            ("lapsing", "https://malformed.com/"),
        )
    )
    # A domain monitor sends nothing: it runs, and warns, without a lookup.
    monitors += '[[monitor]]\nname = "soon"\ntype = "domain"\nurl = "soon.org"\nalert = ["hook"]\n'
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'shutdown_grace = "3s"\nrdap_bootstrap = "{bootstrap}"\n'
        f'[alerts.hook]\ntype = "webhook"\nurl = "{hook}/hook"\n' + monitors
    )
    return path


async def test_domain_expiry_is_asked_once_per_domain_and_kept_across_a_restart(tmp_path):
    hook = await Receiver().start()
    soon = datetime.now(UTC) + timedelta(days=9, hours=12)
    async with rdap_server() as rdap:
        rdap.answers |= {"example.com": "2027-08-13T04:00:00Z", "malformed.com": "31.02.2027"}
        rdap.answers["soon.org"] = soon.isoformat()
        port = free_port()
        bootstrap = rdap.bootstrap(tmp_path / "dns.json", "com", "org")
        config = _config(tmp_path, port, bootstrap, hook.url)
        daemon = DaemonProcess(config, port)
        await daemon.start()
        try:

            async def shown() -> bool:
                return (
                    await daemon.metric("probed_domain_expiry_timestamp_seconds", "api") is not None
                    and "domain expiry unknown" in daemon.logs()
                )

            await wait_for(shown, 10, "domain expiry")
            for name in ("site", "api"):
                value = await daemon.metric("probed_domain_expiry_timestamp_seconds", name)
                assert value == EXPIRES_TS
            text = await daemon.metrics()
            assert 'probed_domain_expiry_timestamp_seconds{monitor="lapsing"}' not in text
            assert 'malformed expiration date \\"31.02.2027\\"' in daemon.logs()
            assert await daemon.metric("probed_monitor_status", "lapsing") == 0  # still paused
            [warning] = await hook.wait_for(1)
            body = warning.json()
            assert (body["kind"], body["monitor"]["name"]) == ("domain", "soon")
            assert "soon.org expires in 9 days" in json.dumps(body)
            await wait_for(lambda: daemon.metric("probe_success", "soon"), 10, "soon checked")
            assert await daemon.metric("probe_success", "soon") == 1
        finally:
            assert await daemon.stop() == 0
        assert rdap.asked == {"example.com": 1, "malformed.com": 1, "soon.org": 1}

        restarted = DaemonProcess(config, port)
        await restarted.start()
        try:

            async def again() -> bool:
                value = await restarted.metric("probed_domain_expiry_timestamp_seconds", "site")
                return value == EXPIRES_TS

            await wait_for(again, 10, "domain expiry after the restart")
            await asyncio.sleep(1)  # a second warning would have been sent by now
        finally:
            assert await restarted.stop() == 0
            await hook.stop()
        assert rdap.asked == {"example.com": 1, "malformed.com": 1, "soon.org": 1}
        assert len(hook.requests) == 1
