"""[alerts.NAME] tables other than email (DESIGN §2, §4): webhook, alertmanager and apprise
channels, and their readers.

Everything is checked offline, as ``probed check`` must: URLs are parsed, apprise URLs are
handed to apprise's own parser (which builds the service object but sends nothing), a body
template is compiled by the sandboxed Jinja2 environment that will render it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from probed.config.reader import Section, pick, url_problem

ALERT_KINDS = ("down", "up", "ssl", "reminder", "degraded", "recovered")
"""What ``kinds`` may name: the kinds of single alerts (a digest goes where its alerts go)."""
CHANNEL_TYPES = ("email", "webhook", "alertmanager", "apprise")
COMMON_KEYS = ("type", "kinds")
WEBHOOK_KEYS = (*COMMON_KEYS, "url", "headers", "secret", "secret_file", "timeout", "template")
ALERTMANAGER_KEYS = (*COMMON_KEYS, "urls", "timeout", "resend_every")
APPRISE_KEYS = (*COMMON_KEYS, "urls", "timeout")


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """[alerts.email]: SMTP delivery."""

    host: str
    to: tuple[str, ...]
    sender: str
    """The ``from`` key (a Python keyword, hence the rename)."""
    port: int = 587
    security: str = "starttls"
    """``starttls`` | ``tls`` | ``none``."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ca_file: str | None = None
    """PEM bundle to trust for the SMTP server's certificate instead of the system store."""
    kinds: frozenset[str] | None = None
    """The alert kinds this channel receives; None: all."""


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """type = "webhook": the JSON document of DESIGN §4 POSTed to ``url``."""

    url: str = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    secret: str | None = field(default=None, repr=False)
    """Signs the body: X-Probed-Signature: sha256=<hex HMAC-SHA256>."""
    timeout: float = 10.0
    template: str | None = None
    """A Jinja2 template (sandboxed) for the body instead of the JSON document."""
    kinds: frozenset[str] | None = None
    type: Literal["webhook"] = "webhook"


@dataclass(frozen=True, slots=True)
class AlertmanagerChannel:
    """type = "alertmanager": alerts POSTed to ``<url>/api/v2/alerts`` of every URL."""

    urls: tuple[str, ...] = field(repr=False)
    timeout: float = 10.0
    resend_every: float = 60.0
    """Firing alerts are re-sent this often, valid (``endsAt``) four times as long."""
    kinds: frozenset[str] | None = None
    type: Literal["alertmanager"] = "alertmanager"


@dataclass(frozen=True, slots=True)
class AppriseChannel:
    """type = "apprise": the email's subject and text through the apprise library."""

    urls: tuple[str, ...] = field(repr=False)
    timeout: float = 30.0
    kinds: frozenset[str] | None = None
    type: Literal["apprise"] = "apprise"


ChannelSettings = EmailChannel | WebhookChannel | AlertmanagerChannel | AppriseChannel


def channel_type(name: str, sec: Section) -> str | None:
    """The table's ``type``; NAME itself when it names a type; None (reported) otherwise."""
    kind = sec.choice("type", CHANNEL_TYPES)
    if kind is None and "type" not in sec.data:
        if name in CHANNEL_TYPES:
            return name
        sec.problem("type", f"missing (required: one of {', '.join(CHANNEL_TYPES)})")
    return kind


def read_kinds(sec: Section) -> frozenset[str] | None:
    kinds = sec.strings("kinds")
    if kinds is None:
        return None
    for kind in kinds:
        if kind not in ALERT_KINDS:
            sec.problem("kinds", f'unknown alert kind "{kind}" (known: {", ".join(ALERT_KINDS)})')
    if not kinds:
        sec.problem("kinds", "must list at least one kind (remove the channel to silence it)")
    return frozenset(kinds)


def read_channel(kind: str, sec: Section) -> WebhookChannel | AlertmanagerChannel | AppriseChannel:
    """A webhook, alertmanager or apprise table (email is read by probed.config.tables)."""
    if kind == "webhook":
        return _webhook(sec)
    if kind == "alertmanager":
        return _alertmanager(sec)
    return _apprise(sec)


def _webhook(sec: Section) -> WebhookChannel:
    sec.reject_unknown(WEBHOOK_KEYS)
    url = pick(sec.string("url", required=True, nonempty=True), "")
    if url and (problem := url_problem(url)):
        sec.problem("url", problem)
    template = sec.string("template", nonempty=True)
    if template is not None and (problem := template_problem(template)):
        sec.problem("template", problem)
    headers = sec.headers("headers") or {}
    return WebhookChannel(
        url=url,
        headers=tuple(headers.items()),
        secret=sec.secret("secret"),
        timeout=pick(sec.duration("timeout", positive=True), 10.0),
        template=template,
        kinds=read_kinds(sec),
    )


def _alertmanager(sec: Section) -> AlertmanagerChannel:
    sec.reject_unknown(ALERTMANAGER_KEYS)
    urls = _urls(sec)
    for url in urls:
        if problem := url_problem(url):
            sec.problem("urls", problem)
    kinds = read_kinds(sec)
    for fires, resolves in (("down", "up"), ("degraded", "recovered")):
        if kinds is not None and fires in kinds and resolves not in kinds:
            # Alertmanager resolves an alert only when told: without them it would fire on.
            sec.problem("kinds", f'lists "{fires}" but not "{resolves}", which resolves it')
    return AlertmanagerChannel(
        urls=urls,
        timeout=pick(sec.duration("timeout", positive=True), 10.0),
        resend_every=pick(sec.duration("resend_every", minimum=1), 60.0),
        kinds=kinds,
    )


def _apprise(sec: Section) -> AppriseChannel:
    sec.reject_unknown(APPRISE_KEYS)
    urls = _urls(sec)
    for url in urls:
        if problem := apprise_problem(url):
            sec.problem("urls", problem)
    return AppriseChannel(
        urls=urls,
        timeout=pick(sec.duration("timeout", positive=True), 30.0),
        kinds=read_kinds(sec),
    )


def _urls(sec: Section) -> tuple[str, ...]:
    urls = sec.strings("urls", required=True)
    if urls == ():
        sec.problem("urls", "must list at least one URL")
    return urls or ()


def apprise_label(url: str) -> str:
    """What of an apprise URL may be shown: its service; the rest holds tokens."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://***" if sep else "***"


def apprise_problem(url: str) -> str | None:
    """Why apprise refuses ``url`` (unknown service, malformed), or None; never sends."""
    # Imported here: large, and only configs with apprise channels need it.
    import apprise
    from apprise.manager_plugins import NotificationManager

    label = apprise_label(url)
    if "://" not in url:
        return f'not an apprise URL: "{label}" (expected service://..., e.g. slack://...)'
    scheme = url.partition("://")[0].lower()
    if scheme not in NotificationManager():  # type: ignore[no-untyped-call]
        return f'unknown apprise service "{scheme}://" in "{label}"'
    # apprise logs the URL it refuses, tokens and all: not a word of it reaches our logs.
    with quiet_apprise():
        service = apprise.Apprise.instantiate(url)
    if service is None:
        return f'apprise cannot use "{label}": malformed for the {scheme} service'
    return None


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Silence apprise's logger, whose lines quote service URLs with their tokens."""
    logger = logging.getLogger("apprise")
    before, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = before


def template_problem(template: str) -> str | None:
    """Why the sandboxed Jinja2 environment cannot compile ``template``, or None."""
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        SandboxedEnvironment().parse(template)
    except TemplateSyntaxError as exc:
        return f"invalid Jinja2 template (line {exc.lineno}): {exc.message}"
    return None
