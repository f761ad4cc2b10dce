"""bench/scale.py keeps working: a tiny run (20 monitors, a few seconds) produces every figure.

Figures only, no thresholds: performance is judged by reading the bench's output side by side
with blackbox_exporter's, never by a timed test on a shared machine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from probed.store.db import PAGE_SIZE
from tests.kit.tools import require_tool

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    require_tool("nginx", "prometheus", "prometheus-blackbox-exporter"),
]


def test_a_tiny_scale_run_reports_every_figure_for_probed_and_blackbox(tmp_path):
    out = tmp_path / "figures.json"
    argv = [sys.executable, "bench/scale.py", "--monitors", "20", "--interval", "2"]
    argv += ["--window", "4", "--warmup", "3", "--json", str(out)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio probed / blackbox" in proc.stdout
    figures = json.loads(out.read_text())
    assert 40 <= figures["intended"] < 50
    for tool in ("probed", "blackbox"):
        assert figures["done"][tool] > 0
        assert figures["cpu_ms_per_check"][tool] > 0
        assert figures["rss_mb"][tool] > 0
    assert figures["rss_mb"]["prometheus"] > 0
    assert len(figures["probed_lag_nginx"]) == 3
    assert all(math.isfinite(x) for x in figures["probed_lag_nginx"])
    assert figures["ready_s"]["probed"] > 0 and figures["ready_s"]["probed_cpu"] > 0
    # The growth rates, back in bytes over the window: the database grows by whole pages, at
    # most two a stored check (a row, and a split), and the log by at most one line a monitor
    # (its first check, if that came late): a steady all-up run has nothing to report.
    window_bytes = 2**20 * figures["window_s"] / 3600
    db_growth = round(figures["db_mb_per_hour"] * window_bytes)
    assert db_growth % PAGE_SIZE == 0
    assert 0 <= db_growth <= 2 * PAGE_SIZE * figures["done"]["probed"]
    log_growth = round(figures["log_mb_per_hour"] * window_bytes)
    assert 0 <= log_growth <= 512 * figures["plan"]["monitors"]
