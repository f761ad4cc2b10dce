"""The one monitor builder, writing a monitor the way monitors.toml does: one flat set of keys."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from probed.config import KINDS, Monitor

COMMON = frozenset(f.name for f in fields(Monitor)) - {"check"}


def make_monitor(name: str = "target", kind: str = "http", **settings: Any) -> Monitor:
    """A monitor of ``kind``: each setting goes to the Monitor or to its check, by name, as the
    config reader places keys (a key neither has is a TypeError); ``url`` defaults to
    https://NAME.example.test/health."""
    own = {k: v for k, v in settings.items() if k not in COMMON}
    common = {k: v for k, v in settings.items() if k in COMMON}
    common.setdefault("url", f"https://{name}.example.test/health")
    return Monitor(name=name, check=KINDS[kind].check(**own), **common)
