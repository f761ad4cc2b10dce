"""Figures tests measure (latencies, memory), printed with the test and at the end of the run,
and the memory sampler that measures some of them."""

from __future__ import annotations

import asyncio

import psutil  # type: ignore[import-untyped]  # no stubs in the venv
import pytest

FIGURES = pytest.StashKey[list[str]]()
"""Figures the tests measured, shown once at the end of the run."""


def report(request: pytest.FixtureRequest, title: str, lines: list[str]) -> None:
    """Print measured figures: in the test's output (``-s``, ``-rP``) and, through
    conftest's pytest_terminal_summary, in the terminal report of a plain ``pytest`` run."""
    print(f"\n== {title}", *lines, sep="\n  ")
    figures = request.config.stash.setdefault(FIGURES, [])
    figures += [title, *(f"  {line}" for line in lines)]


class PeakRss:
    """Samples this process's resident set every few milliseconds while in use."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.baseline: int = self._process.memory_info().rss
        self.peak: int = self.baseline
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self._process.memory_info().rss)
            await asyncio.sleep(0.005)

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline
