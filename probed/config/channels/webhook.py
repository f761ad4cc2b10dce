"""type = "webhook": the JSON document of docs/design.md §4.5 (or a template's body) POSTed to
a URL.

The body template is compiled and rendered for a sample alert offline, by the sandboxed Jinja2
environment that will render it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from probed.config.channels.common import read_kinds
from probed.config.http import credentials_problem
from probed.config.reader import Section, pick, url_problem

KEYS = ("type", "kinds", "url", "headers", "secret", "secret_file", "timeout", "template")


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """type = "webhook": the JSON document of docs/design.md §4.5 POSTed to ``url``."""

    type: ClassVar[str] = "webhook"
    url: str = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    secret: str | None = field(default=None, repr=False)
    """Signs the body: X-Probed-Signature: sha256=<hex HMAC-SHA256>."""
    timeout: float = 10.0
    template: str | None = None
    """A Jinja2 template (sandboxed) for the body instead of the JSON document."""
    kinds: frozenset[str] | None = None


def read_webhook(sec: Section) -> WebhookChannel:
    """The table's settings; wrong or missing values are reported on ``sec``."""
    url = pick(sec.string("url", required=True, nonempty=True), "")
    if url and (problem := url_problem(url)):
        sec.problem("url", problem)
    template = sec.string("template", nonempty=True)
    if template is not None and (problem := template_problem(template)):
        sec.problem("template", problem)
    headers = sec.headers("headers") or {}
    if url and "url" not in sec.failed and (problem := credentials_problem(url, headers.items())):
        sec.problem("url", problem)
    return WebhookChannel(
        url=url,
        headers=tuple(headers.items()),
        secret=sec.secret("secret"),
        timeout=pick(sec.duration("timeout", positive=True), 10.0),
        template=template,
        kinds=read_kinds(sec),
    )


def template_problem(template: str) -> str | None:
    """Why the sandboxed Jinja2 environment cannot compile ``template``, or None (whether it
    renders for a sample alert is the sender's to try: CHANNEL_TYPES' ``tried_by``)."""
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        SandboxedEnvironment().parse(template)
    except TemplateSyntaxError as exc:
        return f"invalid Jinja2 template (line {exc.lineno}): {exc.message}"
    return None
