"""Prometheus metrics (DESIGN §7) in a private registry, labelled by monitor only."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

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

from probed import __version__
from probed.model import CheckResult, HttpFacts, Status, TlsFacts

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UPTIME_WINDOWS = {"1d": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
"""probed_uptime_ratio's window label values and their lengths in seconds."""
STORE_OPERATIONS = ("check", "state_change", "flush", "outbox", "housekeeping")
"""probed_store_errors_total's operation label values."""
HTTP_KINDS = frozenset({"http", "keyword", "json"})
"""Monitor kinds whose checks make HTTP requests: only they have probe_http_* series."""
HTTP_PHASES = ("resolve", "connect", "tls", "processing", "transfer")
"""probe_http_duration_seconds's phase label values, as blackbox_exporter names them."""


@dataclass(frozen=True, slots=True)
class _Series:
    status: Gauge
    succeeded: Counter
    failed: Counter


@dataclass(frozen=True, slots=True)
class _Result:
    """A monitor's last-check gauges, made with its first result: a series made earlier would
    say probe_success 0 about a monitor never checked."""

    success: Gauge
    duration: Gauge
    http_status: Gauge | None
    """Only for kinds that make an HTTP request."""


class Metrics:
    """Every metric probed exports; one instance per daemon, passed down from the root."""

    def __init__(self) -> None:
        # blackbox_exporter has no _created series, and they double the series of every
        # counter. The switch is the library's, process-wide; probed has one registry.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
        self.registry = r = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.build_info = Gauge(
            "probed_build_info",
            "probed version, and the location (vantage point) it checks from",
            ["version", "location"],
            registry=r,
        )
        self.set_location(None)
        m = ["monitor"]
        self.success = Gauge("probe_success", "1 if the last check succeeded", m, registry=r)
        self.duration = Gauge(
            "probe_duration_seconds", "Duration of the last check in seconds", m, registry=r
        )
        self.http_status = Gauge(
            "probe_http_status_code",
            "HTTP status code of the last check, 0 when no response was read",
            m,
            registry=r,
        )
        self.cert_expiry = Gauge(
            "probe_ssl_earliest_cert_expiry",
            "Earliest expiry of the verified certificate chain, in unix seconds",
            m,
            registry=r,
        )
        self.dns_lookup = Gauge(
            "probe_dns_lookup_time_seconds",
            "Time the last check of a dns monitor spent on its query, in seconds",
            m,
            registry=r,
        )
        self.status = Gauge(
            "probed_monitor_status",
            "Monitor state: 0 paused, 1 pending, 2 up, 8 seems down, 9 down",
            m,
            registry=r,
        )
        self.checks = Counter(
            "probed_checks", "Checks run, by result", ["monitor", "result"], registry=r
        )
        self.schedule_lag = Histogram(
            "probed_schedule_lag_seconds",
            "Delay between a check's scheduled time and its start",
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.reload_ok = Gauge(
            "probed_config_last_reload_successful",
            "1 if the last configuration load succeeded",
            registry=r,
        )
        self.reload_time = Gauge(
            "probed_config_last_reload_success_timestamp_seconds",
            "Time of the last successful configuration load, in unix seconds",
            registry=r,
        )
        self.alerts = Counter(
            "probed_alerts",
            "Alert deliveries that ended, by channel, kind and outcome",
            ["channel", "kind", "outcome"],
            registry=r,
        )
        self.alert_queue_length = Gauge(
            "probed_alert_queue_length",
            "Alerts in the outbox waiting to be delivered, by channel",
            ["channel"],
            registry=r,
        )
        self.alert_oldest_pending = Gauge(
            "probed_alert_oldest_pending_seconds",
            "Age of the oldest alert waiting in the outbox, by channel, 0 when none",
            ["channel"],
            registry=r,
        )
        self.uptime = Gauge(
            "probed_uptime_ratio",
            "Share of monitored time the monitor was up, over the window (0-1)",
            ["monitor", "window"],
            registry=r,
        )
        self.degraded = Gauge(
            "probed_monitor_degraded",
            "1 while the mean response time of the last 3 good checks is above slow_threshold",
            m,
            registry=r,
        )
        self.slo_budget = Gauge(
            "probed_slo_error_budget_remaining_ratio",
            "Share of the 30-day error budget of the monitor's slo left (below 0: overspent)",
            m,
            registry=r,
        )
        self.store_errors = Counter(
            "probed_store_errors",
            "Writes the state database could not take (disk full, I/O error), by operation",
            ["operation"],
            registry=r,
        )
        self.store_waiting = Gauge(
            "probed_store_writes_waiting",
            "Records held in memory until the state database takes writes again",
            registry=r,
        )
        self.store_dropped = Counter(
            "probed_store_dropped_checks",
            "Raw check results dropped from the held writes to bound their memory",
            registry=r,
        )
        for operation in STORE_OPERATIONS:
            self.store_errors.labels(operation)
        self.info = Gauge(
            "probed_monitor_info",
            "1 for each configured monitor, with its type, URL (credentials redacted) and group",
            ["monitor", "type", "url", "group"],
            registry=r,
        )
        self.http = HttpGauges(r)
        self.tls_version = Gauge(
            "probe_tls_version_info",
            "TLS version of the last check's connection",
            ["monitor", "version"],
            registry=r,
        )
        self.last_chain_expiry = Gauge(
            "probe_ssl_last_chain_expiry_timestamp_seconds",
            "Earliest expiry of the verified certificate chain of the last check, in unix seconds",
            m,
            registry=r,
        )
        self._info: dict[str, tuple[str, str, str, str]] = {}
        self._tls_version: dict[str, str] = {}
        self._last_chain: dict[str, Gauge] = {}
        """Label children made once per monitor: a check then costs only the set."""
        self._http: set[str] = set()
        self._per_monitor = (
            *(self.success, self.duration, self.http_status, self.cert_expiry),
            self.dns_lookup,
        )
        self._monitors: set[str] = set()
        self._series: dict[str, _Series] = {}
        self._results: dict[str, _Result] = {}
        """Each monitor's per-check series: ``labels()`` locks and looks up on every call, five
        times per check."""
        self._dns: set[str] = set()
        """Monitors of type dns: the only ones whose lookup time is a metric of its own (for
        the others it is part of probe_duration_seconds, as in blackbox_exporter's http)."""

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
        self._monitors.add(name)
        info = (name, kind, url, group)
        if (old := self._info.get(name)) != info:
            if old is not None:  # a reload changed it
                self.info.remove(*old)
            self._info[name] = info
            self.info.labels(*info).set(1)
        if kind in HTTP_KINDS:
            self._http.add(name)
        elif name in self._http:  # a reload made it a kind that makes no HTTP request
            self._http.discard(name)
            self.http.remove(name)
            with contextlib.suppress(KeyError):
                self.http_status.remove(name)
        if kind != "keyword":
            with contextlib.suppress(KeyError):
                self.http.failed_due_to_regex.remove(name)
        if kind == "dns":
            self._dns.add(name)
        elif name in self._dns:  # a reload made a dns monitor of another kind
            self._dns.discard(name)
            with contextlib.suppress(KeyError):
                self.dns_lookup.remove(name)
        self.status.labels(name).set(int(status))
        self._series[name] = _Series(
            self.status.labels(name),
            self.checks.labels(name, "success"),
            self.checks.labels(name, "failure"),
        )
        self._results.pop(name, None)  # a reload may have changed its kind
        if last is not None:
            self._set_result(name, last)

    def remove_monitor(self, name: str) -> None:
        self._monitors.discard(name)
        self._series.pop(name, None)
        self._results.pop(name, None)
        self._dns.discard(name)
        self._http.discard(name)
        self.http.remove(name)
        if (info := self._info.pop(name, None)) is not None:
            self.info.remove(*info)
        if (version := self._tls_version.pop(name, None)) is not None:
            self.tls_version.remove(name, version)
        self._last_chain.pop(name, None)
        for gauge in (
            *self._per_monitor,
            self.status,
            self.last_chain_expiry,
            self.degraded,
            self.slo_budget,
        ):
            with contextlib.suppress(KeyError):  # never had a result
                gauge.remove(name)
        for result in ("success", "failure"):
            with contextlib.suppress(KeyError):
                self.checks.remove(name, result)
        for window in UPTIME_WINDOWS:
            with contextlib.suppress(KeyError):
                self.uptime.remove(name, window)

    def observe_check(self, name: str, result: CheckResult, status: Status) -> None:
        series = self._series.get(name)
        if series is None:
            return  # removed by a reload while its check was running
        (series.succeeded if result.ok else series.failed).inc()
        self._set_result(name, result)
        series.status.set(int(status))

    def set_status(self, name: str, status: Status) -> None:
        if name in self._monitors:
            self.status.labels(name).set(int(status))

    def set_degraded(self, name: str, degraded: bool) -> None:
        if name in self._monitors:
            self.degraded.labels(name).set(int(degraded))

    def set_slo_budget(self, name: str, ratio: float | None) -> None:
        """The error budget left of a monitor with an slo; None (no slo) drops the series."""
        if name not in self._monitors:
            return
        if ratio is None:
            with contextlib.suppress(KeyError):
                self.slo_budget.remove(name)
        else:
            self.slo_budget.labels(name).set(ratio)

    def set_uptime(self, name: str, window: str, ratio: float | None) -> None:
        """A monitor's uptime over one of UPTIME_WINDOWS; None (nothing monitored) drops it."""
        if name not in self._monitors:
            return
        if ratio is None:
            with contextlib.suppress(KeyError):
                self.uptime.remove(name, window)
        else:
            self.uptime.labels(name, window).set(ratio)

    def _set_result(self, name: str, result: CheckResult) -> None:
        series = self._results.get(name)
        if series is None:
            http = self.http_status.labels(name) if name in self._http else None
            series = self._results[name] = _Result(
                self.success.labels(name), self.duration.labels(name), http
            )
        series.success.set(1 if result.ok else 0)
        series.duration.set(result.duration)
        if series.http_status is not None:
            series.http_status.set(result.status_code or 0)
            if result.http is not None:
                self.http.set(name, result.http)
        if result.cert_expires_at is not None:
            self.cert_expiry.labels(name).set(result.cert_expires_at.timestamp())
        if result.tls is not None:
            self._set_tls(name, result.tls)
        if name in self._dns and result.timings.dns is not None:
            self.dns_lookup.labels(name).set(result.timings.dns)

    def _set_tls(self, name: str, tls: TlsFacts) -> None:
        if (old := self._tls_version.get(name)) != tls.version:
            if old is not None:
                self.tls_version.remove(name, old)
            self._tls_version[name] = tls.version
            self.tls_version.labels(name, tls.version).set(1)
        if tls.last_chain_expires_at is not None:
            if (child := self._last_chain.get(name)) is None:
                child = self._last_chain[name] = self.last_chain_expiry.labels(name)
            child.set(tls.last_chain_expires_at.timestamp())

    def set_location(self, location: str | None) -> None:
        """Label ``probed_build_info`` with ``[probed] location`` ("" when unset, which
        Prometheus reads as no label)."""
        self.build_info.clear()
        self.build_info.labels(__version__, location or "").set(1)

    def add_alert_channel(self, channel: str) -> None:
        """Create a channel's alert counters at 0, so rates work from the first alert."""
        for kind in ("down", "up", "ssl", "reminder", "digest", "test"):
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
        return generate_latest(self.registry)


class HttpGauges:
    """blackbox_exporter's probe_http_* gauges of the last check of monitors that make HTTP
    requests. A monitor's label children are made once, so a check costs only the sets."""

    def __init__(self, r: CollectorRegistry) -> None:
        m = ["monitor"]
        self.duration = Gauge(
            "probe_http_duration_seconds",
            "Duration of the last check's HTTP requests by phase, summed over all redirects",
            ["monitor", "phase"],
            registry=r,
        )
        self.redirects = Gauge(
            "probe_http_redirects", "The number of redirects of the last check", m, registry=r
        )
        self.version = Gauge(
            "probe_http_version",
            "HTTP version of the last check's response (1.0, 1.1)",
            m,
            registry=r,
        )
        self.content_length = Gauge(
            "probe_http_content_length",
            "Content-Length of the last check's response, -1 when unknown",
            m,
            registry=r,
        )
        self.failed_due_to_regex = Gauge(
            "probe_failed_due_to_regex",
            "1 if the last check of a keyword monitor failed on its keyword",
            m,
            registry=r,
        )
        self._children: dict[str, tuple[Gauge, ...]] = {}

    def set(self, name: str, facts: HttpFacts) -> None:
        children = self._children.get(name)
        if children is None:
            children = self._children[name] = (
                *(self.duration.labels(name, phase) for phase in HTTP_PHASES),
                self.redirects.labels(name),
                self.version.labels(name),
                self.content_length.labels(name),
            )
        resolve, connect, tls, processing, transfer, redirects, version, length = children
        resolve.set(facts.resolve)
        connect.set(facts.connect)
        tls.set(facts.tls)
        processing.set(facts.processing)
        transfer.set(facts.transfer)
        redirects.set(facts.redirects)
        version.set(facts.version)
        length.set(facts.content_length)
        if facts.failed_due_to_keyword is not None:
            self.failed_due_to_regex.labels(name).set(1 if facts.failed_due_to_keyword else 0)

    def remove(self, name: str) -> None:
        if self._children.pop(name, None) is None:
            return
        for phase in HTTP_PHASES:
            self.duration.remove(name, phase)
        for gauge in (self.redirects, self.version, self.content_length):
            gauge.remove(name)
        with contextlib.suppress(KeyError):
            self.failed_due_to_regex.remove(name)
