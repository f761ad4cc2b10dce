"""The kit's tool gate: a missing tool skips its tests with a reason naming it, and
PROBED_TESTS_REQUIRE_ALL=1 (as .ci/run sets it) turns every skip into a failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.kit.tools import PACKAGES, REQUIRE_ALL, missing, which

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
import pytest

from tests.kit.tools import require_tool


@require_tool("python3", "no-such-tool")
def test_needs_a_tool_that_is_absent():
    pass


@require_tool("python3")
def test_needs_a_tool_that_is_here():
    pass


def test_skips_of_its_own_accord():
    pytest.skip("no IPv6 here")
"""


@pytest.fixture
def python_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH is a directory holding only python3: every system tool is absent."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_with_only_python_on_path_every_tool_is_missing_by_name_and_package(
    python_only: Path,
) -> None:
    assert which("python3") == str(python_only / "python3")
    assert missing(*PACKAGES) == [
        f"needs {tool} (Debian package {package})" for tool, package in PACKAGES.items()
    ]
    assert missing("promtool") == ["needs promtool (Debian package prometheus)"]


def test_a_daemon_in_the_sbin_beside_a_bin_on_path_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "sbin").mkdir()
    daemon = tmp_path / "sbin" / "probed-test-daemon"
    daemon.write_text("#!/bin/sh\n")
    daemon.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert which("probed-test-daemon") == str(daemon)


def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, require_all: bool):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    if require_all:
        monkeypatch.setenv(REQUIRE_ALL, "1")
    else:
        monkeypatch.delenv(REQUIRE_ALL, raising=False)
    pytester.makeconftest('pytest_plugins = ["tests.kit.fixtures"]\n')
    pytester.makepyfile(test_gate=SUITE)
    return pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")


def test_a_missing_tool_skips_with_a_reason_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_suite(pytester, monkeypatch, require_all=False)
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        ["SKIPPED * needs no-such-tool (Debian package no-such-tool)", "SKIPPED * no IPv6 here"]
    )


def test_under_require_all_every_skip_is_a_failure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_suite(pytester, monkeypatch, require_all=True)
    # The tool's skip comes in setup, so it fails as an error; the test's own as a failure.
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"skipped, but {REQUIRE_ALL}=1 runs every test: *needs no-such-tool*",
            f"skipped, but {REQUIRE_ALL}=1 runs every test: *no IPv6 here",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
