"""Scale: probed and blackbox_exporter side by side on N monitors, on one machine (issue 13).

Debian's nginx on 127.0.0.1 serves every target (a distinct URL per monitor: ``/p/<i>`` for
probed, ``/b/<i>`` for blackbox). In the same run, ``probed run`` checks N generated monitors and
a Prometheus server drives blackbox_exporter over the same N URLs at the same interval. After a
warm-up, a measured window; figures per tool:

- checks done vs intended, counted in nginx's access log (by URL), not by the tool;
- CPU seconds per 1,000 checks (utime + stime from /proc; Prometheus reported separately);
- peak RSS (VmHWM);
- schedule lag: probed's from the access log (arrival − the monitor's phase in its interval,
  which the scheduler derives from the name) and from its ``probed_schedule_lag_seconds``
  histogram (interpolated within buckets, as histogram_quantile does); for both tools, the
  interval jitter (|gap between two requests to one URL − interval|) from the access log;
- start-up time: probed to READY=1 on a NOTIFY_SOCKET of the bench's own, blackbox to
  /-/healthy, Prometheus to /-/ready;
- probed's database growth per hour (pages in use, WAL included) and log bytes per hour.

Mixes: ``plain`` (GET), ``keyword`` (body read and searched), ``hostile`` (N healthy plus, per
1,000 of them, 100 hanging, 100 drip-feeding and 50 huge-body targets on the bench's own server;
lag and counts are the healthy monitors'), ``outage`` (nginx stopped, so every check is refused,
then started again: CPU while failing, time to all DOWN, and the emails a local SMTP server
received, which should be one digest rather than one per monitor). Loopback only.

    .venv/bin/python bench/scale.py --quick
    .venv/bin/python bench/scale.py --monitors 10000 --interval 60 --window 300 --warmup 90
    .venv/bin/python bench/scale.py --quick --mix outage
    .venv/bin/python bench/scale.py --nginx-limit      # what nginx alone serves (the reference)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import itertools

from bench.scale_limit import nginx_limit
from bench.scale_parts import (
    Blackbox,
    Hostile,
    Nginx,
    Proc,
    current_rss,
    loadavg,
    missing_binaries,
    quantiles,
    read_access_log,
)
from probed.engine.scheduler import phase_offset
from tests.kit.processes import free_port

RSS_EVERY = 30.0
"""Seconds between two samples of probed's resident set in the window."""


@dataclass
class Plan:
    monitors: int
    interval: float
    window: float
    warmup: float
    mix: str
    timeout: float
    hostile: dict[str, int] = field(default_factory=dict)
    """Hostile targets per kind (hang, drip, huge)."""
    profile: Path | None = None
    """Where py-spy writes probed's collapsed stacks over the window, if wanted."""

    @property
    def intended(self) -> float:
        return self.monitors * self.window / self.interval


def monitors_toml(plan: Plan, nginx: Nginx, hostile: Hostile | None, tmp: Path, smtp: int) -> str:
    head = [
        "[probed]",
        f'listen = "127.0.0.1:{free_port()}"',
        f'state_dir = "{tmp / "state"}"',
        "[defaults]",
        f'interval = "{plan.interval:g}s"',
        f'timeout = "{plan.timeout:g}s"',
    ]
    if smtp:
        head += [
            "[alerts.email]",
            'host = "127.0.0.1"',
            f"port = {smtp}",
            'security = "none"',
            'from = "probed <probed@localhost>"',
            'to = ["oncall@localhost"]',
        ]
    else:
        head.append("alert = []")
    kind = "keyword" if plan.mix == "keyword" else "http"
    lines = []
    for i in range(plan.monitors):
        lines.append(f'[[monitor]]\nname = "m{i}"\nurl = "{nginx.base}/p/{i}"\ntype = "{kind}"')
        if kind == "keyword":
            lines.append('keyword = "success"')
    for path, count in plan.hostile.items():
        assert hostile is not None
        for i in range(count):
            lines.append(f'[[monitor]]\nname = "{path}{i}"\nurl = "{hostile.base}/{path}/p{i}"')
            # The drip and huge bodies are read (keyword), so their bytes really come in.
            lines.append(
                'type = "http"' if path == "hang" else 'type = "keyword"\nkeyword = "success"'
            )
    return "\n".join(head + lines) + "\n"


def blackbox_targets(plan: Plan, nginx: Nginx, hostile: Hostile | None) -> dict[str, list[str]]:
    module = "keyword" if plan.mix == "keyword" else "http"
    targets: dict[str, list[str]] = {"http": [], "keyword": []}
    targets[module] = [f"{nginx.base}/b/{i}" for i in range(plan.monitors)]
    for path, count in plan.hostile.items():
        assert hostile is not None
        urls = [f"{hostile.base}/{path}/b{i}" for i in range(count)]
        targets["http" if path == "hang" else "keyword"] += urls
    return targets


class Probed:
    """``probed run`` with a NOTIFY_SOCKET of the bench's own, to time READY=1."""

    def __init__(self, tmp: Path, config: str) -> None:
        self.tmp = tmp
        self.config = tmp / "monitors.toml"
        self.config.write_text(config)
        self.port = int(re.search(r'listen = "127.0.0.1:(\d+)"', config)[1])  # type: ignore[index]
        self.base = f"http://127.0.0.1:{self.port}"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(tmp / "notify.sock"))
        self.notify.setblocking(False)
        self.proc: Proc | None = None
        self.ready = float("nan")
        self.healthy = float("nan")
        self.ready_cpu = float("nan")

    async def start(self) -> None:
        argv = [sys.executable, "-m", "probed", "run", "-c", str(self.config)]
        self.proc = Proc(
            "probed", argv, self.tmp, env={"NOTIFY_SOCKET": str(self.tmp / "notify.sock")}
        )
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.notify, 4096), 120)
            except TimeoutError:
                raise SystemExit(
                    f"probed not READY in 120 s: {self.proc.log.read_text()[-2000:]}"
                ) from None
            if b"READY=1" in data.split(b"\n"):
                self.ready = time.monotonic() - self.proc.started
                # On a busy machine wall time mostly measures the others: CPU is the cost.
                self.ready_cpu = self.proc.cpu()
                break
        from bench.scale_parts import wait_http

        self.healthy = await wait_http(self.base + "/healthz", self.proc)

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as s, s.get(self.base + "/metrics") as r:
            return await r.text()

    def db_bytes(self) -> int:
        """Pages in use (the WAL's included: a reader sees them), not the file's size."""
        path = self.tmp / "state" / "probed.db"
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            page = db.execute("PRAGMA page_size").fetchone()[0]
            used = db.execute("PRAGMA page_count").fetchone()[0]
            free = db.execute("PRAGMA freelist_count").fetchone()[0]
            return int((used - free) * page)
        finally:
            db.close()

    def log_bytes(self) -> int:
        assert self.proc is not None
        return self.proc.log.stat().st_size

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        self.notify.close()


def metric_sum(text: str, name: str, match: str = "") -> float:
    pattern = rf"^{name}(?:\{{[^}}]*{match}[^}}]*\}})? (\S+)$"
    return sum(float(v) for v in re.findall(pattern, text, re.M))


def lag_buckets(text: str) -> list[tuple[float, float]]:
    rows = re.findall(r'^probed_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)
    return [(float(le), float(n)) for le, n in rows]


def histogram_quantile(
    q: float, before: list[tuple[float, float]], after: list[tuple[float, float]]
) -> float:
    """Prometheus's histogram_quantile over the window's increase of each bucket."""
    buckets = [(le, n - m) for (le, n), (_, m) in zip(after, before, strict=True)]
    total = buckets[-1][1]
    if total <= 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower
            return lower + (le - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = le, count
    return lower


def probed_lag(by_uri: dict[str, list[float]], interval: float) -> list[float]:
    """Each request's delay past its monitor's phase (``m<i>`` requests ``/p/<i>``)."""
    lags = []
    for uri, times in by_uri.items():
        if not uri.startswith("/p/"):
            continue
        offset = phase_offset(f"m{uri[3:]}", interval)
        for at in times:
            lag = (at - offset) % interval
            lags.append(lag - interval if lag > interval - 0.5 else lag)
    return lags


def late_seconds(by_uri: dict[str, list[float]], interval: float, t0: float) -> list[list[float]]:
    """Per second of the window, the largest probed lag: stalls show as runs of late seconds,
    periodic ones (a job every minute) at a fixed spacing."""
    worst: dict[int, float] = {}
    for uri, times in by_uri.items():
        if uri.startswith("/p/"):
            offset = phase_offset(f"m{uri[3:]}", interval)
            for at in times:
                lag = (at - offset) % interval
                lag = lag - interval if lag > interval - 0.5 else lag
                second = int(at - t0)
                worst[second] = max(worst.get(second, 0.0), lag)
    return [[s, round(v, 3)] for s, v in sorted(worst.items()) if v > 0.25]


def jitter(by_uri: dict[str, list[float]], prefix: str, interval: float) -> list[float]:
    out = []
    for uri, times in by_uri.items():
        if uri.startswith(prefix):
            ordered = sorted(times)
            out += [abs(b - a - interval) for a, b in itertools.pairwise(ordered)]
    return out


def profile(proc: Proc, seconds: float, tmp: Path, out: Path | None) -> Proc | None:
    """py-spy sampling probed over the window without pausing it (--nonblocking)."""
    if out is None:
        return None
    py_spy = Path(sys.executable).parent / "py-spy"
    argv = [str(py_spy), "record", "--nonblocking", "--rate", "50", "--format", "raw"]
    argv += ["-d", str(int(seconds)), "-o", str(out.resolve()), "-p", str(proc.pid)]
    return Proc("py-spy", argv, tmp)


def per_thousand(cpu: float, checks: float) -> float:
    return cpu / checks * 1000 if checks else float("nan")


async def measure(plan: Plan, tmp: Path) -> dict[str, object]:
    nginx = Nginx(tmp)
    hostile = Hostile(tmp) if plan.hostile else None
    blackbox = Blackbox(tmp, plan.interval, plan.timeout)
    smtp = None
    probed: Probed | None = None
    try:
        await nginx.start()
        if hostile is not None:
            await hostile.start()
        if plan.mix == "outage":
            from tests.kit.smtp import SmtpServer

            smtp = await SmtpServer().start()
        probed = Probed(tmp, monitors_toml(plan, nginx, hostile, tmp, smtp.port if smtp else 0))
        load_start = loadavg()
        await probed.start()
        await blackbox.start(blackbox_targets(plan, nginx, hostile))
        assert probed.proc and blackbox.exporter and blackbox.prometheus
        procs = {
            "probed": probed.proc,
            "blackbox": blackbox.exporter,
            "prometheus": blackbox.prometheus,
        }
        await asyncio.sleep(plan.warmup)
        if plan.mix == "outage":
            return await outage(plan, nginx, probed, procs, smtp, load_start)

        # Rendering /metrics is probed's work for the bench, not for its checks (seconds of it
        # at 10,000 monitors): asked outside the window, and the checks it held up let run.
        text0 = await probed.metrics()
        await asyncio.sleep(3)
        cpu0 = {k: p.cpu() for k, p in procs.items()}
        nginx0 = nginx.cpu()
        db0, log0 = probed.db_bytes(), probed.log_bytes()
        t0 = time.time()
        profiler = profile(probed.proc, plan.window, tmp, plan.profile)
        # probed's resident set through the window: flat, or growing by how much per hour.
        rss_trace: list[tuple[float, float]] = []
        while (left := t0 + plan.window - time.time()) > 0:
            if probed.proc is not None:
                rss_trace.append((time.time() - t0, current_rss(probed.proc.pid) / 2**20))
            await asyncio.sleep(min(RSS_EVERY, left))
        t1 = time.time()
        if profiler is not None:
            await asyncio.to_thread(profiler.popen.wait, 30)
        cpu = {k: p.cpu() - cpu0[k] for k, p in procs.items()}
        nginx_cpu = nginx.cpu() - nginx0
        text1, db1, log1 = await probed.metrics(), probed.db_bytes(), probed.log_bytes()
        rss = {k: p.rss() for k, p in procs.items()}
        load_end = loadavg()
        await asyncio.sleep(1.5)  # nginx flushes its log buffer every second
        by_uri = read_access_log(nginx.access_log, t0, t1)
        done = {
            "probed": sum(len(v) for k, v in by_uri.items() if k.startswith("/p/")),
            "blackbox": sum(len(v) for k, v in by_uri.items() if k.startswith("/b/")),
        }
        lags = probed_lag(by_uri, plan.interval)
        before, after = lag_buckets(text0), lag_buckets(text1)
        hours = (t1 - t0) / 3600
        return {
            "plan": plan.__dict__,
            "load": [load_start, load_end],
            # From the window as it was: a sleep on a busy machine overshoots.
            "intended": plan.monitors * (t1 - t0) / plan.interval,
            "window_s": t1 - t0,
            "done": done,
            "cpu": cpu,
            "nginx_cpu": nginx_cpu,
            "cpu_ms_per_check": {
                "probed": per_thousand(cpu["probed"], done["probed"]),
                "blackbox": per_thousand(cpu["blackbox"], done["blackbox"]),
                "prometheus": per_thousand(cpu["prometheus"], done["blackbox"]),
            },
            "rss_mb": {k: v / 2**20 for k, v in rss.items()},
            "probed_rss_trace_mb": rss_trace,
            "probed_lag_nginx": [*quantiles(lags), max(lags, default=float("nan"))],
            "probed_late_seconds": late_seconds(by_uri, plan.interval, t0),
            "probed_lag_histogram": [
                histogram_quantile(0.5, before, after),
                histogram_quantile(0.99, before, after),
            ],
            "jitter": {
                "probed": [
                    *quantiles(j := jitter(by_uri, "/p/", plan.interval)),
                    max(j, default=0),
                ],
                "blackbox": [
                    *quantiles(j := jitter(by_uri, "/b/", plan.interval)),
                    max(j, default=0),
                ],
            },
            "checks_metric": metric_sum(text1, "probed_checks_total")
            - metric_sum(text0, "probed_checks_total"),
            "ready_s": {
                "probed": probed.ready,
                "probed_cpu": probed.ready_cpu,
                "probed_healthz": probed.healthy,
                **blackbox.ready,
            },
            "db_mb_per_hour": (db1 - db0) / 2**20 / hours,
            "log_mb_per_hour": (log1 - log0) / 2**20 / hours,
        }
    finally:
        if probed is not None:
            probed.stop()
        blackbox.stop()
        if hostile is not None:
            hostile.stop()
        nginx.stop()
        if smtp is not None:
            await smtp.stop()


class Transitions:
    """Monitors that made a transition to a state, from probed's JSON log, read as it grows."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = log.stat().st_size
        self.seen: dict[str, set[str]] = {}

    def count(self, new: str) -> int:
        with self.log.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            if b'"transition"' in line:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    self.seen.setdefault(event["new"], set()).add(event["monitor"])
        return len(self.seen.get(new, ()))


def status_counts(text: str) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value in re.findall(r"^probed_monitor_status\{[^}]*\} (\S+)$", text, re.M):
        counts[int(float(value))] = counts.get(int(float(value)), 0) + 1
    return counts


async def digest(smtp: object, word: str, monitors: int, storm_window: float = 60) -> None:
    """Wait for the digest the alerts past the storm threshold go into: it is sent when the
    storm window that the first alerts opened closes."""
    from tests.kit.smtp import SmtpServer

    assert isinstance(smtp, SmtpServer)
    deadline = time.monotonic() + storm_window + 30
    pattern = re.compile(rf"\[probed\] {word}: \d+ monitors")
    while time.monotonic() < deadline:
        if any(pattern.fullmatch(s) for s in smtp.subjects()):
            return
        if monitors <= 3 and len(smtp.subjects()) >= monitors:
            return  # no storm: one message each
        await asyncio.sleep(1)


async def outage(
    plan: Plan, nginx: Nginx, probed: Probed, procs: dict[str, Proc], smtp: object, load_start: str
) -> dict[str, object]:
    """nginx stopped (every check refused) until every monitor is DOWN, then started again."""
    from tests.kit.smtp import SmtpServer

    assert isinstance(smtp, SmtpServer)
    text0 = await probed.metrics()
    up_before = status_counts(text0).get(2, 0)
    cpu0 = {k: p.cpu() for k, p in procs.items()}
    failed0 = metric_sum(text0, "probed_checks_total", 'result="failure"')
    transitions = Transitions(probed.proc.log if probed.proc else Path("/dev/null"))
    nginx.stop()
    t0 = time.monotonic()
    limit = plan.interval + 2 * 30 + 30
    profiler = profile(probed.proc, limit, probed.tmp, plan.profile) if probed.proc else None
    # Confirmation: the next check fails within an interval, then down_after - 1 retries.
    all_down = float("nan")
    # Progress from probed's log (a WARNING line per transition to down): polling /metrics
    # would cost probed more than the failing checks do.
    while time.monotonic() - t0 < limit:
        await asyncio.sleep(1)
        if transitions.count("down") >= plan.monitors:
            all_down = time.monotonic() - t0
            break
    # A little longer, so the figure includes failing checks of DOWN monitors, not only retries.
    await asyncio.sleep(min(plan.interval, 15))
    failing_s = time.monotonic() - t0
    cpu = {k: p.cpu() - cpu0[k] for k, p in procs.items()}
    text1 = await probed.metrics()
    failed = metric_sum(text1, "probed_checks_total", 'result="failure"') - failed0
    if profiler is not None:
        # Before its duration is up: py-spy writes what it has on SIGINT.
        profiler.popen.send_signal(signal.SIGINT)
        await asyncio.to_thread(profiler.popen.wait, 30)
    await digest(smtp, "DOWN", plan.monitors)
    down_mail = smtp.subjects()
    await nginx.start()
    t1 = time.monotonic()
    all_up = float("nan")
    up_after = 0
    while time.monotonic() - t1 < plan.interval + 60:
        await asyncio.sleep(1)
        up_after = transitions.count("up")
        if up_after >= plan.monitors:
            all_up = time.monotonic() - t1
            break
    await digest(smtp, "UP", plan.monitors)
    up_mail = smtp.subjects()[len(down_mail) :]
    rss = {k: p.rss() for k, p in procs.items()}
    # Prometheus scrapes every target each interval whatever the answer: blackbox's failed probes.
    bb_failed = plan.monitors * failing_s / plan.interval
    return {
        "plan": plan.__dict__,
        "load": [load_start, loadavg()],
        "up_before": up_before,
        "failing_seconds": failing_s,
        "failed_checks": {"probed": failed, "blackbox": bb_failed},
        "cpu": cpu,
        "cores": {k: v / failing_s for k, v in cpu.items()},
        "cpu_ms_per_failed_check": {
            "probed": per_thousand(cpu["probed"], failed),
            "blackbox": per_thousand(cpu["blackbox"], bb_failed),
            "prometheus": per_thousand(cpu["prometheus"], bb_failed),
        },
        "all_down_s": all_down,
        "all_up_s": all_up,
        "up_after_recovery": up_after,
        "down_emails": {"count": len(down_mail), "subjects": down_mail[:6]},
        "up_emails": {"count": len(up_mail), "subjects": up_mail[:6]},
        "rss_mb": {k: v / 2**20 for k, v in rss.items()},
        "ready_s": {
            "probed": probed.ready,
            "probed_cpu": probed.ready_cpu,
            "probed_healthz": probed.healthy,
        },
    }


def report(r: dict[str, object]) -> None:
    plan = r["plan"]
    assert isinstance(plan, dict)
    print(
        f"{plan['monitors']} monitors ({plan['mix']}) every {plan['interval']:g}s, timeout "
        f"{plan['timeout']:g}s, warm-up {plan['warmup']:g}s, window {plan['window']:g}s;"
        f" load average {r['load'][0]} → {r['load'][1]}"  # type: ignore[index]
    )
    if plan["mix"] == "outage":
        print(
            json.dumps(
                {k: v for k, v in r.items() if k not in ("plan", "load")}, indent=1, default=str
            )
        )
        return
    done, cpu, ms, rss = r["done"], r["cpu"], r["cpu_ms_per_check"], r["rss_mb"]
    assert (
        isinstance(done, dict)
        and isinstance(cpu, dict)
        and isinstance(ms, dict)
        and isinstance(rss, dict)
    )
    intended = r["intended"]
    print(
        f"{'':14}{'done/intended':>18}{'CPU s':>8}{'CPU ms/check':>14}"
        f"{'peak RSS MB':>13}{'ready s':>9}"
    )
    ready = r["ready_s"]
    assert isinstance(ready, dict)
    rows = (
        ("probed", done["probed"], "probed", "probed"),
        ("blackbox", done["blackbox"], "blackbox", "blackbox"),
        ("prometheus", done["blackbox"], "prometheus", "prometheus"),
    )
    for name, n, c, k in rows:
        print(
            f"{name:14}{f'{n}/{intended:.0f}':>18}{cpu[c]:>8.1f}{ms[k]:>14.3f}{rss[k]:>13.0f}"
            f"{ready.get(k, float('nan')):>9.2f}"
        )
    ratio = ms["probed"] / ms["blackbox"]
    both = ms["probed"] / (ms["blackbox"] + ms["prometheus"])
    print(
        f"ratio probed / blackbox CPU per check: {ratio:.2f} (/ blackbox + Prometheus: {both:.2f})"
    )
    lag, hist = r["probed_lag_nginx"], r["probed_lag_histogram"]
    assert isinstance(lag, list) and isinstance(hist, list)
    print(
        f"probed lag (nginx log vs phase) p50 {lag[0] * 1000:.0f} ms, p99 {lag[1] * 1000:.0f} ms,"
        f" max {lag[2] * 1000:.0f} ms; histogram p50 {hist[0] * 1000:.0f} ms,"
        f" p99 {hist[1] * 1000:.0f} ms"
    )
    trace = r["probed_rss_trace_mb"]
    assert isinstance(trace, list)
    if len(trace) >= 2:
        (t_a, first), (t_b, last) = trace[0], trace[-1]
        rest = [mb for _, mb in trace[len(trace) // 2 :]]
        print(
            f"probed RSS in the window: {first:.0f} MB at start, {last:.0f} MB at the end"
            f" ({(last - first) / max(t_b - t_a, 1) * 3600:+.0f} MB/h), second half"
            f" {min(rest):.0f}–{max(rest):.0f} MB, {len(trace)} samples"
        )
    jit = r["jitter"]
    assert isinstance(jit, dict)
    for name in ("probed", "blackbox"):
        j = jit[name]
        print(
            f"{name} interval jitter p50 {j[0] * 1000:.0f} ms, p99 {j[1] * 1000:.0f} ms,"
            f" max {j[2] * 1000:.0f} ms"
        )
    print(
        f"probed READY {ready['probed']:.2f} s, {ready['probed_cpu']:.2f} CPU s"
        f" (/healthz {ready['probed_healthz']:.2f} s);"
        f" DB +{r['db_mb_per_hour']:.1f} MB/h; log +{r['log_mb_per_hour']:.1f} MB/h;"
        f" nginx CPU {r['nginx_cpu']:.1f} s"
    )


def plan_from(args: argparse.Namespace) -> Plan:
    n = 1000 if args.quick and args.monitors is None else (args.monitors or 1000)
    interval = args.interval
    window = args.window if args.window is not None else (60 if args.quick else 300)
    warmup = args.warmup if args.warmup is not None else interval + 5
    timeout = min(10.0, interval)
    hostile = {}
    if args.mix == "hostile":
        scale = n / 1000
        hostile = {
            "hang": max(1, round(100 * scale)),
            "drip": max(1, round(100 * scale)),
            "huge": max(1, round(50 * scale)),
        }
    return Plan(n, interval, window, warmup, args.mix, timeout, hostile, args.py_spy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int)
    parser.add_argument("--interval", type=float, default=15)
    parser.add_argument("--window", type=float)
    parser.add_argument("--warmup", type=float)
    parser.add_argument("--mix", choices=("plain", "keyword", "hostile", "outage"), default="plain")
    parser.add_argument("--quick", action="store_true", help="1,000 monitors, 60 s window")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="run in this directory and leave it")
    parser.add_argument("--py-spy", type=Path, help="profile probed over the window to this file")
    parser.add_argument("--nginx-limit", action="store_true", help="what nginx alone serves")
    args = parser.parse_args()
    if missing := missing_binaries():
        raise SystemExit(
            f"missing: {', '.join(missing)}"
            " (apt-get install nginx prometheus prometheus-blackbox-exporter)"
        )
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep.resolve())
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="probed-scale-"))
        if args.nginx_limit:
            result = asyncio.run(nginx_limit(Path(tmp)))
            print(json.dumps(result, indent=1))
        else:
            result = asyncio.run(measure(plan_from(args), Path(tmp)))
            report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
