"""Prometheus metrics (docs/design.md §7) in a private registry, labelled by monitor only.

The per-monitor families are ``Family`` objects (plain dicts, see ``probed.metric_family``):
at 10,000 monitors prometheus_client's children cost seconds at start-up and per scrape. What
they export is exactly what prometheus_client's Gauge and Counter exported
(tests/test_metrics_family.py compares the two).

Longer than our modules usually are, on purpose: this is the one catalogue of every metric
probed exports (name, help, labels; docs/design.md §7), and scattering it would hide a name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from probed import __version__
from probed.metric_family import Family
from probed.model import AlertKind, CheckResult, HttpFacts, Status, TlsFacts

_C = TypeVar("_C", bound=Collector)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UPTIME_WINDOWS = {"1d": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
"""probed_uptime_ratio's window label values and their lengths in seconds."""
STORE_OPERATIONS = ("check", "state_change", "flush", "outbox", "housekeeping")
"""probed_store_errors_total's operation label values."""
HTTP_KINDS = frozenset({"http", "keyword", "json"})
"""Monitor kinds whose checks make HTTP requests: only they have probe_http_* series."""
HTTP_PHASES = ("resolve", "connect", "tls", "processing", "transfer")
"""probe_http_duration_seconds's phase label values, as blackbox_exporter names them."""


class Metrics:
    """Every metric probed exports; one instance per daemon, passed down from the root."""

    def __init__(self) -> None:
        # blackbox_exporter has no _created series, and they double the series of every
        # counter. The switch is the library's, process-wide; probed has one registry.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
        self.registry = CollectorRegistry(auto_describe=True)
        self._parts: list[Collector] = []
        """Every collector in the registry, in its order: ``render`` writes them in turn."""
        keep = self._keep
        keep(ProcessCollector(registry=None))
        keep(PlatformCollector(registry=None))
        # GCCollector registers itself only where CPython's gc has the statistics: its own
        # registry keeps that decision.
        gc_metrics = CollectorRegistry()
        GCCollector(registry=gc_metrics)
        keep(gc_metrics)
        self.build_info = keep(
            Gauge(
                "probed_build_info",
                "probed version, and the location (vantage point) it checks from",
                ["version", "location"],
                registry=None,
            )
        )
        self.set_location(None)
        m = ["monitor"]
        self.success = keep(Family("probe_success", "1 if the last check succeeded", m))
        self.duration = keep(
            Family("probe_duration_seconds", "Duration of the last check in seconds", m)
        )
        self.http_status = keep(
            Family(
                "probe_http_status_code",
                "HTTP status code of the last check, 0 when no response was read",
                m,
            )
        )
        self.cert_expiry = keep(
            Family(
                "probe_ssl_earliest_cert_expiry",
                "Earliest expiry of the verified certificate chain, in unix seconds",
                m,
            )
        )
        self.dns_lookup = keep(
            Family(
                "probe_dns_lookup_time_seconds",
                "Time the last check of a dns monitor spent on its query, in seconds",
                m,
            )
        )
        self.icmp_duration = keep(
            Family(
                "probe_icmp_duration_seconds",
                "Mean round trip of the last ping check's echo replies, in seconds",
                ["monitor", "phase"],
            )
        )
        self.icmp_hop_limit = keep(
            Family(
                "probe_icmp_reply_hop_limit",
                "Hop limit (TTL) of the last reply of the last ping check, as it arrived",
                m,
            )
        )
        self.icmp_loss = keep(
            Family(
                "probed_icmp_packet_loss_ratio",
                "Share of the last ping check's echo requests that went unanswered",
                m,
            )
        )
        self.status = keep(
            Family(
                "probed_monitor_status",
                "Monitor state: 0 paused, 1 pending, 2 up, 8 seems down, 9 down",
                m,
            )
        )
        self.checks = keep(
            Family("probed_checks", "Checks run, by result", ["monitor", "result"], "counter")
        )
        self.schedule_lag = keep(
            Histogram(
                "probed_schedule_lag_seconds",
                "Delay between a check's scheduled time and its start",
                buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
                registry=None,
            )
        )
        self.loop_lag = keep(
            Histogram(
                "probed_event_loop_lag_seconds",
                "How late the event loop ran a timer (probed.engine.stalls), measured twice a"
                " second",
                buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
                registry=None,
            )
        )
        # Minutes to hours: an acknowledgement within the P0 target (15 min) or P1 (1 h), and
        # the MTTR target of under an hour, fall on bucket bounds.
        incident_buckets = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200)
        self.incident_ack = keep(
            Histogram(
                "probed_incident_ack_seconds",
                "Time from a confirmed DOWN to its incident's acknowledgement",
                ["monitor", "severity"],
                buckets=incident_buckets,
                registry=None,
            )
        )
        self.incident_resolve = keep(
            Histogram(
                "probed_incident_resolve_seconds",
                "Time from an incident's first failed check to its end",
                ["monitor", "severity"],
                buckets=incident_buckets,
                registry=None,
            )
        )
        self.reload_ok = keep(
            Gauge(
                "probed_config_last_reload_successful",
                "1 if the last configuration load succeeded",
                registry=None,
            )
        )
        self.reload_time = keep(
            Gauge(
                "probed_config_last_reload_success_timestamp_seconds",
                "Time of the last successful configuration load, in unix seconds",
                registry=None,
            )
        )
        self.alerts = keep(
            Counter(
                "probed_alerts",
                "Alert deliveries that ended, by channel, kind and outcome",
                ["channel", "kind", "outcome"],
                registry=None,
            )
        )
        self.alert_queue_length = keep(
            Gauge(
                "probed_alert_queue_length",
                "Alerts in the outbox waiting to be delivered, by channel",
                ["channel"],
                registry=None,
            )
        )
        self.alert_oldest_pending = keep(
            Gauge(
                "probed_alert_oldest_pending_seconds",
                "Age of the oldest alert waiting in the outbox, by channel, 0 when none",
                ["channel"],
                registry=None,
            )
        )
        self.uptime = keep(
            Family(
                "probed_uptime_ratio",
                "Share of monitored time the monitor was up, over the window (0-1)",
                ["monitor", "window"],
            )
        )
        self.degraded = keep(
            Family(
                "probed_monitor_degraded",
                "1 while the mean response time of the last 3 good checks is above slow_threshold",
                m,
            )
        )
        self.slo_budget = keep(
            Family(
                "probed_slo_error_budget_remaining_ratio",
                "Share of the 30-day error budget of the monitor's slo left (below 0: overspent)",
                m,
            )
        )
        self.store_errors = keep(
            Counter(
                "probed_store_errors",
                "Writes the state database could not take (disk full, I/O error), by operation",
                ["operation"],
                registry=None,
            )
        )
        self.store_waiting = keep(
            Gauge(
                "probed_store_writes_waiting",
                "Records held in memory until the state database takes writes again",
                registry=None,
            )
        )
        self.store_dropped = keep(
            Counter(
                "probed_store_dropped_checks",
                "Raw check results dropped from the held writes to bound their memory",
                registry=None,
            )
        )
        for operation in STORE_OPERATIONS:
            self.store_errors.labels(operation)
        self.info = keep(
            Family(
                "probed_monitor_info",
                "1 for each configured monitor, with its type, URL (credentials redacted) and"
                " group",
                ["monitor", "type", "url", "group"],
            )
        )
        self.http = HttpGauges(keep)
        self.tls_version = keep(
            Family(
                "probe_tls_version_info",
                "TLS version of the last check's connection",
                ["monitor", "version"],
            )
        )
        self.last_chain_expiry = keep(
            Family(
                "probe_ssl_last_chain_expiry_timestamp_seconds",
                "Earliest expiry of the verified certificate chain of the last check, in unix"
                " seconds",
                m,
            )
        )
        self.domain_expiry = keep(
            Family(
                "probed_domain_expiry_timestamp_seconds",
                "When the registration of the monitor's domain expires (RDAP), in unix seconds",
                m,
            )
        )
        self._info: dict[str, tuple[str, str, str, str]] = {}
        self._tls_version: dict[str, str] = {}
        self._http: set[str] = set()
        """Monitors of kinds that make HTTP requests: only they have probe_http_* series."""
        self._monitors: set[str] = set()
        self._dns: set[str] = set()
        """Monitors of type dns: the only ones whose lookup time is a metric of its own (for
        the others it is part of probe_duration_seconds, as in blackbox_exporter's http)."""
        self._floats: dict[float, str] = {}
        """Formatted values, shared by every render (see ``Family.exposition``)."""

    def _keep(self, collector: _C) -> _C:
        self.registry.register(collector)
        self._parts.append(collector)
        return collector

    def add_monitor(
        self,
        name: str,
        status: Status,
        last: CheckResult | None,
        kind: str = "http",
        *,
        url: str = "",
        group: str = "",
    ) -> None:
        """Create a monitor's series, from its restored state and last stored check if any;
        ``url`` must already be redacted."""
        key = (name,)
        self._monitors.add(name)
        info = (name, kind, url, group)
        if (old := self._info.get(name)) != info:
            if old is not None:  # a reload changed it
                self.info.discard(old)
            self._info[name] = info
            self.info.set(info, 1)
        if kind in HTTP_KINDS:
            self._http.add(name)
        elif name in self._http:  # a reload made it a kind that makes no HTTP request
            self._http.discard(name)
            self.http.remove(name)
            self.http_status.discard(key)
        if kind != "keyword":
            self.http.failed_due_to_regex.discard(key)
        if kind == "dns":
            self._dns.add(name)
        elif name in self._dns:  # a reload made a dns monitor of another kind
            self._dns.discard(name)
            self.dns_lookup.discard(key)
        if kind != "ping":  # a reload made a ping monitor of another kind
            self._drop_icmp(name)
        self.status.set(key, int(status))
        self.checks.ensure((name, "success"))
        self.checks.ensure((name, "failure"))
        if last is not None:
            self._set_result(name, last)

    def remove_monitor(self, name: str) -> None:
        key = (name,)
        self._monitors.discard(name)
        self._dns.discard(name)
        self._http.discard(name)
        self.http.remove(name)
        self._drop_icmp(name)
        if (info := self._info.pop(name, None)) is not None:
            self.info.discard(info)
        if (version := self._tls_version.pop(name, None)) is not None:
            self.tls_version.discard((name, version))
        for family in (
            self.success,
            self.duration,
            self.http_status,
            self.cert_expiry,
            self.dns_lookup,
            self.status,
            self.last_chain_expiry,
            self.degraded,
            self.slo_budget,
            self.domain_expiry,
        ):
            family.discard(key)
        for result in ("success", "failure"):
            self.checks.discard((name, result))
        for window in UPTIME_WINDOWS:
            self.uptime.discard((name, window))

    def observe_check(self, name: str, result: CheckResult, status: Status) -> None:
        if name not in self._monitors:
            return  # removed by a reload while its check was running
        self.checks.inc((name, "success" if result.ok else "failure"))
        self._set_result(name, result)
        self.status.set((name,), int(status))

    def set_status(self, name: str, status: Status) -> None:
        if name in self._monitors:
            self.status.set((name,), int(status))

    def set_degraded(self, name: str, degraded: bool) -> None:
        if name in self._monitors:
            self.degraded.set((name,), int(degraded))

    def set_slo_budget(self, name: str, ratio: float | None) -> None:
        """The error budget left of a monitor with an slo; None (no slo) drops the series."""
        if name not in self._monitors:
            return
        if ratio is None:
            self.slo_budget.discard((name,))
        else:
            self.slo_budget.set((name,), ratio)

    def set_domain_expiry(self, name: str, expires: float | None) -> None:
        """When the monitor's domain expires, in unix seconds; None (unknown) drops it."""
        if name not in self._monitors:
            return
        if expires is None:
            self.domain_expiry.discard((name,))
        else:
            self.domain_expiry.set((name,), expires)

    def has_uptime(self, name: str) -> bool:
        """Whether the monitor has its probed_uptime_ratio series (set together, every window)."""
        return (name, next(iter(UPTIME_WINDOWS))) in self.uptime.values

    def set_uptime(self, name: str, window: str, ratio: float | None) -> None:
        """A monitor's uptime over one of UPTIME_WINDOWS; None (nothing monitored) drops it."""
        if name not in self._monitors:
            return
        if ratio is None:
            self.uptime.discard((name, window))
        else:
            self.uptime.set((name, window), ratio)

    def _set_result(self, name: str, result: CheckResult) -> None:
        # A monitor has these series from its first result: made earlier, probe_success 0
        # would be said of a monitor never checked.
        key = (name,)
        self.success.set(key, 1 if result.ok else 0)
        self.duration.set(key, result.duration)
        if name in self._http:
            self.http_status.set(key, result.status_code or 0)
            if result.http is not None:
                self.http.set(name, result.http)
        if result.cert_expires_at is not None:
            self.cert_expiry.set(key, result.cert_expires_at.timestamp())
        if result.tls is not None:
            self._set_tls(name, result.tls)
        if name in self._dns and result.timings.dns is not None:
            self.dns_lookup.set(key, result.timings.dns)
        if (icmp := result.icmp) is not None:
            self.icmp_loss.set(key, icmp.loss)
            if icmp.rtt is None:  # nothing came back: no round trip to tell
                self.icmp_duration.discard((name, "rtt"))
            else:
                self.icmp_duration.set((name, "rtt"), icmp.rtt)
            if icmp.hop_limit is None:
                self.icmp_hop_limit.discard(key)
            else:
                self.icmp_hop_limit.set(key, icmp.hop_limit)

    def _drop_icmp(self, name: str) -> None:
        self.icmp_loss.discard((name,))
        self.icmp_hop_limit.discard((name,))
        self.icmp_duration.discard((name, "rtt"))

    def _set_tls(self, name: str, tls: TlsFacts) -> None:
        if (old := self._tls_version.get(name)) != tls.version:
            if old is not None:
                self.tls_version.discard((name, old))
            self._tls_version[name] = tls.version
            self.tls_version.set((name, tls.version), 1)
        if tls.last_chain_expires_at is not None:
            self.last_chain_expiry.set((name,), tls.last_chain_expires_at.timestamp())

    def set_location(self, location: str | None) -> None:
        """Label ``probed_build_info`` with ``[probed] location`` ("" when unset, which
        Prometheus reads as no label)."""
        self.build_info.clear()
        self.build_info.labels(__version__, location or "").set(1)

    def add_alert_channel(self, channel: str) -> None:
        """Create a channel's alert counters at 0, every kind and outcome, so rates work from
        the first alert."""
        for kind in AlertKind:
            for outcome in ("sent", "failed"):
                self.alerts.labels(channel, kind, outcome)
        self.alert_queue_length.labels(channel)
        self.alert_oldest_pending.labels(channel)

    def alert_outcome(self, channel: str, kind: str, outcome: str) -> None:
        self.alerts.labels(channel, kind, outcome).inc()

    def alert_queue(self, channel: str, length: int, oldest_seconds: float) -> None:
        self.alert_queue_length.labels(channel).set(length)
        self.alert_oldest_pending.labels(channel).set(oldest_seconds)

    def store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def config_loaded(self, ok: bool, at: float) -> None:
        self.reload_ok.set(1 if ok else 0)
        if ok:
            self.reload_time.set(at)

    def render(self) -> bytes:
        """The text format of every metric, as ``generate_latest(self.registry)`` gives it."""
        floats = self._floats
        return b"".join(
            part.exposition(floats).encode() if isinstance(part, Family) else generate_latest(part)
            for part in self._parts
        )


class HttpGauges:
    """blackbox_exporter's probe_http_* gauges of the last check of monitors that make HTTP
    requests."""

    def __init__(self, keep: Callable[[Family], Family]) -> None:
        m = ["monitor"]
        self.duration = keep(
            Family(
                "probe_http_duration_seconds",
                "Duration of the last check's HTTP requests by phase, summed over all redirects",
                ["monitor", "phase"],
            )
        )
        self.redirects = keep(
            Family("probe_http_redirects", "The number of redirects of the last check", m)
        )
        self.version = keep(
            Family("probe_http_version", "HTTP version of the last check's response (1.0, 1.1)", m)
        )
        self.content_length = keep(
            Family(
                "probe_http_content_length",
                "Content-Length of the last check's response, -1 when unknown",
                m,
            )
        )
        self.failed_due_to_regex = keep(
            Family(
                "probe_failed_due_to_regex",
                "1 if the last check of a keyword monitor failed on its keyword",
                m,
            )
        )

    def set(self, name: str, facts: HttpFacts) -> None:
        key = (name,)
        duration = self.duration
        duration.set((name, "resolve"), facts.resolve)
        duration.set((name, "connect"), facts.connect)
        duration.set((name, "tls"), facts.tls)
        duration.set((name, "processing"), facts.processing)
        duration.set((name, "transfer"), facts.transfer)
        self.redirects.set(key, facts.redirects)
        self.version.set(key, facts.version)
        self.content_length.set(key, facts.content_length)
        if facts.failed_due_to_keyword is not None:
            self.failed_due_to_regex.set(key, 1 if facts.failed_due_to_keyword else 0)

    def remove(self, name: str) -> None:
        key = (name,)
        for phase in HTTP_PHASES:
            self.duration.discard((name, phase))
        for family in (self.redirects, self.version, self.content_length):
            family.discard(key)
        self.failed_due_to_regex.discard(key)
