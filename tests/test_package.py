"""``pip install .`` into a fresh venv, as someone without a checkout's venv would install it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from email.parser import Parser
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh venv with probed installed from a copy of this tree."""
    base = tmp_path_factory.mktemp("package")
    # A copy: building in place would leave build/ and egg-info in the checkout, and a copy
    # without the checkout's venv and caches is what a fresh clone holds.
    src = base / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "*.egg-info", "build", "dist", "__pycache__", ".*_cache"
        ),
    )
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv / "bin"


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # From a directory outside the checkout, so that only the installed package can be imported.
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_the_installed_console_script_runs(installed, tmp_path):
    proc = run([str(installed / "probed"), "--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("probed ")


def test_the_metadata_carries_the_license_classifiers_urls_and_keywords(installed, tmp_path):
    proc = run(
        [
            str(installed / "python"),
            "-c",
            "import importlib.metadata as m; print(m.metadata('probed').as_string())",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    meta = Parser().parsestr(proc.stdout)
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "Topic :: System :: Monitoring" in meta.get_all("Classifier", [])
    assert any(url.startswith("Source, ") for url in meta.get_all("Project-URL", []))
    assert "uptime" in meta["Keywords"].split(",")
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "the probed authors" in license_text


def test_init_from_the_installed_package_writes_files_that_check_accepts(installed, tmp_path):
    proc = run([str(installed / "probed"), "init", "--systemd", "etc"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "etc" / "probed.service").exists() and (tmp_path / "etc" / "env").exists()
    proc = run([str(installed / "probed"), "check", "-c", "etc/monitors.toml"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "OK, 2 monitors" in proc.stdout


def test_the_installed_package_ships_the_schema_and_imports_from_uptimerobot(installed, tmp_path):
    proc = run(
        [
            str(installed / "python"),
            "-c",
            "import json, importlib.resources as r;"
            " print(json.loads((r.files('probed') / 'monitors.schema.json').read_text())['title'])",
        ],
        tmp_path,
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "probed monitors.toml"), proc.stderr
    sample = ROOT / "tests" / "data" / "uptimerobot-getMonitors.json"
    proc = run([str(installed / "probed"), "import", "uptimerobot", str(sample)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "[[monitor]]" in proc.stdout
