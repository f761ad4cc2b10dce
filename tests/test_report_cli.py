"""``probed report`` (docs/design.md §5, §18.6): a local command over monitors.toml and the
state database, which prints the same figures in each format, works with the daemon stopped
and says when there is no database yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from probed.cli import report_cmd
from probed.config import load_config
from probed.reports import render
from tests.kit.clock import FakeClock
from tests.kit.harness import Harness
from tests.kit.processes import probed

TOML = """\
[probed]
state_dir = "{state}"

[report]
timezone = "Europe/Berlin"

[[monitor]]
name = "api"
url = "https://api.example.test/health"
slo = "99.5%"
slow_threshold = "250ms"
"""


def write(tmp_path: Path) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(TOML.format(state=tmp_path / "state"), encoding="utf-8")
    return path


async def test_it_prints_the_last_week_from_the_state_database(tmp_path):
    path = write(tmp_path)
    # Three days of checks every hour up to now, one slow one, then the daemon stops.
    clock = FakeClock(datetime.now(UTC) - timedelta(days=3))
    h = Harness(load_config(path, {}), clock)
    for hour in range(72):
        await h.check("api", duration=0.9 if hour == 10 else 0.1)
        clock.advance(3600)
    await h.close()

    done = probed("report", "-c", str(path), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (api,) = data["monitors"]
    assert api["uptime"] == 1.0 and api["slo"] == 0.995 and api["slow_threshold"] == 0.25
    assert api["response"]["mean"] == pytest.approx((0.9 + 71 * 0.1) / 72)
    assert api["response"]["p95"] == 0.1 and data["totals"]["incidents"] == 0
    assert data["label"] == "week"

    text = probed("report", "-c", str(path), "--period", "month").stdout
    assert text.startswith("probed monthly report: ") and "Europe/Berlin" in text
    assert "slow_threshold 250 ms: p95 within" in text
    page = probed("report", "-c", str(path), "--format", "html").stdout
    assert page.startswith("<!doctype html>")


def test_check_names_the_schedule(tmp_path):
    path = write(tmp_path)
    done = probed("check", "-c", str(path))
    assert done.returncode == 0, done.stderr
    assert "report weekly, Mon 08:00 Europe/Berlin, printed only (no alert)" in done.stdout


def test_without_a_state_database_it_says_so(tmp_path):
    path = write(tmp_path)
    done = probed("report", "-c", str(path))
    assert done.returncode == 2
    assert "no state database" in done.stderr and done.stdout == ""


def test_the_parser_offers_the_renderers_formats():
    assert report_cmd.FORMATS == render.FORMATS
