"""type = "email" (and [alerts.email], as 0.1 read it): SMTP delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from probed.config.channels.common import read_kinds
from probed.config.reader import Section, address_problem, pick

KEYS: tuple[str, ...] = ("host", "port", "security", "username", "password")
KEYS += ("password_file", "from", "to", "timeout", "ca_file", "type", "kinds")
SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """[alerts.email]: SMTP delivery."""

    type: ClassVar[str] = "email"
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


def read_email(sec: Section) -> EmailChannel:
    """The table's settings; wrong or missing values are reported on ``sec``."""
    base = EmailChannel(host="", to=(), sender="")
    security = pick(sec.choice("security", SECURITY_PORTS), base.security)
    username = sec.string("username", nonempty=True)
    password = sec.secret("password")
    if password is not None and username is None and "username" not in sec.failed:
        where = "password_file" if "password_file" in sec.data else "password"
        sec.problem(where, "set but username is not")
    sender = sec.string("from", required=True, nonempty=True)
    to = sec.strings("to", required=True)
    if to == ():
        sec.problem("to", "must list at least one address")
    for key, addresses in (("from", (sender,) if sender else ()), ("to", to or ())):
        for problem in filter(None, map(address_problem, addresses)):
            sec.problem(key, problem)
    return EmailChannel(
        host=pick(sec.string("host", required=True, nonempty=True), ""),
        to=pick(to, ()),
        sender=pick(sender, ""),
        port=pick(sec.integer("port", 1, 65535), SECURITY_PORTS[security]),
        security=security,
        username=username,
        password=password,
        timeout=pick(sec.duration("timeout", positive=True), base.timeout),
        ca_file=_str_path(sec.path("ca_file", certificates=True)),
        kinds=read_kinds(sec),
    )


def _str_path(path: Path | None) -> str | None:
    return None if path is None else str(path)
