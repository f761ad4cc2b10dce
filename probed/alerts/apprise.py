"""The apprise channel: the email's subject and plain text to any service apprise knows
(Slack, Telegram, ntfy, Discord, Teams, Matrix, Pushover, Twilio SMS …).

apprise is synchronous, so each send runs in a worker thread, bounded by the channel's
``timeout`` (apprise's own socket timeouts end the thread soon after). Services that take only a
short text (SMS: ``body_maxlen`` of a few hundred characters) get the subject and the
evidence's first line, cut to fit. apprise tells only whether a service took the message, not
why not, so every failure is transient and retried; a retry skips the services of the channel
that already took that message. apprise's logger stays silent: its lines quote service URLs,
tokens and all.
"""

from __future__ import annotations

import asyncio

from probed.alerts.channels import ChannelParts
from probed.alerts.evidence_text import first_line
from probed.alerts.messages import Message
from probed.config.channels.apprise import AppriseChannel, apprise_label, quiet_apprise
from probed.errors import NotifierError
from probed.model import AlertKind

SHORT_BODY = 320
"""Services whose ``body_maxlen`` is at most this get the subject as the whole message."""
REMEMBERED = 1000
"""Message-IDs whose per-service progress is kept for retries."""
NOTIFY_TYPES = {"down": "failure", "up": "success", "recovered": "success", "test": "info"}
"""apprise's notify_type (colour, icon) by kind; the rest are warnings."""


class AppriseNotifier:
    """Sends each message to every service URL of the channel."""

    @classmethod
    def from_settings(
        cls, name: str, settings: AppriseChannel, parts: ChannelParts
    ) -> AppriseNotifier:
        return cls(name, settings)

    def __init__(self, name: str, settings: AppriseChannel) -> None:
        self.name = name
        self.settings = settings
        self._took: dict[str, set[int]] = {}
        """By Message-ID: the URLs (by index) that already took it."""
        # No warm-up here: reading the config (``apprise_problem``) instantiated every URL in
        # this process already, which loads apprise's plugins before the first alert.

    async def send(self, message: Message) -> str:
        took = self._took.setdefault(message.message_id, set())
        todo = [i for i in range(len(self.settings.urls)) if i not in took]
        try:
            async with asyncio.timeout(self.settings.timeout):
                results = await asyncio.to_thread(self._notify, message, todo)
        except TimeoutError as exc:
            raise NotifierError(
                f"apprise: no answer within {self.settings.timeout:g}s", permanent=False
            ) from exc
        took.update(i for i, ok in zip(todo, results, strict=True) if ok)
        failed = [
            apprise_label(self.settings.urls[i])
            for i, ok in zip(todo, results, strict=True)
            if not ok
        ]
        if failed:
            raise NotifierError(f"apprise: not taken by {', '.join(failed)}", permanent=False)
        del self._took[message.message_id]
        while len(self._took) > REMEMBERED:
            del self._took[next(iter(self._took))]
        services = ", ".join(apprise_label(u) for u in self.settings.urls)
        return f"taken by {services}"

    def _notify(self, message: Message, todo: list[int]) -> list[bool]:
        """In a worker thread: each URL of ``todo`` notified; whether it took the message."""
        import apprise

        kind = str(message.digest_of if message.kind is AlertKind.DIGEST else message.kind)
        notify_type = NOTIFY_TYPES.get(kind, "warning")
        results = []
        with quiet_apprise():
            for i in todo:
                service = apprise.Apprise.instantiate(self.settings.urls[i])
                if service is None:
                    results.append(False)
                    continue
                short = 0 < service.body_maxlen <= SHORT_BODY
                body = short_text(message, service.body_maxlen) if short else message.text
                title = "" if short else message.subject
                results.append(
                    bool(service.notify(body=body, title=title, notify_type=notify_type))
                )
        return results


def short_text(message: Message, limit: int) -> str:
    """The subject (with the incident ID), and the evidence's first line as far as it fits."""
    line = first_line(message.payloads[0]) if len(message.payloads) == 1 else ""
    text = f"{message.subject}: {line}" if line else message.subject
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if len(message.subject) < limit else message.subject
