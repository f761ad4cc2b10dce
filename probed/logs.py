"""structlog set-up: JSON lines when not on a TTY (journald, containers), console on a TTY."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from probed.redact import redact_request

# Credentials in URLs, and values of keys that hold secrets, never reach a log line.
_SECRET_KEYS = ("password", "token", "api_key", "secret", "authorization")
_PUSH_PATH = re.compile(r"/push/[^/\s?#'\"]+")
"""A push monitor's path holds its token: wherever a request path reaches a log line (aiohttp's
errors about a malformed request quote it), the token is hidden."""


def redacted(value: object) -> object:
    """Strings redacted, also inside lists, tuples and dicts (a reload's list of problems): the
    log's redaction, which error reports (probed.service.sentry) reuse."""
    if isinstance(value, str):
        return _PUSH_PATH.sub("/push/***", redact_request(value))
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    return value


def _redact_secrets(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if secret_key(key):
            event[key] = "***"
        else:
            event[key] = redacted(value)
    return event


def secret_key(key: str) -> bool:
    """Whether a field of this name holds a secret, whose value is never shown."""
    return any(s in key.lower() for s in _SECRET_KEYS)


class _Report:
    """The processor ``report_errors`` adds: hands ERROR and CRITICAL events on, redacted."""

    def __init__(self, report: Callable[[Mapping[str, Any]], None]) -> None:
        self.report = report

    def __call__(
        self, _logger: object, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if event.get("level") in ("error", "critical"):
            # Reporting an error must never cost its log line.
            with contextlib.suppress(Exception):
                self.report(event)
        return event


def report_errors(report: Callable[[Mapping[str, Any]], None]) -> None:
    """After ``configure``: also hand every ERROR and CRITICAL event of probed's own log to
    ``report``, after redaction and before its traceback is rendered (``exc_info`` intact)."""
    processors = [p for p in structlog.get_config()["processors"] if not isinstance(p, _Report)]
    processors.insert(processors.index(_redact_secrets) + 1, _Report(report))
    structlog.configure(processors=processors)


def configure(level: str = "info", stream: TextIO | None = None, json: bool | None = None) -> None:
    out = stream or sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    threshold = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(out, threshold, renderer)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler ``configure`` installs, so a second call replaces it."""


def _route_stdlib(out: TextIO, threshold: int, renderer: structlog.types.Processor) -> None:
    """Send the standard library's records (aiohttp's "Error handling request", asyncio's
    accept() errors) through the same redaction and renderer, instead of Python's plain-text
    last-resort handler."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            # extra={...} of a record becomes fields, so a secret passed that way is redacted.
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            # After format_exc_info: a traceback quotes exception messages, URLs and all.
            _redact_secrets,
            renderer,
        ],
    )
    handler = _Handler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries speak at INFO about routine work (aiohttp's access log, say); as before (Python's
    # last-resort handler), only their warnings and errors show, unless the level is debug.
    root.setLevel(threshold if threshold <= logging.DEBUG else max(threshold, logging.WARNING))
