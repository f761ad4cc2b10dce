"""The gate for tests that need a system tool: skip, naming the tool and its Debian package,
when it is absent; fail instead under PROBED_TESTS_REQUIRE_ALL=1, as .ci/run sets it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

REQUIRE_ALL = "PROBED_TESTS_REQUIRE_ALL"

PACKAGES = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
    "dnsmasq": "dnsmasq",
    "nginx": "nginx",
    "chromium": "chromium",
    "curl": "curl",
    "mount": "mount",
    "umount": "mount",
    "dd": "coreutils",
}
"""Each tool the tests run → the Debian package that installs it (.ci/run installs them all)."""


def which(tool: str) -> str | None:
    """The tool's path on PATH, or in the sbin beside a bin on PATH; None when absent."""
    dirs = os.environ.get("PATH", os.defpath).split(os.pathsep)
    # Debian puts daemons (dnsmasq, nginx) in /usr/sbin, off an ordinary user's PATH.
    sbins = [d.removesuffix("bin") + "sbin" for d in dirs if d.endswith("/bin")]
    return shutil.which(tool, path=os.pathsep.join(dirs + sbins))


def missing(*tools: str) -> list[str]:
    """The reasons for the ``tools`` that are absent, as "needs TOOL (Debian package PKG)"."""
    return [
        f"needs {tool} (Debian package {PACKAGES.get(tool, tool)})"
        for tool in tools
        if which(tool) is None
    ]


def require_tool(*tools: str) -> pytest.MarkDecorator:
    """A mark for a test (or ``pytestmark``) that runs ``tools``: tests/conftest.py skips it
    when one is absent, or fails it under PROBED_TESTS_REQUIRE_ALL=1."""
    return pytest.mark.require_tool(*tools)


def tool(name: str) -> str:
    """The path of ``name``; skips the test (or the fixture's users) when it is absent."""
    path = which(name)
    if path is None:
        pytest.skip(missing(name)[0])
    return path


def promtool_lint(text: str | bytes) -> None:
    """``promtool check metrics`` finds nothing wrong with the exposition ``text``."""
    data = text.encode() if isinstance(text, str) else text
    lint = subprocess.run(
        [tool("promtool"), "check", "metrics"], input=data, capture_output=True, check=False
    )
    assert lint.returncode == 0, (lint.stdout + lint.stderr).decode(errors="replace")
