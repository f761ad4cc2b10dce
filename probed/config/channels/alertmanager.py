"""type = "alertmanager": alerts POSTed to Prometheus Alertmanagers' API v2."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from probed.config.channels.common import read_kinds, read_urls
from probed.config.reader import Section, pick, url_problem

KEYS = ("type", "kinds", "urls", "timeout", "resend_every")


@dataclass(frozen=True, slots=True)
class AlertmanagerChannel:
    """type = "alertmanager": alerts POSTed to ``<url>/api/v2/alerts`` of every URL."""

    type: ClassVar[str] = "alertmanager"
    urls: tuple[str, ...] = field(repr=False)
    timeout: float = 10.0
    resend_every: float = 60.0
    """Firing alerts are re-sent this often, valid (``endsAt``) four times as long."""
    kinds: frozenset[str] | None = None


def read_alertmanager(sec: Section) -> AlertmanagerChannel:
    """The table's settings; wrong or missing values are reported on ``sec``."""
    urls = read_urls(sec)
    for url in urls:
        if problem := url_problem(url):
            sec.problem("urls", problem)
    kinds = read_kinds(sec)
    for fires, resolves in (("down", "up"), ("degraded", "recovered")):
        if kinds is not None and fires in kinds and resolves not in kinds:
            # Alertmanager resolves an alert only when told: without them it would fire on.
            sec.problem("kinds", f'lists "{fires}" but not "{resolves}", which resolves it')
    return AlertmanagerChannel(
        urls=urls,
        timeout=pick(sec.duration("timeout", positive=True), 10.0),
        resend_every=pick(sec.duration("resend_every", minimum=1), 60.0),
        kinds=kinds,
    )
