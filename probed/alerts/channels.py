"""The alert channels: one small interface, a name → channel map built from the config, and
``send_test`` behind ``probed test-alert``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from probed.alerts.alertmanager import AlertmanagerNotifier
from probed.alerts.apprise import AppriseNotifier
from probed.alerts.email import EmailNotifier
from probed.alerts.messages import Message, render
from probed.alerts.payload import Payload
from probed.alerts.policy import AlertKind
from probed.alerts.webhook import WebhookNotifier
from probed.config import Config, EmailChannel
from probed.config.channels import AlertmanagerChannel, WebhookChannel
from probed.errors import NotifierError
from probed.store import Store
from probed.units import utcnow


class Channel(Protocol):
    """Delivers messages; ``send`` returns the server's answer or raises NotifierError."""

    name: str

    async def send(self, message: Message) -> str: ...


@runtime_checkable
class Refreshing(Protocol):
    """A channel that re-sends state on its own schedule (Alertmanager's firing alerts)."""

    def refresh_due(self) -> datetime | None:
        """When ``refresh`` should run next; None: nothing to re-send."""
        ...

    async def refresh(self) -> None: ...


def make_channels(
    config: Config, store: Store | None = None, now: Callable[[], datetime] = utcnow
) -> dict[str, Channel]:
    """Every channel the config sets up, by the name monitors use in ``alert``. ``store``
    keeps Alertmanager's firing alerts across restarts (none for a one-off test message)."""
    channels: dict[str, Channel] = {}
    for name, settings in config.channel_settings.items():
        if isinstance(settings, EmailChannel):
            channels[name] = EmailNotifier(settings, name)
        elif isinstance(settings, WebhookChannel):
            channels[name] = WebhookNotifier(name, settings, config.settings.location)
        elif isinstance(settings, AlertmanagerChannel):
            monitors = [m.name for m in config.monitors if name in m.alert]
            channels[name] = AlertmanagerNotifier(name, settings, now, store, monitors)
        else:
            channels[name] = AppriseNotifier(name, settings)
    return channels


@dataclass(frozen=True, slots=True)
class TestOutcome:
    channel: str
    ok: bool
    answer: str
    """The server's answer, or the error with it."""


async def send_test(
    config: Config, now: datetime, only: str | None = None, message_id: str | None = None
) -> list[TestOutcome]:
    """Send one test message through each configured channel (or ``only``) now."""
    host = socket.gethostname()
    payload = Payload(
        text=f"alerts from probed on {host} reach you",
        fields=(
            ("Sent from", host),
            ("Config", str(config.path)),
            ("Monitors", str(len(config.monitors))),
        ),
    )
    message_id = message_id or f"<test-{int(now.timestamp())}@{host}>"
    message = render(AlertKind.TEST, [payload], message_id, now)
    outcomes = []
    for name, channel in make_channels(config).items():
        if only is not None and name != only:
            continue
        try:
            answer = await channel.send(message)
        except NotifierError as exc:
            kind = "permanent" if exc.permanent else "transient"
            outcomes.append(TestOutcome(name, False, f"{exc} ({kind} failure)"))
        else:
            outcomes.append(TestOutcome(name, True, answer))
    return outcomes
