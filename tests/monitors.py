"""Monitors for tests, written the way monitors.toml writes them: one flat set of keys."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from probed.config import KINDS, Monitor

COMMON = frozenset(f.name for f in fields(Monitor)) - {"check"}


def make_monitor(
    kind: str = "http", url: str = "https://target.example.test/", **settings: Any
) -> Monitor:
    """A monitor of ``kind``: each setting goes to the Monitor or to its check, by name, as the
    config reader places keys (a key neither has is a TypeError). ``name`` defaults to target."""
    own = {k: v for k, v in settings.items() if k not in COMMON}
    common = {k: v for k, v in settings.items() if k in COMMON}
    common.setdefault("name", "target")
    return Monitor(url=url, check=KINDS[kind].check(**own), **common)
