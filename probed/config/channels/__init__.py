"""The alert channel types: each ``type`` of an [alerts.NAME] table with its settings, reader
and sender (docs/design.md §2, §4).

A new type is its settings and reader (``probed/config/channels/<type>.py``), its sender
(``probed/alerts/<type>.py``) and one line in CHANNEL_TYPES. Senders are named here, not
imported: they load aiohttp, aiosmtplib or apprise, which validating a config (``probed
check``) has no use for; probed.alerts.channels imports them when it builds the channels.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar

from probed.config.channels import alertmanager, apprise, email, webhook
from probed.config.channels.alertmanager import AlertmanagerChannel, read_alertmanager
from probed.config.channels.apprise import AppriseChannel, read_apprise
from probed.config.channels.common import ChannelSettings
from probed.config.channels.email import EmailChannel, read_email
from probed.config.channels.webhook import WebhookChannel, read_webhook
from probed.config.reader import Section

__all__ = [
    "CHANNEL_TYPES",
    "AlertmanagerChannel",
    "AppriseChannel",
    "ChannelSettings",
    "ChannelType",
    "EmailChannel",
    "WebhookChannel",
    "read_channel",
]

S = TypeVar("S", bound=ChannelSettings)


@dataclass(frozen=True, slots=True)
class ChannelType(Generic[S]):
    settings: type[S]
    """The type's settings; ``settings.type`` is its name in monitors.toml."""
    read: Callable[[Section], S]
    """table → settings: reads the keys present and reports wrong values and missing
    required keys on the table (unknown keys are reported before, from ``keys``)."""
    keys: tuple[str, ...]
    """Every key of the table, ``type`` and ``kinds`` included."""
    required: tuple[str, ...]
    """Keys the table must set (for the JSON Schema; the reader reports them)."""
    sender: str
    """``module:Class`` of the sender: a class whose ``from_settings(name, settings, parts)``
    returns a probed.alerts.channels.Channel."""
    tried_by: str | None = None
    """``module:function`` (settings) → (key, problem) or None, run on a table that read
    well: what only the sending side can tell (a webhook template that fails for a sample
    alert). Named like ``sender``, so config never imports the alerts layer."""

    @property
    def name(self) -> str:
        return self.settings.type

    def load_sender(self) -> Any:
        module, _, cls = self.sender.partition(":")
        return getattr(importlib.import_module(module), cls)


def _by_name(*types: ChannelType[Any]) -> Mapping[str, ChannelType[Any]]:
    return MappingProxyType({channel.name: channel for channel in types})


CHANNEL_TYPES: Final = _by_name(
    ChannelType(
        EmailChannel,
        read_email,
        email.KEYS,
        ("host", "from", "to"),
        "probed.alerts.email:EmailNotifier",
    ),
    ChannelType(
        WebhookChannel,
        read_webhook,
        webhook.KEYS,
        ("url",),
        "probed.alerts.webhook:WebhookNotifier",
        "probed.alerts.webhook_body:settings_problem",
    ),
    ChannelType(
        AlertmanagerChannel,
        read_alertmanager,
        alertmanager.KEYS,
        ("urls",),
        "probed.alerts.alertmanager:AlertmanagerNotifier",
    ),
    ChannelType(
        AppriseChannel,
        read_apprise,
        apprise.KEYS,
        ("urls",),
        "probed.alerts.apprise:AppriseNotifier",
    ),
)
"""Every channel type by name, in the order messages list them."""


def read_channel(name: str, sec: Section) -> ChannelSettings | None:
    """[alerts.NAME] read by its type; None when the type is missing or unknown, which is
    reported on ``type`` with the known types (never read as some other type)."""
    kind = _channel_type(name, sec)
    if kind is None:
        return None
    channel = CHANNEL_TYPES[kind]
    sec.reject_unknown(channel.keys)
    settings: ChannelSettings = channel.read(sec)
    if channel.tried_by is not None and not sec.failed:
        module, _, function = channel.tried_by.partition(":")
        if found := getattr(importlib.import_module(module), function)(settings):
            sec.problem(*found)
    return settings


def _channel_type(name: str, sec: Section) -> str | None:
    """The table's ``type``; NAME itself when it names a type; None (reported) otherwise."""
    kind = sec.choice("type", CHANNEL_TYPES)
    if kind is None and "type" not in sec.data:
        if name in CHANNEL_TYPES:
            return name
        sec.problem("type", f"missing (required: one of {', '.join(CHANNEL_TYPES)})")
    return kind
