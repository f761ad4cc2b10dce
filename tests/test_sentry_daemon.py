"""Sentry end to end: ``probed run`` with ``sentry_dsn`` pointing at a local stand-in for
Sentry's ingest. Down targets send nothing and their requests carry no trace headers; probed's
own error sends one event, scrubbed; a crash's report goes out before the process exits."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from probed import __version__
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.sentry_ingest import Ingest, require_sentry_sdk, serve_ingest
from tests.kit.servers import wait_for

pytestmark = pytest.mark.slow


class Recorder:
    """A target on 127.0.0.1 that answers 503 and keeps every request's headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        return web.Response(status=503, text="down for the test")


@pytest.fixture
async def ingest() -> AsyncIterator[Ingest]:
    require_sentry_sdk()
    async with serve_ingest() as started:
        yield started


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    target = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    target.url = str(server.make_url("/health"))
    yield target
    await server.close()


def write_config(tmp_path: Path, port: int, dsn: str, monitors: str) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'shutdown_grace = "3s"\nlocation = "lab"\nsentry_dsn = "{dsn}"\n' + monitors
    )
    return path


async def test_down_targets_send_nothing_and_a_failed_reload_sends_one_scrubbed_event(
    tmp_path: Path, ingest: Ingest, recorder: Recorder
) -> None:
    port, closed = free_port(), free_port()
    monitors = (
        f'[[monitor]]\nname = "api"\nurl = "{recorder.url}"\nmethod = "GET"\ninterval = "1s"\n'
        f'[[monitor]]\nname = "db"\ntype = "tcp"\nurl = "tcp://127.0.0.1:{closed}"\n'
        'interval = "1s"\n'
    )
    config = write_config(tmp_path, port, ingest.dsn, monitors)
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        for name in ("api", "db"):
            await wait_for(
                lambda name=name: daemon.metric("probed_monitor_status", name), 10, "a check"
            )
        await wait_for(lambda: len(recorder.headers) >= 4, 15, "four checks of the target")
        assert await daemon.metric("probe_success", "api") == 0
        assert await daemon.metric("probe_success", "db") == 0
        # The checks are untouched: no trace propagated, and nothing reached the ingest.
        for headers in recorder.headers:
            assert "sentry-trace" not in headers and "baggage" not in headers, headers
        assert ingest.items == []

        # Probed's own error: a reload that fails (the problem quotes a URL with a password).
        config.write_text(
            config.read_text()
            + '[[monitor]]\nname = "https://admin:hunter2@db.example/"\ninterval = "soon"\n'
        )
        daemon.signal(signal.SIGHUP)
        await wait_for(lambda: ingest.events, 10, "the reload's error at the ingest")
        await asyncio.sleep(1.5)  # more checks of the down targets, which must add nothing
    finally:
        assert await daemon.stop() == 0
    [event] = ingest.events
    assert event["logentry"]["message"] == "reload failed: keeping the running configuration"
    assert event["level"] == "error" and event["logger"] == "probed"
    assert event["release"] == f"probed@{__version__}"
    assert event["tags"]["location"] == "lab"
    assert "request" not in event and "user" not in event and not event.get("breadcrumbs")
    sent = json.dumps(event)
    assert "hunter2" not in sent and "admin:***@db.example" in sent
    # No traces, sessions or other telemetry: events only.
    assert {kind for kind, _ in ingest.items} == {"event"}
    for headers in recorder.headers:
        assert "sentry-trace" not in headers and "baggage" not in headers, headers


async def test_a_daemon_that_cannot_run_reports_it_before_it_exits(
    tmp_path: Path, ingest: Ingest
) -> None:
    port = free_port()
    (tmp_path / "state").write_text("a file where the state directory should be")
    config = write_config(tmp_path, port, ingest.dsn, "")
    daemon = DaemonProcess(config, port)
    await daemon.start(wait_ready=False)
    assert daemon.proc is not None
    code = await asyncio.wait_for(daemon.proc.wait(), 20)
    assert code == 2, daemon.logs()
    # The event was sent before exit: it is there without waiting.
    [event] = ingest.events
    assert event["logentry"]["message"] == "cannot run", daemon.logs()
    assert event["level"] == "error"


SCRIPT = """
import sys
import structlog
from probed import logs
from probed.config.model import Settings
from probed.service import sentry

logs.configure("info")
close = sentry.start(Settings(sentry_dsn=sys.argv[1]))
password = "hunter2"  # a local the event must not carry
try:
    raise ValueError("cannot reach https://admin:" + password + "@db.example/")
except ValueError:
    structlog.get_logger("probed").exception("check crashed", monitor="api")
close()
"""


async def test_a_logged_exception_arrives_with_its_stack_and_without_locals_or_secrets(
    tmp_path: Path, ingest: Ingest
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, ingest.dsn, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()
    [event] = ingest.events
    assert event["logentry"]["message"] == "check crashed"
    assert event["extra"]["monitor"] == "api"
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ValueError"
    assert exception["value"] == "cannot reach https://admin:***@db.example/"
    frames = exception["stacktrace"]["frames"]
    assert frames and not any("vars" in frame for frame in frames)
    assert "hunter2" not in json.dumps(event)


async def test_an_sdk_that_refuses_to_set_up_leaves_a_warning_and_no_reporter() -> None:
    require_sentry_sdk()
    script = (
        "import structlog\nfrom probed import logs\nfrom probed.config.model import Settings\n"
        "from probed.service import sentry\nlogs.configure('info')\n"
        "assert sentry.start(Settings(sentry_dsn='not a dsn')) is None\n"
        "structlog.get_logger('probed').error('still logged')\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    assert [(e["level"], e["event"]) for e in lines] == [
        ("warning", "sentry not set up: probed's own errors are not reported"),
        ("error", "still logged"),
    ]


async def test_a_library_s_error_record_arrives_scrubbed_and_its_warnings_do_not(
    ingest: Ingest,
) -> None:
    script = (
        "import logging, sys\nfrom probed import logs\nfrom probed.config.model import Settings\n"
        "from probed.service import sentry\nlogs.configure('info')\n"
        "close = sentry.start(Settings(sentry_dsn=sys.argv[1]))\n"
        "server = logging.getLogger('aiohttp.server')\n"
        "server.warning('bad request line')\n"
        "server.error('Error handling request GET /push/0123456789abcdef-backup?api_key=k1')\n"
        "close()\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, ingest.dsn, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()
    [event] = ingest.events
    assert event["logger"] == "aiohttp.server" and event["level"] == "error"
    sent = json.dumps(event)
    assert "0123456789abcdef-backup" not in sent and "k1" not in sent
    assert "/push/***" in sent and "api_key=***" in sent
