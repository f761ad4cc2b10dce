"""Figures tests measure (latencies, memory), printed with the test and at the end of the run."""

from __future__ import annotations

import pytest

FIGURES = pytest.StashKey[list[str]]()
"""Figures the tests measured, shown once at the end of the run."""


def report(request: pytest.FixtureRequest, title: str, lines: list[str]) -> None:
    """Print measured figures: in the test's output (``-s``, ``-rP``) and, through
    conftest's pytest_terminal_summary, in the terminal report of a plain ``pytest`` run."""
    print(f"\n== {title}", *lines, sep="\n  ")
    figures = request.config.stash.setdefault(FIGURES, [])
    figures += [title, *(f"  {line}" for line in lines)]
