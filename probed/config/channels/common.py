"""What every [alerts.NAME] table shares: the settings' interface, ``type`` and ``kinds``."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from probed.config.reader import Section
from probed.model import CHANNEL_KINDS

COMMON_KEYS = ("type", "kinds")


class ChannelSettings(Protocol):
    """A channel's settings: one frozen dataclass per type (probed.config.channels).

    Code that needs a type's own fields narrows with isinstance; everything else goes by
    ``type``, as written in monitors.toml, and ``kinds``.
    """

    type: ClassVar[str]
    # Every type is a dataclass: its fields are what the schema describes of its table.
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def kinds(self) -> frozenset[str] | None:
        """The alert kinds this channel receives; None: all."""
        ...


def read_kinds(sec: Section) -> frozenset[str] | None:
    """``kinds``: a non-empty list of single-alert kinds (CHANNEL_KINDS), or None if unset."""
    kinds = sec.strings("kinds")
    if kinds is None:
        return None
    for kind in kinds:
        if kind not in CHANNEL_KINDS:
            sec.problem("kinds", f'unknown alert kind "{kind}" (known: {", ".join(CHANNEL_KINDS)})')
    if not kinds:
        sec.problem("kinds", "must list at least one kind (remove the channel to silence it)")
    return frozenset(kinds)


def read_urls(sec: Section) -> tuple[str, ...]:
    """``urls``: required, and at least one."""
    urls = sec.strings("urls", required=True)
    if urls == ():
        sec.problem("urls", "must list at least one URL")
    return urls or ()
