"""Start-up to READY=1 at N monitors (issue 13): wall and CPU seconds from spawning
``probed run`` to its READY=1 on a NOTIFY_SOCKET of the bench's own, on a fresh state directory
and again on the database the first start left, with ``--history`` results per monitor added
to it (a restart or an upgrade of a daemon that ran a while).

    .venv/bin/python bench/startup.py [--monitors 10000] [--repeat 3]
    .venv/bin/python bench/startup.py --repeat 1 --profile /tmp/start   # cProfile to READY:
    .venv/bin/python -c 'import pstats; pstats.Stats("/tmp/start.fresh").sort_stats("cumtime")\
        .print_stats(40)'

The monitors are plain http monitors of ``http://127.0.0.1:PORT/p/<i>`` where nothing listens:
the daemon is stopped (SIGTERM) as soon as it is READY, so no check needs to succeed. The CPU is
the child's utime + stime from ``/proc/PID/stat`` read right at READY; on a busy machine the wall
time mostly measures the others, so the load average is printed too.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def monitors_toml(n: int, state: Path) -> str:
    """What bench/scale.py runs: N plain http monitors at 60 s, no alert channel."""
    target = free_port()  # closed again: the checks are refused, which is fine
    head = [
        "[probed]",
        f'listen = "127.0.0.1:{free_port()}"',
        f'state_dir = "{state}"',
        "[defaults]",
        'interval = "60s"',
        'timeout = "10s"',
        "alert = []",
    ]
    lines = [
        f'[[monitor]]\nname = "m{i}"\nurl = "http://127.0.0.1:{target}/p/{i}"\ntype = "http"'
        for i in range(n)
    ]
    return "\n".join(head + lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start(config: Path, tmp: Path, profile: Path | None) -> tuple[float, float]:
    """One start: (wall s, CPU s) from spawn to READY=1, then SIGTERM and wait."""
    sock_path = tmp / "notify.sock"
    sock_path.unlink(missing_ok=True)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(sock_path))
    notify.settimeout(120)
    if profile is None:
        argv = [sys.executable, "-m", "probed", "run", "-c", str(config)]
    else:
        argv = [sys.executable, __file__, "--child-profile", str(profile), "-c", str(config)]
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "PROBED_LOG_LEVEL": "warning"}
    log = (tmp / "probed.log").open("ab")
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    try:
        while True:
            try:
                data = notify.recv(4096)
            except TimeoutError:
                log_text = (tmp / "probed.log").read_text()[-2000:]
                raise SystemExit(f"not READY in 120 s: {log_text}") from None
            if b"READY=1" in data.split(b"\n"):
                wall = time.monotonic() - started
                cpu = cpu_seconds(proc.pid)
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        log.close()
        notify.close()
    if code != 0:
        raise SystemExit(f"probed exited {code}: {(tmp / 'probed.log').read_text()[-2000:]}")
    return wall, cpu


def profiled_run(profile: Path, config: str) -> int:
    """``probed run -c config`` under cProfile, its stats written at the first READY=1: what
    start-up costs, not what the checks after it do (nor the profiler's exit)."""
    profiler = cProfile.Profile()
    profiler.enable()
    from probed.cli import main
    from probed.service.sdnotify import Notifier

    ready = Notifier.ready

    def ready_and_dump(self: Notifier) -> bool:
        profiler.disable()
        profiler.dump_stats(profile)
        Notifier.ready = ready  # type: ignore[method-assign]
        return ready(self)

    Notifier.ready = ready_and_dump  # type: ignore[method-assign]
    return main(["run", "-c", config])


def add_history(state: Path, per_monitor: int) -> None:
    """``per_monitor`` good results for every monitor, one a minute up to now, and the state
    UP, as a daemon that ran a while leaves them: a restart restores each monitor's last result
    and its recent good ones."""
    from probed.model import CheckResult, MonitorState, Status, Timings
    from probed.store import Store

    path = state / "probed.db"
    with sqlite3.connect(path) as db:
        ids = [mid for (mid,) in db.execute("SELECT id FROM monitors")]
    db.close()
    now = datetime.now(UTC)
    store = Store.open(path)
    try:
        with store.transaction():
            for mid in ids:
                store.checks.add_many(
                    (
                        mid,
                        CheckResult(
                            ok=True,
                            reason="HTTP 200",
                            at=now - timedelta(minutes=per_monitor - k),
                            status_code=200,
                            timings=Timings(connect=0.0002, first_byte=0.001, total=0.0012),
                        ),
                    )
                    for k in range(per_monitor)
                )
                store.save_state(mid, MonitorState(Status.UP, now))
    finally:
        store.close()


def write_bytecode() -> None:
    """Compile what the daemon imports to __pycache__ first, as an installed probed has it:
    under PYTHONDONTWRITEBYTECODE every start would compile the modules changed since the
    last bytecode was written (0.5 s of start-up seen so)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = "import probed.cli, probed.service.daemon, probed.probes.http"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def main() -> None:
    if sys.argv[1:2] == ["--child-profile"]:
        sys.exit(profiled_run(Path(sys.argv[2]), sys.argv[4]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh + restart pairs")
    parser.add_argument(
        "--history",
        type=int,
        default=10,
        metavar="K",
        help="results per monitor stored before the second start (default 10)",
    )
    parser.add_argument("--profile", type=Path, help="cProfile each start to PATH.fresh/.again")
    args = parser.parse_args()
    write_bytecode()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, N={args.monitors}")
    figures: dict[str, list[tuple[float, float]]] = {"fresh": [], "again": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="probed-startup-") as name:
            tmp = Path(name)
            config = tmp / "monitors.toml"
            config.write_text(monitors_toml(args.monitors, tmp / "state"))
            for case in ("fresh", "again"):
                if case == "again" and args.history:
                    add_history(tmp / "state", args.history)
                profile = None if args.profile is None else args.profile.with_suffix(f".{case}")
                wall, cpu = start(config, tmp, profile)
                figures[case].append((wall, cpu))
                print(f"  {case:5}  READY after {wall:5.2f} s wall, {cpu:5.2f} CPU s")
    for case, runs in figures.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"{case:5}: median {statistics.median(walls):.2f} s wall,"
            f" {statistics.median(cpus):.2f} CPU s (min {min(walls):.2f} / {min(cpus):.2f})"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
