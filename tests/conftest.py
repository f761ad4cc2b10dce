"""Session-wide test hooks."""

from __future__ import annotations

import pytest

from tests.figures import FIGURES


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    # Before pytest's closing "N passed" line, which CI reads as the run's verdict.
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.write_sep("=", "measured figures")
        for line in figures:
            terminalreporter.write_line(line)
