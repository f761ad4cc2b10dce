"""The validated configuration: frozen dataclasses that describe monitors.toml (docs/design.md §2).

Config types describe input; runtime state lives in the engine. Durations are in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from probed.config.channels import ChannelSettings, EmailChannel
from probed.config.http import HttpCheck
from probed.config.kinds import Check as Check  # re-exported: its home before the registry
from probed.config.kinds import inbound
from probed.config.mail import MailCheck, implicit_tls
from probed.config.maintenance import MaintenanceWindow
from probed.config.oncall import EscalationStep
from probed.config.push import HIDDEN_PATH
from probed.config.report import ReportSettings
from probed.config.shard import Shard
from probed.config.status_page import StatusPage
from probed.config.subscriptions import Subscriptions
from probed.config.tcp import TcpCheck
from probed.evidence import EVIDENCE_BYTES
from probed.model import Policy
from probed.redact import redact

DEFAULT_LISTEN = "127.0.0.1:9925"


@dataclass(frozen=True, slots=True)
class Monitor:
    """One [[monitor]] table with the defaults applied: what every kind shares, and its check.

    Durations are in seconds.
    """

    name: str
    url: str
    # Frozen, so one shared default instance is as safe as a shared tuple.
    check: Check = HttpCheck()  # noqa: RUF009
    interval: float = 300.0
    timeout: float = 30.0
    down_after: int = 3
    retry_interval: float = 30.0
    up_after: int = 1
    remind_every: float = 0.0
    alert: tuple[str, ...] = ()
    verify_tls: bool = True
    """Applies wherever a kind talks TLS: http and keyword to https targets, ssl for the
    handshake it judges, tcp with ``tls = true``."""
    ca_file: str | None = None
    paused: bool = False
    public: bool = True
    id: int | None = None
    group: str | None = None
    """The status page section it is listed under (None: the page's ungrouped section)."""
    slo: float | None = None
    """30-day uptime objective as 0–1 (``slo = "99.9%"`` is 0.999)."""
    slow_threshold: float | None = None
    """Seconds: above this mean response time (last 3 good checks) the monitor is degraded."""
    source_address: str | None = None
    """Local IP address the check's connections (and DNS queries) are sent from; None: the
    system's choice."""
    severity: str = "warning"
    """Free text every channel passes on (e.g. "critical" routes to SMS)."""
    tags: tuple[tuple[str, str], ...] = ()
    """Labels for channels (webhook ``tags``, Alertmanager labels), sorted by name."""
    runbook: str | None = None
    """An http(s) URL: in every alert, on the incident, in the post-mortem."""
    escalate: tuple[EscalationStep, ...] = ()
    """Steps in increasing ``after`` order (docs/design.md §17)."""
    evidence_bytes: int = EVIDENCE_BYTES
    """Body bytes a failed check keeps as evidence (at most 64 KiB)."""
    domain_expiry_days: int | None = None
    """Warn when the registration of the URL's registrable domain has fewer days left
    (RDAP, docs/design.md §19.2); None: its expiry is not watched."""

    @property
    def type(self) -> str:
        """The kind's name, as ``type`` in monitors.toml, the API and alert payloads."""
        return self.check.kind

    @property
    def policy(self) -> Policy:
        return Policy(self.down_after, self.up_after, self.slow_threshold)

    @property
    def display_url(self) -> str:
        """The URL as people and clients see it: a password or token in it shown as ``***``
        (a push monitor's: its path, ``/push/***``)."""
        if inbound(self.check) is not None:
            return HIDDEN_PATH
        return redact(self.url)

    @property
    def sees_certificates(self) -> bool:
        """Whether its checks meet a certificate (https URLs, tcp with ``tls``, mail over TLS):
        then a check that saw none (it failed first) leaves the last recorded expiry standing."""
        check = self.check
        return (
            self.url.startswith("https:")
            or (isinstance(check, TcpCheck) and check.tls)
            or (isinstance(check, MailCheck) and (check.starttls or implicit_tls(check, self.url)))
        )

    @property
    def check_key(self) -> tuple[object, ...]:
        """What the check itself is: when this changes on reload, past state no longer applies."""
        return (self.type, self.url, *self.check.key)


@dataclass(frozen=True, slots=True)
class Settings:
    """[probed]: daemon settings."""

    listen: str = DEFAULT_LISTEN
    state_dir: Path = Path("/var/lib/probed")
    api_token: str | None = field(default=None, repr=False)
    status_page_title: str = "probed status"
    status_page_show_urls: bool = False
    """Show monitors' URLs (credentials redacted) on the public status page and its JSON."""
    public_listen: str | None = None
    """A second listener serving only the public surface (status page, status JSON, badges)."""
    max_concurrent_checks: int = 512
    """Global cap on checks running at the same time. A check holds its slot (and a file
    descriptor) until it ends: at 64, 250 hanging or slow targets with a 10 s timeout held every
    slot and healthy monitors' checks ran seconds late. 512 slots and the listener's 256
    connections still fit in the 1,024 descriptors a process gets by default."""
    shutdown_grace: float = 10.0
    """Seconds SIGTERM waits for in-flight checks and the outbox before exiting anyway."""
    alert_max_age: float = 86400.0
    """Seconds an undeliverable alert is retried before it is given up (loudly)."""
    storm_threshold: int = 3
    """Alerts of one kind sent singly within ``storm_window``; the rest go into one digest."""
    storm_window: float = 60.0
    connectivity_check: tuple[str, ...] = ()
    """``host:port`` addresses; a failed check counts only if one of them accepts a connection."""
    raw_retention: float = 24 * 3600.0
    """Seconds every check result is kept before only its hourly roll-up remains."""
    history_retention: float = 400 * 86400.0
    """Seconds hourly roll-ups, transitions and incidents are kept."""
    location: str | None = None
    """The vantage point's name (``[probed] location``, else $PROBED_LOCATION): labels alerts
    and ``probed_build_info``."""
    shard: Shard | None = None
    """Check only the monitors this shard owns (docs/design.md §10); None: every monitor."""
    rdap_bootstrap: str | None = None
    """A URL or file in IANA's RDAP bootstrap format (``dns.json``) read instead of the copy
    shipped with probed, at most daily; None: the shipped copy."""
    external_url: str | None = None
    """The base URL people reach probed's API on (``https://probed.example.com``): incident
    and acknowledgement links are built on it; None: alerts carry no links."""
    sentry_dsn: str | None = field(default=None, repr=False)
    """Where probed's own errors go, docs/design.md §19.5 (``[probed] sentry_dsn``, else
    $SENTRY_DSN)."""

    @property
    def listen_host(self) -> str:
        host, _, _ = self.listen.rpartition(":")
        return host.strip("[]")

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    settings: Settings
    monitors: tuple[Monitor, ...]
    maintenance: tuple[MaintenanceWindow, ...] = ()
    alerts: tuple[tuple[str, ChannelSettings], ...] = ()
    """Every [alerts.NAME] table, by name, in file order; [alerts.email] among them."""
    status_page: StatusPage = field(default_factory=StatusPage)
    report: ReportSettings | None = None
    """[report]: the periodic monitoring report (docs/design.md §18.6); None without one."""
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
    """[subscriptions]: webhook subscribers of the status page's news."""

    def monitor(self, name: str) -> Monitor | None:
        return next((m for m in self.monitors if m.name == name), None)

    def in_shard(self) -> Config:
        """This instance's share: the same config with only the monitors its shard owns.

        A monitor outside the shard is not checked, exported or alerted here; the daemon runs
        this share, while ``probed check`` reports it.
        """
        shard = self.settings.shard
        if shard is None:
            return self
        return replace(self, monitors=tuple(m for m in self.monitors if shard.owns(m.name)))

    @property
    def email(self) -> EmailChannel | None:
        """[alerts.email] when it is an email channel (its sender's domain names the
        Message-IDs of every channel's alerts)."""
        settings = dict(self.alerts).get("email")
        return settings if isinstance(settings, EmailChannel) else None

    @property
    def channel_settings(self) -> dict[str, ChannelSettings]:
        """Every alert channel by the name monitors use in ``alert``."""
        return dict(self.alerts)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.channel_settings)


def default_state_dir(env: Mapping[str, str]) -> Path:
    """$STATE_DIRECTORY (systemd's StateDirectory=), else $XDG_STATE_HOME/probed, else
    ~/.local/state/probed."""
    # systemd joins several StateDirectory= entries with ":"; ours is listed first.
    if state_directory := env.get("STATE_DIRECTORY", "").split(":")[0]:
        return Path(state_directory)
    # The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
    if (xdg := env.get("XDG_STATE_HOME", "")) and Path(xdg).is_absolute():
        return Path(xdg) / "probed"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".local" / "state" / "probed"
