"""The alert channels: one small interface, a name → channel map built from the config by the
channel types' registry (probed.config.channels), and ``send_test`` behind ``probed test-alert``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from probed.alerts.messages import Message, render
from probed.alerts.payload import Payload
from probed.config import Config
from probed.config.channels import CHANNEL_TYPES
from probed.errors import NotifierError
from probed.model import AlertKind
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


@dataclass(frozen=True, slots=True)
class ChannelParts:
    """What a sender may need besides its settings, from the daemon and the config."""

    now: Callable[[], datetime]
    store: Store | None
    """Keeps Alertmanager's firing alerts across restarts; None for a one-off test message."""
    location: str | None
    """``[probed] location``, for messages that carry no monitor's payload (a test)."""
    monitors: tuple[str, ...]
    """The monitors that alert through the channel."""


class Sender(Protocol):
    """A channel type's sender class, as CHANNEL_TYPES names it."""

    def from_settings(self, name: str, settings: Any, parts: ChannelParts) -> Channel: ...


def make_channels(
    config: Config, store: Store | None = None, now: Callable[[], datetime] = utcnow
) -> dict[str, Channel]:
    """Every channel the config sets up, by the name monitors use in ``alert``, each built by
    the sender its type names in CHANNEL_TYPES. ``store`` keeps Alertmanager's firing alerts
    across restarts (none for a one-off test message)."""
    channels: dict[str, Channel] = {}
    for name, settings in config.channel_settings.items():
        sender: Sender = CHANNEL_TYPES[settings.type].load_sender()
        monitors = tuple(m.name for m in config.monitors if name in m.alert)
        parts = ChannelParts(now, store, config.settings.location, monitors)
        channels[name] = sender.from_settings(name, settings, parts)
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
