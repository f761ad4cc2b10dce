"""The real Prometheus server (Debian's package) scrapes a running probed on loopback."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import aiohttp
import pytest

from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import Target, serve
from tests.kit.tools import require_tool, tool

pytestmark = pytest.mark.slow

MONITORS = ("web", "api health", "broken")


async def query(session: aiohttp.ClientSession, base: str, promql: str) -> list[dict]:
    async with session.get(f"{base}/api/v1/query", params={"query": promql}) as resp:
        body = await resp.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


@require_tool("prometheus")
async def test_prometheus_scrapes_probe_success_and_status_for_every_monitor(tmp_path):
    async with serve(Target()) as target:
        port, prom_port = free_port(), free_port()
        config = tmp_path / "monitors.toml"
        config.write_text(
            f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
            f'[[monitor]]\nname = "web"\nurl = "{target.url("/status/200")}"\ninterval = "1s"\n'
            f'[[monitor]]\nname = "api health"\ntype = "keyword"\nkeyword = "status"\n'
            f'url = "{target.url("/status/200")}"\ninterval = "1s"\n'
            f'[[monitor]]\nname = "broken"\nurl = "{target.url("/status/503")}"\n'
            'interval = "1s"\n'
        )
        (tmp_path / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "rule_files: [probed.rules.yml]\n"
            "scrape_configs:\n  - job_name: probed\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        )
        shutil.copy("contrib/prometheus/probed.rules.yml", tmp_path / "probed.rules.yml")
        daemon = DaemonProcess(config, port)
        await daemon.start()
        with (tmp_path / "prometheus.log").open("wb") as prom_log:
            prometheus = subprocess.Popen(
                [
                    tool("prometheus"),
                    f"--config.file={tmp_path / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=prom_log,
            )
        base = f"http://127.0.0.1:{prom_port}"
        try:
            async with aiohttp.ClientSession() as session:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        success = await query(session, base, "probe_success")
                        status = await query(session, base, "probed_monitor_status")
                    except aiohttp.ClientError:
                        success, status = [], []
                    if len(success) == len(MONITORS) and len(status) == len(MONITORS):
                        values = {r["metric"]["monitor"]: r["value"][1] for r in success}
                        if values.get("broken") == "0" and values.get("web") == "1":
                            break
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"prometheus saw {success} / {status}\n"
                            + (tmp_path / "prometheus.log").read_text()[-2000:]
                        )
                    await asyncio.sleep(0.5)
                assert {r["metric"]["monitor"] for r in status} == set(MONITORS)
                assert all(r["metric"]["job"] == "probed" for r in status)
                values = {r["metric"]["monitor"]: r["value"][1] for r in success}
                assert values == {"web": "1", "api health": "1", "broken": "0"}
                up = await query(session, base, 'up{job="probed"}')
                assert up and up[0]["value"][1] == "1"
                async with session.get(f"{base}/api/v1/rules") as rules:
                    groups = (await rules.json())["data"]["groups"]
                assert sum(len(g["rules"]) for g in groups) >= 5
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=10)
            await daemon.stop()
