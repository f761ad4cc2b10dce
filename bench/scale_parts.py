"""The processes bench/scale.py runs and how it accounts for them: Debian's nginx as the target,
blackbox_exporter driven by a Prometheus server, a small aiohttp server of hostile targets, and
the /proc figures (CPU seconds, peak RSS) and nginx access-log counts the report is made of.

Everything listens on 127.0.0.1 on free ports and lives in one temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.kit.processes import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BLACKBOX = shutil.which("prometheus-blackbox-exporter") or "/usr/bin/prometheus-blackbox-exporter"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
TICK = os.sysconf("SC_CLK_TCK")
BODY = "probed scale bench\n" + "x" * 1900 + "\nstatus: success\n"
"""What nginx serves: 2 KB, the keyword at the end, so a keyword check reads all of it."""


def missing_binaries() -> list[str]:
    return [b for b in (NGINX, BLACKBOX, PROMETHEUS) if not os.access(b, os.X_OK)]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (not its children), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    return _status_kib(pid, "VmHWM:") * 1024


def current_rss(pid: int) -> int:
    """The process's resident set now (VmRSS), in bytes."""
    return _status_kib(pid, "VmRSS:") * 1024


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


class Proc:
    """A child process whose output goes to a file in the bench's directory; ``stop`` is safe
    to call twice and kills what does not stop on SIGTERM."""

    def __init__(self, name: str, argv: list[str], tmp: Path, env: dict[str, str] | None = None):
        self.name = name
        self.log = tmp / f"{name}.log"
        self.started = time.monotonic()
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv, stdout=out, stderr=out, env={**os.environ, **(env or {})}, cwd=tmp
            )
        self.pid = self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return peak_rss(self.pid)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


async def wait_http(url: str, proc: Proc, timeout: float = 60) -> float:
    """Seconds from the process's start until ``url`` answers below 500."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if not proc.alive():
                raise SystemExit(f"{proc.name} exited: {proc.log.read_text()[-2000:]}")
            try:
                async with session.get(url) as r:
                    if r.status < 500:
                        return time.monotonic() - proc.started
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{proc.name}: {url} did not answer in {timeout:.0f}s")
            await asyncio.sleep(0.05)


NGINX_CONF = """
{user}
worker_processes 1;
worker_rlimit_nofile 65536;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
    log_format bench '$msec $request_uri $status $body_bytes_sent';
    access_log {tmp}/access.log bench buffer=256k flush=1s;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    keepalive_timeout 5s;
    server {{
        listen 127.0.0.1:{port} backlog=4096 reuseport;
        location / {{
            root {tmp}/html;
            default_type text/plain;
            try_files /body.txt =404;
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx on 127.0.0.1:``port`` with a config of its own, one worker, serving
    ``BODY`` at every path and logging ``$msec $request_uri $status $bytes`` per request."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.access_log = tmp / "access.log"
        (tmp / "html").mkdir(exist_ok=True)
        (tmp / "html" / "body.txt").write_text(BODY)
        # As root nginx would run its worker as nobody, who cannot read the private tmp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = tmp / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=self.port))
        self.proc: Proc | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        argv = [NGINX, "-p", str(self.tmp), "-c", str(self.conf), "-g", "daemon off;"]
        self.proc = Proc("nginx", argv, self.tmp)
        await wait_http(self.base + "/ready", self.proc)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def cpu(self) -> float:
        """Master and worker, from /proc: the workers are the master's children."""
        assert self.proc is not None
        return self.proc.cpu() + sum(cpu_seconds(p) for p in self.worker_pids())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def read_access_log(path: Path, start: float, end: float) -> dict[str, list[float]]:
    """Request times (unix seconds) by URI, of the requests logged in [start, end)."""
    by_uri: dict[str, list[float]] = defaultdict(list)
    with path.open() as log:
        for line in log:
            parts = line.split(" ", 2)
            if len(parts) < 2:
                continue
            at = float(parts[0])
            if start <= at < end:
                by_uri[parts[1]].append(at)
    return by_uri


def blackbox_config(path: Path, timeout: float) -> None:
    """Modules: plain GET (``http``), and GET with the body read and searched (``keyword``),
    at most 10 MiB of it as probed's max_body."""
    http = {"prober": "http", "timeout": f"{timeout}s", "http": {"preferred_ip_protocol": "ip4"}}
    keyword = {
        "prober": "http",
        "timeout": f"{timeout}s",
        "http": {
            "preferred_ip_protocol": "ip4",
            "fail_if_body_not_matches_regexp": ["success"],
            "body_size_limit": "10MiB",
        },
    }
    path.write_text(json.dumps({"modules": {"http": http, "keyword": keyword}}))


def prometheus_config(
    path: Path, blackbox_port: int, interval: float, timeout: float, targets: dict[str, list[str]]
) -> None:
    """One scrape job per blackbox module, every target at ``interval``, blackbox's usual
    relabelling (target → ``?target=``, the exporter's address as ``__address__``)."""
    jobs = [
        {
            "job_name": f"blackbox_{module}",
            "scrape_interval": f"{interval:g}s",
            "scrape_timeout": f"{timeout:g}s",
            "metrics_path": "/probe",
            "params": {"module": [module]},
            "static_configs": [{"targets": urls}],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": f"127.0.0.1:{blackbox_port}"},
            ],
        }
        for module, urls in targets.items()
        if urls
    ]
    path.write_text(
        json.dumps({"global": {"scrape_interval": f"{interval:g}s"}, "scrape_configs": jobs})
    )


class Blackbox:
    """blackbox_exporter and the Prometheus server that drives it, each on a free port."""

    def __init__(self, tmp: Path, interval: float, timeout: float) -> None:
        self.tmp, self.interval, self.timeout = tmp, interval, timeout
        self.port, self.prom_port = free_port(), free_port()
        self.exporter: Proc | None = None
        self.prometheus: Proc | None = None
        self.ready: dict[str, float] = {}

    async def start(self, targets: dict[str, list[str]]) -> None:
        blackbox_config(self.tmp / "blackbox.yml", self.timeout)
        prometheus_config(
            self.tmp / "prometheus.yml", self.port, self.interval, self.timeout, targets
        )
        self.exporter = Proc(
            "blackbox",
            [
                BLACKBOX,
                f"--config.file={self.tmp / 'blackbox.yml'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            self.tmp,
        )
        self.ready["blackbox"] = await wait_http(
            f"http://127.0.0.1:{self.port}/-/healthy", self.exporter
        )
        self.prometheus = Proc(
            "prometheus",
            [
                PROMETHEUS,
                f"--config.file={self.tmp / 'prometheus.yml'}",
                f"--web.listen-address=127.0.0.1:{self.prom_port}",
                f"--storage.tsdb.path={self.tmp / 'prometheus-data'}",
                "--storage.tsdb.retention.time=2h",
            ],
            self.tmp,
        )
        self.ready["prometheus"] = await wait_http(
            f"http://127.0.0.1:{self.prom_port}/-/ready", self.prometheus
        )

    def stop(self) -> None:
        for proc in (self.prometheus, self.exporter):
            if proc is not None:
                proc.stop()


HOSTILE = """
import asyncio, sys
from aiohttp import web

CHUNK = b"x" * 65536

async def hang(request):
    await asyncio.sleep(3600)
    return web.Response(text="late")

async def drip(request):
    response = web.StreamResponse()
    response.content_type = "text/plain"
    await response.prepare(request)
    for _ in range(3600):
        await response.write(b"x")
        await asyncio.sleep(1)
    return response

async def huge(request):
    size = 20 * 2**20
    response = web.StreamResponse(headers={"Content-Length": str(size)})
    response.content_type = "text/plain"
    await response.prepare(request)
    for _ in range(size // len(CHUNK)):
        await response.write(CHUNK)
    return response

app = web.Application()
app.router.add_get("/hang/{tail:.*}", hang)
app.router.add_get("/drip/{tail:.*}", drip)
app.router.add_get("/huge/{tail:.*}", huge)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None,
            backlog=4096)
"""


class Hostile:
    """The bench's own small server of bad targets: ``/hang/…`` never answers, ``/drip/…``
    sends its body a byte a second, ``/huge/…`` sends 20 MiB without the keyword."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.proc: Proc | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = Proc("hostile", [sys.executable, "-c", HOSTILE, str(self.port)], self.tmp)
        await wait_http(self.base + "/", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@dataclass
class Snapshot:
    """One process's counters at a moment."""

    cpu: float
    at: float


def quantiles(values: list[float], qs: tuple[float, ...] = (0.5, 0.99)) -> list[float]:
    if not values:
        return [float("nan")] * len(qs)
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in qs]
