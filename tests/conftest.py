"""Session-wide test hooks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from probed.probes import make_session
from tests.figures import FIGURES
from tests.probe_servers import Target, serve


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    # Before pytest's closing "N passed" line, which CI reads as the run's verdict.
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.write_sep("=", "measured figures")
        for line in figures:
            terminalreporter.write_line(line)


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    """A fresh loopback Target per test."""
    async with serve(Target()) as started:
        yield started


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The probe session the daemon would use."""
    async with make_session() as probe_session:
        yield probe_session
