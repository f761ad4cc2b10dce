"""Configs for in-process tests: one builder for every channel mix, and the email channel that
points at the test's SMTP server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from probed.config import Config, ConfigError, EmailChannel, Monitor, Settings, load_config
from probed.config.channels import ChannelSettings
from probed.config.maintenance import MaintenanceWindow

TOKEN = "s3cret-token"
"""The API token of every config made here."""
DUTYCALL_ENV = {
    "PROBED_API_TOKEN": "token-123",
    "SMTP_PASSWORD": "smtp-pw",
    # apprise's twilio plugin accepts only credentials of the real forms: an account SID of AC
    # and 32 hex digits, an alphanumeric token.
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "twiliotoken123",
    "PAGERDUTY_INTEGRATION_KEY": "pd-integration-key",
    "PAGERDUTY_API_KEY": "pd-api-key",
}
"""Every secret examples/dutycall.toml reads from the environment, with a made-up value."""


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


def load_monitors(
    state_dir: Path, text: str, env: Mapping[str, str] | None = None
) -> list[Monitor]:
    """The monitors of ``text`` written as ``state_dir``/monitors.toml, loaded with ``env``."""
    path = state_dir / "monitors.toml"
    path.write_text(text, encoding="utf-8")
    return list(load_config(path, dict(env or {})).monitors)


def load_problems(state_dir: Path, text: str) -> list[str]:
    """The problems loading ``text`` as ``state_dir``/monitors.toml raises; fails the test if
    it loads."""
    with pytest.raises(ConfigError) as caught:
        load_monitors(state_dir, text)
    return caught.value.problems


def monitor_problem(state_dir: Path, monitor: str, problem: str) -> str:
    """``problem`` as load_config words it for ``monitor``, the first [[monitor]] of
    ``state_dir``/monitors.toml."""
    return f'{state_dir / "monitors.toml"}: monitor "{monitor}" (#1) {problem}'
