"""A running daemon exposes every metric the Grafana dashboard and the contrib rules use, with
blackbox_exporter's names, lint-clean, and a monitor a reload removes leaves no series."""

from __future__ import annotations

import asyncio
import re
import signal
from datetime import timedelta
from pathlib import Path

import pytest
import trustme

from tests.kit.certs import issue, server_context, write_ca
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import Target, serve
from tests.kit.tools import promtool_lint
from tests.test_contrib import RECORDED, all_rules, dashboard_exprs, metric_names

pytestmark = pytest.mark.slow

PROMETHEUS_OWN = {"up"}
"""Series Prometheus makes itself for each scrape target."""


def exposed(text: str) -> dict[str, list[str]]:
    """Sample lines by metric name."""
    samples: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][\w:]*", line)
            assert name, line
            samples.setdefault(name.group(0), []).append(line)
    return samples


def used_by_contrib() -> set[str]:
    names: set[str] = set()
    for expr in dashboard_exprs():
        names |= metric_names(expr)
    for rule in all_rules():
        names |= metric_names(rule["expr"])
    # Recording rules' own series are made by Prometheus, not probed.
    return names - PROMETHEUS_OWN - RECORDED


def monitors_toml(port: int, state: Path, plain: Target, tls: Target, ca_file: str) -> str:
    return (
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{state}"\n'
        '[defaults]\ninterval = "1s"\ntimeout = "1s"\n'
        '[alerts.email]\nhost = "127.0.0.1"\nport = 9\nsecurity = "none"\n'
        'from = "probed@example.test"\nto = ["oncall@example.test"]\n'
        f'[[monitor]]\nname = "web"\nurl = "{tls.url("/moved")}"\nca_file = "{ca_file}"\n'
        'slo = "99.9%"\nslow_threshold = "500ms"\n'
        f'[[monitor]]\nname = "words"\ntype = "keyword"\nkeyword = "absent"\n'
        f'url = "{plain.url("/parts")}"\ndown_after = 5\n'
        f'[[monitor]]\nname = "cert"\ntype = "ssl"\nurl = "{tls.url("/")}"\n'
        f'ca_file = "{ca_file}"\n'
        f'[[monitor]]\nname = "port"\ntype = "tcp"\nurl = "tcp://127.0.0.1:{plain_port(plain)}"\n'
    )


def plain_port(target: Target) -> int:
    assert target.server is not None and target.server.port is not None
    return target.server.port


async def scrape_until(daemon: DaemonProcess, done: object, timeout: float = 20) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        text = await daemon.metrics()
        if callable(done) and done(text):
            return text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"metrics never settled:\n{text}\n{daemon.logs()[-2000:]}")
        await asyncio.sleep(0.2)


async def test_the_daemon_exposes_every_metric_contrib_uses_and_drops_removed_monitors(
    tmp_path: Path,
) -> None:
    ca = trustme.CA()
    ca_file = write_ca(ca, tmp_path)
    context = server_context(issue(ca, expires_in=timedelta(days=60)))
    async with serve(Target()) as plain, serve(Target(), ssl_context=context) as tls:
        port = free_port()
        config = tmp_path / "monitors.toml"
        config.write_text(monitors_toml(port, tmp_path / "state", plain, tls, ca_file))
        daemon = DaemonProcess(config, port)
        await daemon.start()
        try:
            # Every monitor checked at least once, and the keyword failure recorded.
            text = await scrape_until(
                daemon,
                lambda t: (
                    len(re.findall(r"^probe_success\{", t, re.M)) == 4
                    and 'probe_failed_due_to_regex{monitor="words"} 1.0' in t
                ),
            )
            samples = exposed(text)
            missing = used_by_contrib() - set(samples)
            assert not missing, f"used in contrib/ but not exposed: {sorted(missing)}"

            # blackbox_exporter's names, where they apply.
            phases = {
                m.group(1)
                for line in samples["probe_http_duration_seconds"]
                if (m := re.match(r'.*monitor="web",phase="(\w+)"', line))
            }
            assert phases == {"resolve", "connect", "tls", "processing", "transfer"}
            assert 'probe_http_redirects{monitor="web"} 1.0' in text
            assert 'probe_http_version{monitor="web"} 1.1' in text
            assert re.search(
                r'^probe_tls_version_info\{monitor="cert",version="TLS 1\.[23]"\} 1\.0$', text, re.M
            )
            assert re.search(
                r'^probe_ssl_last_chain_expiry_timestamp_seconds\{monitor="web"\} ', text, re.M
            )
            info = (
                r'^probed_monitor_info\{group="",monitor="port",type="tcp",url="tcp://[\d.:]+"\} 1'
            )
            assert re.search(info, text, re.M)
            status_codes = {
                re.sub(r'.*monitor="([^"]+)".*', r"\1", line)
                for line in samples["probe_http_status_code"]
            }
            assert status_codes == {"web", "words"}  # ssl and tcp monitors make no request
            assert not [name for name in samples if name.endswith("_created")]
            first = text

            # A reload that removes two monitors removes every series they had.
            kept = "\n[[monitor]]".join(
                part
                for part in config.read_text().split("\n[[monitor]]")
                if 'name = "web"' not in part and 'name = "cert"' not in part
            )
            config.write_text(kept)
            daemon.signal(signal.SIGHUP)
            text = await scrape_until(
                daemon, lambda t: 'monitor="web"' not in t and 'monitor="cert"' not in t
            )
            assert 'probe_success{monitor="words"}' in text
        finally:
            assert await daemon.stop() == 0
    promtool_lint(first)  # last: without promtool the rest is still checked
