"""Sentry for probed's own errors (docs/design.md §19.5): sentry-sdk, an optional extra
(``pip install 'probed[sentry]'``), imported only when ``sentry_dsn`` is set.

Sent: probed's own ERROR and CRITICAL log events, structlog's (through
``probed.logs.report_errors``) and the standard library's (Sentry's logging integration). A
target's failure is a check result, logged at INFO, so it is never sent. Not sent: traces, spans,
breadcrumbs, sessions, local variables, request data. Every event passes ``scrub`` (the log's
redaction) on its way out. The SDK's aiohttp and stdlib integrations are never enabled and no
trace is propagated: the checks' requests carry no ``sentry-trace`` or ``baggage`` header.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import structlog

from probed import __version__, logs
from probed.config.model import Settings

if TYPE_CHECKING:
    from sentry_sdk._types import Event

log = structlog.get_logger("probed")

MISSING = (
    "sentry_dsn is set but sentry-sdk is not installed: probed's own errors are not reported"
    " (pip install 'probed[sentry]')"
)
CLOSE_TIMEOUT = 2.0
"""Seconds the daemon waits at exit for events still queued (a crash's report among them)."""
_DROPPED = ("request", "user", "breadcrumbs")
"""Event parts that would hold a request's URL, headers, body or a person; probed sends none."""
_HIDDEN = ("header", "body", "cookie", "dsn")
"""Words in a field's name that say its value is a request's content: shown as ``***``."""
_OWN = ("event", "level", "timestamp", "exc_info", "logger")
"""Fields of a structlog event that become the Sentry event itself rather than its extras."""

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def installed() -> bool:
    """Whether sentry-sdk can be imported (without importing it)."""
    return importlib.util.find_spec("sentry_sdk") is not None


def destination(dsn: str) -> str:
    """Where events go, shown without the DSN's key: ``sentry.example.com (project 42)``."""
    parts = urlsplit(dsn)
    return f"{parts.hostname} (project {parts.path.rstrip('/').rpartition('/')[2]})"


def start(settings: Settings) -> Callable[[], None] | None:
    """Set sentry-sdk up for ``settings.sentry_dsn``; the function that sends what is queued and
    closes it, or None without a DSN, or without sentry-sdk (then a WARNING says so: error
    reporting never keeps the checks from running)."""
    if settings.sentry_dsn is None:
        return None
    try:
        import sentry_sdk
    except ImportError:
        log.warning(MISSING)
        return None
    try:
        _init(settings, settings.sentry_dsn)
    except Exception as exc:
        # An SDK that will not set up (a version this code does not know) is no reason to stop.
        log.warning("sentry not set up: probed's own errors are not reported", error=repr(exc))
        return None
    logs.report_errors(report)
    log.info("errors reported to sentry", to=destination(settings.sentry_dsn))

    def close() -> None:
        # At exit, after the daemon's own outcome: a failing SDK must not change its status.
        with contextlib.suppress(Exception):
            sentry_sdk.get_client().close(timeout=CLOSE_TIMEOUT)

    return close


def _init(settings: Settings, dsn: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.dedupe import DedupeIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.scope import Scope

    sentry_sdk.init(
        dsn=dsn,
        release=f"probed@{__version__}",
        send_default_pii=False,
        # The defaults include the stdlib (http.client) integration, the auto-enabled ones
        # aiohttp's: either would put trace headers on the checks' requests.
        default_integrations=False,
        auto_enabling_integrations=False,
        # ERROR records become events; no breadcrumbs: INFO lines are mostly check results.
        integrations=[
            DedupeIntegration(),
            LoggingIntegration(level=None, event_level=logging.ERROR),
        ],
        traces_sample_rate=None,
        trace_propagation_targets=[],
        max_breadcrumbs=0,
        # A frame's locals may hold a monitor's credentials, which no redaction knows.
        include_local_variables=False,
        auto_session_tracking=False,
        send_client_reports=False,
        before_send=scrub,
    )
    if settings.location is not None:
        # The global scope: events from any thread or task carry it.
        Scope.get_global_scope().set_tag("location", settings.location)


def report(event: Mapping[str, Any]) -> None:
    """Send one ERROR or CRITICAL structlog event (already redacted) to Sentry, its exception
    with its stack when it has one, its other fields as extras."""
    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    extra = {k: v for k, v in event.items() if k not in _OWN}
    level = "fatal" if event.get("level") == "critical" else "error"
    sent: dict[str, Any] = {}
    hint: dict[str, Any] | None = None
    if (exc_info := _exc_info(event.get("exc_info"))) is not None:
        options = sentry_sdk.get_client().options
        found, hint = event_from_exception(exc_info, client_options=options)
        sent.update(found)
    message = str(event.get("event", ""))
    sent.update(level=level, logger="probed", logentry={"message": message}, extra=extra)
    sentry_sdk.capture_event(cast("Event", sent), hint=hint)


def _exc_info(value: object) -> ExcInfo | None:
    """structlog's ``exc_info`` (True: the exception being handled) as a triple."""
    if value is True:
        value = sys.exc_info()
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return (value[0], value[1], value[2])
    return None


def scrub(event: Any, _hint: Any) -> Any:
    """``before_send``: the event without request or user data, every string redacted as log
    lines are and every field that names a secret, header, body or cookie hidden."""
    for key in _DROPPED:
        event.pop(key, None)
    return _scrubbed(event)


def _scrubbed(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: "***" if isinstance(key, str) and _hidden(key) else _scrubbed(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    return logs.redacted(value)


def _hidden(key: str) -> bool:
    return logs.secret_key(key) or any(word in key.lower() for word in _HIDDEN)
