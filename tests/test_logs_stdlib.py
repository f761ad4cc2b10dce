"""Records of the standard library's logging (aiohttp, APScheduler, asyncio) come out as the same
JSON lines as probed's own, redacted the same way, and filtered by the same level."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import structlog

from probed import logs
from tests.kit.processes import DaemonProcess, free_port
from tests.test_daemon_e2e import write_config


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [dict(json.loads(line)) for line in out.getvalue().splitlines()]


def configured(level: str) -> io.StringIO:
    """The stream probed's logging, configured at ``level``, now writes to."""
    out = io.StringIO()
    logs.configure(level, stream=out)
    return out


def log_handling(logger: str, error: Exception, message: str, *args: object) -> None:
    """``logger`` logs ``message`` with exception() while ``error`` is handled, as a library
    does in its except block."""
    try:
        raise error
    except type(error):
        logging.getLogger(logger).exception(message, *args)


def test_aiohttp_apscheduler_and_asyncio_records_are_json_lines():
    out = configured("info")
    error = ValueError("handler bug")
    log_handling("aiohttp.server", error, "Error handling request from %s", "127.0.0.1")
    logging.getLogger("apscheduler.scheduler").warning(
        'Execution of job "check api" skipped: maximum number of running instances reached (%d)',
        1,
    )
    logging.getLogger("asyncio").error(
        "socket.accept() out of system resource",
        exc_info=OSError(24, "Too many open files"),
    )
    structlog.get_logger("probed").info("check", monitor="api")

    server, scheduler, loop, own = lines(out)
    assert server["event"] == "Error handling request from 127.0.0.1"
    assert (server["level"], server["logger"]) == ("error", "aiohttp.server")
    assert "ValueError: handler bug" in str(server["exception"])
    assert scheduler["event"].endswith("maximum number of running instances reached (1)")  # type: ignore[union-attr]
    assert (scheduler["level"], scheduler["logger"]) == ("warning", "apscheduler.scheduler")
    assert loop["logger"] == "asyncio" and "Too many open files" in str(loop["exception"])
    assert own["event"] == "check" and own["monitor"] == "api"
    for line in (server, scheduler, loop, own):
        assert str(line["timestamp"]).endswith("Z")


def test_stdlib_records_are_redacted_like_probeds_own():
    out = configured("info")
    error = RuntimeError("cannot reach https://alice:s3cret@example.test/health")
    log_handling(
        "aiohttp.client", error, "request to %s failed", "https://bob:hunter2@example.test/"
    )
    logging.getLogger("apscheduler").warning("job", extra={"api_token": "t0ken"})
    text = out.getvalue()
    for secret in ("s3cret", "hunter2", "t0ken"):
        assert secret not in text
    failed, job = lines(out)
    assert failed["event"] == "request to https://bob:***@example.test/ failed"
    assert job["api_token"] == "***"


@pytest.mark.parametrize(
    ("level", "shown"),
    [("error", ["error"]), ("warning", ["warning", "error"]), ("info", ["warning", "error"])],
)
def test_libraries_routine_info_records_show_only_at_debug(level, shown):
    out = configured(level)
    for name in ("apscheduler.executors.default", "aiohttp.access", "asyncio"):
        logger = logging.getLogger(name)
        logger.debug("debug")
        logger.info("info")
        logger.warning("warning")
        logger.error("error")
    assert [line["event"] for line in lines(out)] == shown * 3


def test_at_debug_every_library_record_shows():
    out = configured("debug")
    logging.getLogger("apscheduler.executors.default").info('Running job "check api"')
    logging.getLogger("asyncio").debug("Using selector: EpollSelector")
    assert [line["level"] for line in lines(out)] == ["info", "debug"]


@pytest.mark.slow
async def test_the_daemons_stderr_is_only_json_after_a_bad_request(tmp_path):
    port = free_port()
    daemon = DaemonProcess(write_config(tmp_path, port, ""), port)
    await daemon.start()
    try:
        # No Host header: aiohttp's parser refuses it (and would log "Error handling request").
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        assert (await reader.read()).split(b"\r\n")[0].endswith(b" 400 Bad Request")
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.3)
    finally:
        await daemon.stop()
    records = [json.loads(line) for line in daemon.logs().splitlines()]
    assert [r for r in records if r.get("logger") == "aiohttp.server"] == []
    (bad,) = [r for r in records if r["event"] == "malformed request"]
    assert bad["level"] == "warning" and "exception" not in bad
    assert bad["problem"] == "Missing 'Host' header in request."
    assert bad["request"] == "GET /healthz HTTP/1.1"
