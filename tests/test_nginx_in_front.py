"""contrib/nginx/probed-public.conf, the README's snippet for ``public_listen`` on the
internet, run by Debian's nginx in front of a real daemon: pings pass while readers are
throttled."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import trustme

from tests.kit.certs import write_ca
from tests.kit.crowd import push_job_config
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.tools import require_tool, tool

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = ROOT / "contrib" / "nginx" / "probed-public.conf"
TOKEN = "nginx-job-token-0123456789"
pytestmark = require_tool("nginx", "curl")


def nginx_conf(tmp: Path, port: int, public: int, cert: str, key: str) -> Path:
    """A whole nginx.conf of its own in ``tmp`` with the snippet in its http block, pointed at
    127.0.0.1:``port``, ``public``, and the test's certificate."""
    snippet = (
        SNIPPET.read_text()
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("127.0.0.1:9926", f"127.0.0.1:{public}")
        .replace("/etc/ssl/certs/status.example.com.pem", cert)
        .replace("/etc/ssl/private/status.example.com.key", key)
    )
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {tmp}/{kind};" for kind in kinds)
    conf = tmp / "nginx.conf"
    # As root nginx would run its worker as nobody, who cannot read the private tmp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"{user}worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\n"
        f"    access_log off;\n{snippet}\n}}\n"
    )
    return conf


def curl(url: str, ca: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("curl"), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, *extra, url],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


async def test_the_readme_nginx_snippet_throttles_readers_and_passes_every_ping(tmp_path):
    assert SNIPPET.read_text() in (ROOT / "README.md").read_text()  # the README shows it whole
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost")
    cert, key = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    port, public, front = free_port(), free_port(), free_port()
    config = push_job_config(tmp_path, port, public, TOKEN)
    conf = nginx_conf(tmp_path, front, public, str(cert), str(key))
    nginx = subprocess.Popen(
        [tool("nginx"), "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        base = f"https://localhost:{front}"
        resolve = ("--resolve", f"localhost:{front}:127.0.0.1")
        ca_path = write_ca(ca, tmp_path)
        for _ in range(50):
            if curl(base + "/", ca_path, *resolve).stdout == "200":
                break
            await asyncio.sleep(0.1)
        # 60 page reads at once from one address: past the burst they are refused 429 ...
        page = [curl(base + "/", ca_path, *resolve).stdout for _ in range(60)]
        # ... while the job's pings, from the same address, all pass.
        pings = [curl(f"{base}/push/{TOKEN}", ca_path, *resolve).stdout for _ in range(10)]
        status = await daemon.metric("probed_monitor_status", "job")
    finally:
        await daemon.stop()
        nginx.terminate()
        _, errors = nginx.communicate(timeout=10)
    assert page.count("200") >= 20 and page.count("429") >= 10, page
    assert pings == ["200"] * 10, (pings, errors)
    assert status == 2
