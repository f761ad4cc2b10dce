"""Delivery of one queued subscriber message (docs/design.md §18.4): a mail through the
[alerts.email] channel's SMTP server with ``List-Unsubscribe`` and ``List-Unsubscribe-Post``
(RFC 8058), or a webhook subscriber's JSON signed like the webhook channel. Raises
NotifierError (``permanent`` when retrying cannot help), as the alert channels do."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage

from probed.alerts.email import EmailNotifier
from probed.alerts.http_post import post
from probed.alerts.messages import Message
from probed.alerts.webhook import SIGNATURE, sign
from probed.config import Config, EmailChannel
from probed.config.subscriptions import SubscriberWebhook
from probed.errors import NotifierError
from probed.model import AlertKind
from probed.store.subscribers import QueuedRow
from probed.subscriptions.mails import Letter


class _SubscriberMail(EmailNotifier):
    """The email channel's SMTP delivery, to one subscriber, with the list headers."""

    def __init__(self, channel: EmailChannel, letter: Letter) -> None:
        super().__init__(channel, "subscribers")
        self.letter = letter

    def build(self, message: Message) -> EmailMessage:
        msg = super().build(message)
        del msg["X-Probed-Alert"]
        msg["X-Probed-Subscription"] = self.letter.kind
        if self.letter.unsubscribe is not None:
            msg["List-Unsubscribe"] = f"<{self.letter.unsubscribe}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return msg


async def send_mail(
    channel: EmailChannel, address: str, letter: Letter, message_id: str, date: datetime
) -> str:
    """Mail ``letter`` to ``address``; the server's answer."""
    mailer = _SubscriberMail(replace(channel, to=(address,)), letter)
    message = Message(AlertKind.TEST, letter.subject, letter.text, letter.html, message_id, date)
    return await mailer.send(message)


async def send_webhook(hook: SubscriberWebhook, body: str, message_id: str) -> str:
    """POST the event's JSON to ``hook``, signed with its secret."""
    raw = json.dumps({**json.loads(body), "message_id": message_id}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "probed"}
    headers["X-Probed-Message-Id"] = message_id
    if hook.secret is not None:
        headers[SIGNATURE] = sign(hook.secret, raw)
    return await post(hook.url, raw, headers, hook.timeout)


async def send_queued(config: Config, row: QueuedRow) -> str:
    """Deliver a ``subscriber_outbox`` row through what ``config`` sets up now."""
    if row.recipient.startswith("webhook:"):
        hooks = config.subscriptions.webhooks
        index = int(row.recipient.removeprefix("webhook:"))
        if index >= len(hooks):
            raise _gone("the webhook subscriber")
        return await send_webhook(hooks[index], row.body, row.message_id)
    if config.email is None:
        raise _gone("[alerts.email]")
    mail = Letter.from_json(json.loads(row.body))
    return await send_mail(config.email, row.recipient, mail, row.message_id, row.created)


def receiver(recipient: str) -> str:
    """Who takes a message: ``mail`` (the one SMTP server) or the webhook's ``webhook:<n>``."""
    return recipient if recipient.startswith("webhook:") else "mail"


def _gone(what: str) -> NotifierError:
    return NotifierError(f"{what} is no longer configured", permanent=True)
