"""The webhook channel: the JSON document of docs/design.md §4 POSTed to a URL, optionally signed
(``X-Probed-Signature: sha256=<hex HMAC-SHA256 of the raw body>``) or shaped by a user's
Jinja2 template, rendered in a sandbox.

The document is built from the stored payloads only, so every retry of an alert sends the same
bytes with the same ``message_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

import structlog

from probed.alerts.channels import ChannelParts
from probed.alerts.http_post import post
from probed.alerts.messages import Message
from probed.alerts.webhook_body import document, render
from probed.config.channels import WebhookChannel

if TYPE_CHECKING:
    from jinja2 import Template

log = structlog.get_logger("probed")
SIGNATURE = "X-Probed-Signature"


class WebhookNotifier:
    """POSTs each message to ``settings.url``."""

    @classmethod
    def from_settings(
        cls, name: str, settings: WebhookChannel, parts: ChannelParts
    ) -> WebhookNotifier:
        return cls(name, settings, parts.location)

    def __init__(self, name: str, settings: WebhookChannel, location: str | None = None) -> None:
        self.name = name
        self.settings = settings
        self.location = location
        """For test messages, which carry no payload of a monitor."""
        self._template: Template | None = None
        if settings.template:
            # Imported only for a channel with a template: most daemons never need Jinja2.
            from jinja2.sandbox import SandboxedEnvironment

            self._template = SandboxedEnvironment(autoescape=False).from_string(settings.template)

    def body(self, message: Message) -> tuple[bytes, str]:
        """(raw body, content type)."""
        doc = document(message, self.location)
        if self._template is None:
            return json.dumps(doc, ensure_ascii=False).encode(), "application/json"
        try:
            text = render(self._template, doc, message)
        except Exception as exc:  # any error of the user's template, even 1/0
            # `probed check` rendered it with a sample alert; this one differs (a digest, a
            # test message). An alert in the default shape beats none, and a retry would fail
            # the same way.
            log.error(
                "webhook template failed: sent the default JSON body instead",
                channel=self.name,
                kind=str(message.kind),
                error=f"{type(exc).__name__}: {exc}",
            )
            return json.dumps(doc, ensure_ascii=False).encode(), "application/json"
        return text.encode(), "application/json"

    async def send(self, message: Message) -> str:
        body, content_type = self.body(message)
        headers = {"Content-Type": content_type, "User-Agent": "probed"}
        headers |= dict(self.settings.headers)
        headers["X-Probed-Message-Id"] = message.message_id
        if self.settings.secret is not None:
            headers[SIGNATURE] = sign(self.settings.secret, body)
        return await post(self.settings.url, body, headers, self.settings.timeout)


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
