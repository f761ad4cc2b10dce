"""Prometheus metrics (DESIGN §7) in a private registry, labelled by monitor only."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from probed import __version__
from probed.model import CheckResult, Status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UPTIME_WINDOWS = {"1d": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
"""probed_uptime_ratio's window label values and their lengths in seconds."""
STORE_OPERATIONS = ("check", "state_change", "flush", "outbox", "housekeeping")
"""probed_store_errors_total's operation label values."""


@dataclass(frozen=True, slots=True)
class _Series:
    success: Gauge
    duration: Gauge
    http_status: Gauge
    status: Gauge
    succeeded: Counter
    failed: Counter


class Metrics:
    """Every metric probed exports; one instance per daemon, passed down from the root."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        Gauge("probed_build_info", "probed version", ["version"], registry=r).labels(
            __version__
        ).set(1)
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
            "probed_alert_queue_length", "Alerts in the outbox waiting to be delivered", registry=r
        )
        self.alert_oldest_pending = Gauge(
            "probed_alert_oldest_pending_seconds",
            "Age of the oldest alert waiting in the outbox, 0 when none",
            registry=r,
        )
        self.uptime = Gauge(
            "probed_uptime_ratio",
            "Share of monitored time the monitor was up, over the window (0-1)",
            ["monitor", "window"],
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
        self._per_monitor = (
            *(self.success, self.duration, self.http_status, self.cert_expiry),
            self.dns_lookup,
        )
        self._monitors: set[str] = set()
        self._series: dict[str, _Series] = {}
        """Each monitor's per-check series: ``labels()`` locks and looks up on every call, five
        times per check."""
        self._dns: set[str] = set()
        """Monitors of type dns: the only ones whose lookup time is a metric of its own (for
        the others it is part of probe_duration_seconds, as in blackbox_exporter's http)."""

    def add_monitor(
        self, name: str, status: Status, last: CheckResult | None, kind: str = "http"
    ) -> None:
        """Create a monitor's series, from its restored state and last stored check if any."""
        self._monitors.add(name)
        if kind == "dns":
            self._dns.add(name)
        elif name in self._dns:  # a reload made a dns monitor of another kind
            self._dns.discard(name)
            with contextlib.suppress(KeyError):
                self.dns_lookup.remove(name)
        self.status.labels(name).set(int(status))
        self._series[name] = _Series(
            self.success.labels(name),
            self.duration.labels(name),
            self.http_status.labels(name),
            self.status.labels(name),
            self.checks.labels(name, "success"),
            self.checks.labels(name, "failure"),
        )
        if last is not None:
            self._set_result(name, last)

    def remove_monitor(self, name: str) -> None:
        self._monitors.discard(name)
        self._series.pop(name, None)
        self._dns.discard(name)
        for gauge in (*self._per_monitor, self.status):
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
        series = self._series[name]
        series.success.set(1 if result.ok else 0)
        series.duration.set(result.duration)
        series.http_status.set(result.status_code or 0)
        if result.cert_expires_at is not None:
            self.cert_expiry.labels(name).set(result.cert_expires_at.timestamp())
        if name in self._dns and result.timings.dns is not None:
            self.dns_lookup.labels(name).set(result.timings.dns)

    def add_alert_channel(self, channel: str) -> None:
        """Create a channel's alert counters at 0, so rates work from the first alert."""
        for kind in ("down", "up", "ssl", "reminder", "digest", "test"):
            for outcome in ("sent", "failed"):
                self.alerts.labels(channel, kind, outcome)

    def alert_outcome(self, channel: str, kind: str, outcome: str) -> None:
        self.alerts.labels(channel, kind, outcome).inc()

    def alert_queue(self, length: int, oldest_seconds: float) -> None:
        self.alert_queue_length.set(length)
        self.alert_oldest_pending.set(oldest_seconds)

    def store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def config_loaded(self, ok: bool, at: float) -> None:
        self.reload_ok.set(1 if ok else 0)
        if ok:
            self.reload_time.set(at)

    def render(self) -> bytes:
        return generate_latest(self.registry)
