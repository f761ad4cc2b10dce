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
    assert figures["db_mb_per_hour"] >= 0 and figures["log_mb_per_hour"] >= 0
