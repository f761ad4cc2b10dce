"""The kit's fixtures and hooks, registered for every test by tests/conftest.py.

Fixtures: ``target`` (a probe Target), ``switchable`` (a target whose answer the test
switches), ``session`` (the daemon's probe session), ``smtp`` (a started SmtpServer), ``ca``
(a trustme CA per module), ``make_harness`` (Harness.of on ``tmp_path``, closed after the
test), ``harnesses`` (a Harness on a config, closed after the test), ``receivers`` (started
Receivers, stopped after the test), ``client`` (the API client of the test's ``harness``
fixture).

Hooks: a ``require_tool`` mark skips a test whose tool is absent, naming it; under
PROBED_TESTS_REQUIRE_ALL=1 any skip is a failure instead (.ci/run must run everything).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any

import aiohttp
import pytest
import trustme

from probed.probes import make_session
from tests.kit.clock import FakeClock
from tests.kit.figures import FIGURES
from tests.kit.harness import Client, Harness, api_client
from tests.kit.receiver import Receiver
from tests.kit.servers import Switchable, Target, serve, serve_switchable
from tests.kit.smtp import SmtpServer
from tests.kit.subscribers import START, Site, open_site
from tests.kit.tools import REQUIRE_ALL, missing


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "require_tool(*names): the test runs these system tools (tests/kit/tools.py)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("require_tool"):
        if reasons := missing(*mark.args):
            pytest.skip("; ".join(reasons))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get(REQUIRE_ALL) == "1":
        # CI runs every test: a skip there means a tool or a capability is missing.
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but {REQUIRE_ALL}=1 runs every test: {reason}"
    return report


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
async def switchable() -> AsyncIterator[Switchable]:
    async with serve_switchable() as started:
        yield started


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The probe session the daemon would use."""
    async with make_session() as probe_session:
        yield probe_session


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = await SmtpServer().start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def make_harness(tmp_path: Any) -> AsyncIterator[Callable[..., Harness]]:
    """``Harness.of`` with the database in ``tmp_path``; every harness made is closed after."""
    made: list[Harness] = []

    def make(*args: Any, **kwargs: Any) -> Harness:
        made.append(Harness.of(tmp_path / "probed.db", *args, **kwargs))
        return made[-1]

    yield make
    for harness in made:
        await harness.close()


@pytest.fixture
async def harnesses() -> AsyncIterator[Callable[..., Harness]]:
    """``harnesses(config, clock=None, session=None)``: a Harness, closed after the test."""
    made: list[Harness] = []

    def make(*args: Any, **kwargs: Any) -> Harness:
        made.append(Harness(*args, **kwargs))
        return made[-1]

    yield make
    for harness in made:
        await harness.close()


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    """``await receivers(script, clock=None)``: a started Receiver, stopped after the test
    (after the harnesses the test made, when it asks for ``receivers`` first)."""
    started: list[Receiver] = []

    async def start(*args: Any, **kwargs: Any) -> Receiver:
        started.append(await Receiver(*args, **kwargs).start())
        return started[-1]

    yield start
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[Client]:
    """A client of the ``harness`` fixture's app (each test file defines ``harness``)."""
    async for started in api_client(harness):
        yield started


@pytest.fixture
async def site(harnesses: Any, tmp_path: Any, smtp: SmtpServer) -> AsyncIterator[Site]:
    """A harness with subscriptions on, its public listener where ``external_url`` says."""
    started = await open_site(harnesses, tmp_path, smtp, FakeClock(START))
    yield started
    await started.server.close()
