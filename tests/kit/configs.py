"""Configs for in-process tests: one builder for every channel mix, and the email channel that
points at the test's SMTP server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from probed.config import Config, EmailChannel, Monitor, Settings
from probed.config.channels import ChannelSettings
from probed.config.maintenance import MaintenanceWindow

TOKEN = "s3cret-token"
"""The API token of every config made here."""


def email_channel(port: int, **overrides: object) -> EmailChannel:
    base = EmailChannel(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="probed <probed@example.test>",
        to=("oncall@example.test",),
        timeout=5.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def make_config(
    state_dir: Path,
    monitors: Sequence[Monitor],
    email: EmailChannel | None = None,
    alerts: Mapping[str, ChannelSettings] | None = None,
    windows: Sequence[MaintenanceWindow] = (),
    **settings: object,
) -> Config:
    """A config in ``state_dir`` with ``alerts`` as [alerts.NAME] tables; monitors without
    ``alert`` use every channel. ``settings`` override [settings] keys (api_token is TOKEN)."""
    names = (("email",) if email else ()) + tuple(alerts or {})
    base = Settings(state_dir=state_dir, api_token=TOKEN)
    return Config(
        path=state_dir / "monitors.toml",
        settings=replace(base, **settings),  # type: ignore[arg-type]
        monitors=tuple(replace(m, alert=names) if not m.alert else m for m in monitors),
        maintenance=tuple(windows),
        alerts=((("email", email),) if email else ()) + tuple((alerts or {}).items()),
    )
