"""The release: the sdist, the wheel built from it, and that wheel in a fresh venv."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from email.parser import Parser
from pathlib import Path

import pytest

from probed import __version__

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from that sdist, as a release makes them."""
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
    out = base / "dist"
    # `python -m build` makes the sdist, then the wheel from the unpacked sdist: a file the
    # sdist forgets is missing from the wheel too, and the tests below notice.
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def installed(dists: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh venv with the release wheel installed."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (wheel,) = dists.glob("probed-*.whl")
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv / "bin"


def test_the_release_is_one_sdist_and_one_wheel_named_for_the_version(dists):
    assert sorted(p.name for p in dists.iterdir()) == [
        f"probed-{__version__}-py3-none-any.whl",
        f"probed-{__version__}.tar.gz",
    ]
    with tarfile.open(dists / f"probed-{__version__}.tar.gz") as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    # What an sdist needs to rebuild the package and what a packager reads.
    for needed in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "probed/templates/monitors.toml",
        "probed/web/templates/status.html.j2",
        "probed/monitors.schema.json",
    ):
        assert needed in names, needed


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # From a directory outside the checkout, so that only the installed package can be imported.
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_the_installed_console_script_runs(installed, tmp_path):
    proc = run([str(installed / "probed"), "--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"probed {__version__}"


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_installed_wheel_runs_the_daemon_on_the_files_init_wrote(installed, tmp_path):
    assert run([str(installed / "probed"), "init", "etc"], tmp_path).returncode == 0
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "PROBED_LISTEN": f"127.0.0.1:{port}"}
    env["STATE_DIRECTORY"] = str(tmp_path / "state")
    daemon = subprocess.Popen(
        [str(installed / "probed"), "run", "-c", "etc/monitors.toml"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert daemon.poll() is None, daemon.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = r.status, r.read()
                    break
            except OSError:
                assert time.monotonic() < deadline, "no /healthz within 30 s"
                time.sleep(0.2)
        assert health[0] == 200 and b'"ok"' in health[1]
    finally:
        daemon.terminate()
        _, stderr = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, stderr
    assert (tmp_path / "state" / "probed.db").exists()
