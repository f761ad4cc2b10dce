"""The monitor kinds: each ``type`` of monitors.toml with its settings, reader and probe.

A new kind is its check type and reader (``probed/config/<kind>.py``), its probe
(``probed/probes/<kind>.py``) and one line in KINDS. Probes are named here, not imported:
they load aiohttp, which validating a config (``probed check``) has no use for; probed.probes
imports them on the first check of their kind.

Results come from one of two directions. An outbound kind is checked by sending: its probe runs
on the scheduler's timers. An inbound kind (push) has no probe: its job calls probed, and
``probed.engine.push`` delivers what arrived; ``inbound(check)`` tells them apart, and is the
one place that looks at a check's type to do so.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar, Final, Generic, Protocol, TypeVar

from probed.config.dns import DnsCheck, dns_url_problem, read_dns
from probed.config.domain import DomainCheck, domain_url_problem, read_domain
from probed.config.http import HttpCheck, KeywordCheck, read_http, read_keyword
from probed.config.json import JsonCheck, read_json
from probed.config.mail import (
    ImapCheck,
    Pop3Check,
    SmtpCheck,
    imap_url_problem,
    pop3_url_problem,
    read_imap,
    read_pop3,
    read_smtp,
    smtp_url_problem,
)
from probed.config.ping import PingCheck, ping_url_problem, read_ping
from probed.config.push import PushCheck, read_push
from probed.config.reader import Section, url_problem
from probed.config.tcp import TcpCheck, read_tcp, tcp_url_problem
from probed.config.tls import SslCheck, read_ssl


class Check(Protocol):
    """A monitor's kind-specific settings: one frozen dataclass per kind (``KINDS``).

    A kind's own code (its reader, its probe) knows its type; everyone else goes by ``kind``,
    the ``type`` written in monitors.toml, or asks this registry (``inbound``).
    """

    kind: ClassVar[str]
    # Every kind is a dataclass: its fields are the keys it accepts (probed.config.kinds).
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def key(self) -> tuple[object, ...]:
        """What of these settings makes it a different check (see Monitor.check_key)."""
        ...


C = TypeVar("C", bound=Check)


@dataclass(frozen=True, slots=True)
class Kind(Generic[C]):
    check: type[C]
    """The kind's settings; its fields are the monitor keys the kind accepts."""
    read: Callable[[Section, str], C]
    """(table, url) → settings: reads the keys present (``[defaults]`` merged in), reports
    wrong values on the table and never a missing key; ``url`` is valid, or "" if not known."""
    probe: str | None
    """``module:function`` of the probe, an ``async (monitor, check, session, tracker)``;
    None for a kind that sends nothing (push: judged on the pings its job sends)."""
    url_problem: Callable[[str], str | None] | None = url_problem
    """Why a monitor's ``url`` is not one this kind can check, or None: the scheme is the
    kind's to decide (http(s) for most, ``tcp://`` for tcp). None: the kind takes no URL."""
    down_after: int | None = None
    """The kind's own default ``down_after``, over [defaults]' (push: a retry cannot bring
    back a ping that did not come); None: [defaults]' applies."""
    extra_keys: tuple[str, ...] = ()
    """Keys the reader takes besides the check's fields (a secret's ``<key>_file``)."""
    reads_url: bool = True
    """False when ``read`` never looks at the URL: monitors with the same keys then share
    one check, read once (http monitors of a 10,000-monitor file set none of its keys)."""

    @property
    def name(self) -> str:
        return self.check.kind

    @property
    def keys(self) -> tuple[str, ...]:
        return _all_keys(self.check, self.extra_keys)

    @property
    def required(self) -> tuple[str, ...]:
        """Keys without a default: a monitor of this kind must set them."""
        return _required(self.check)

    def load_probe(self) -> Any:
        if self.probe is None:
            raise LookupError(f'type "{self.name}" has no probe: nothing is sent to its target')
        module, _, function = self.probe.partition(":")
        return getattr(importlib.import_module(module), function)


# Cached: reading monitors.toml asks for them some twenty times per monitor, and dataclasses'
# fields() is slow enough for that to be a third of the start-up at 10,000 monitors.
@functools.cache
def _keys(check: type[Check]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(check))


@functools.cache
def _all_keys(check: type[Check], extra: tuple[str, ...]) -> tuple[str, ...]:
    return (*_keys(check), *extra)


@functools.cache
def _required(check: type[Check]) -> tuple[str, ...]:
    return tuple(
        f.name for f in fields(check) if f.default is MISSING and f.default_factory is MISSING
    )


def inbound(check: Check) -> PushCheck | None:
    """``check`` as an inbound kind's settings (push: the job calls probed, at its token's
    path); None for an outbound kind, whose probe sends to its target."""
    return check if isinstance(check, PushCheck) else None


def _by_name(*kinds: Kind[Any]) -> Mapping[str, Kind[Any]]:
    return MappingProxyType({kind.name: kind for kind in kinds})


KINDS: Final = _by_name(
    Kind(HttpCheck, read_http, "probed.probes.http:probe_http", reads_url=False),
    Kind(KeywordCheck, read_keyword, "probed.probes.http:probe_keyword", reads_url=False),
    Kind(SslCheck, read_ssl, "probed.probes.tls:probe_ssl"),
    Kind(TcpCheck, read_tcp, "probed.probes.tcp:probe_tcp", tcp_url_problem, reads_url=False),
    Kind(JsonCheck, read_json, "probed.probes.json:probe_json", reads_url=False),
    Kind(DnsCheck, read_dns, "probed.probes.dns:probe_dns", dns_url_problem, reads_url=False),
    Kind(PingCheck, read_ping, "probed.probes.ping:probe_ping", ping_url_problem, reads_url=False),
    Kind(SmtpCheck, read_smtp, "probed.probes.mail:probe_smtp", smtp_url_problem),
    Kind(ImapCheck, read_imap, "probed.probes.mail:probe_imap", imap_url_problem),
    Kind(Pop3Check, read_pop3, "probed.probes.mail:probe_pop3", pop3_url_problem),
    Kind(PushCheck, read_push, None, None, down_after=1, extra_keys=("token_file",)),
    Kind(DomainCheck, read_domain, "probed.probes.domain:probe_domain", domain_url_problem),
)
"""Every kind by name; the first is the default ``type``."""

KIND_KEYS: Final = tuple(dict.fromkeys(key for kind in KINDS.values() for key in kind.keys))
"""Every key that belongs to some kind: on a monitor of another kind it is misplaced."""
