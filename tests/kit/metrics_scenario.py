"""A deterministic life of probed's metrics (every ``Metrics`` method, reloads that change a
monitor's kind and URL, removals and re-adds): the exposition it leaves is compared with the one
prometheus_client's own classes left (tests/data/metrics_scenario.txt) and with
``generate_latest`` of the same registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from probed.metrics import Metrics
from probed.model import CheckResult, HttpFacts, Status, Timings, TlsFacts

KINDS = ("http", "keyword", "ssl", "tcp", "json", "dns", "push")
T0 = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
VOLATILE = ("process_", "python_", "probed_build_info")
"""Families whose values depend on the process or the release, not on the scenario."""


def name(i: int) -> str:
    # Label values that need escaping, and one that is not ASCII.
    special = {3: 'quote " and \\ back', 5: "ünïcode ✓", 8: "new\\nline"}
    return special.get(i, f"m{i}")


def result(i: int, step: int, kind: str) -> CheckResult:
    ok = (i + step) % 4 != 0
    http = None
    if kind in ("http", "keyword", "json"):
        http = HttpFacts(
            resolve=0.001 * i,
            connect=0.0001 * (i + 1),
            tls=0.0 if i % 2 else 0.0123,
            processing=1e-05 * step,
            transfer=0.5,
            redirects=i % 3,
            version=1.1 if i % 5 else 1.0,
            content_length=-1 if i % 3 else 1234 * i,
            failed_due_to_keyword=(not ok) if kind == "keyword" else None,
        )
    tls = None
    if kind in ("ssl", "http") and i % 2 == 0:
        chain = T0 + timedelta(days=30 + i) if i % 4 == 0 else None
        tls = TlsFacts(version="TLS 1.3" if step % 2 else "TLS 1.2", last_chain_expires_at=chain)
    return CheckResult(
        ok=ok,
        reason="HTTP 200" if ok else "connection refused",
        at=T0 + timedelta(seconds=60 * step + i),
        timings=Timings(dns=0.002 * i if kind == "dns" else None, total=0.1 * i + 0.001 * step),
        status_code=200 + i if http is not None and ok else None,
        cert_expires_at=T0 + timedelta(days=90 + i) if kind == "ssl" else None,
        http=http,
        tls=tls,
    )


def play(metrics: Metrics, n: int = 40, steps: int = 3) -> None:
    """The scenario; ``n`` monitors, ``steps`` rounds of checks."""
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        restored = result(i, -1, kind) if i % 3 == 0 else None
        if restored is not None:  # as the store restores it: no HTTP or TLS facts
            restored = CheckResult(
                ok=restored.ok, reason=restored.reason, at=restored.at, timings=restored.timings
            )
        url = f'https://example.org/{i}?q="x"\\' if i == 7 else f"https://example.org/{i}"
        metrics.add_monitor(
            name(i), Status(2 if i % 2 else 1), restored, kind, url=url, group="g" if i % 4 else ""
        )
        metrics.set_degraded(name(i), i % 6 == 0)
    for channel in ("email", "webhook"):
        metrics.add_alert_channel(channel)
    metrics.config_loaded(True, 1764565200.25)
    for step in range(steps):
        for i in range(n):
            if (i + step) % 5 == 4:
                continue  # not every monitor is checked every round
            kind = KINDS[i % len(KINDS)]
            status = Status.UP if (i + step) % 4 else Status.SEEMS_DOWN
            metrics.observe_check(name(i), result(i, step, kind), status)
            metrics.schedule_lag.observe(0.003 * i + 0.5 * step)
        for i in range(0, n, 3):
            for window in ("1d", "7d", "30d"):
                ratio = None if (i + step) % 7 == 0 and window == "7d" else 1 - 0.001 * i
                metrics.set_uptime(name(i), window, ratio)
            metrics.set_slo_budget(name(i), None if i % 2 else 0.5 - 0.1 * step)
        metrics.set_status(name(step), Status.DOWN)
        for i in range(0, n, 4):  # a domain whose expiry became unknown loses its series
            expires = None if (i + step) % 12 == 0 else T0.timestamp() + 86400.0 * (i + step)
            metrics.set_domain_expiry(name(i), expires)
        metrics.set_degraded(name(step + 1), True)
        metrics.alert_outcome("email", "down", "sent" if step % 2 else "failed")
        metrics.alert_queue("webhook", step, 12.5 * step)
        metrics.store_error("check")
    metrics.config_loaded(False, 1764565300.0)
    # A reload: one removed, one re-added (its series come last), kinds and URLs changed.
    metrics.remove_monitor(name(1))
    metrics.remove_monitor(name(2))
    metrics.add_monitor(name(2), Status.PENDING, None, "http", url="https://example.org/new")
    metrics.add_monitor(name(0), Status.UP, None, "dns", url="dns://1.1.1.1/a.example")
    metrics.add_monitor(name(5), Status.UP, None, "keyword", url="https://example.org/5")
    metrics.add_monitor(name(6), Status.UP, None, "tcp", url="tcp://example.org:22", group="x")
    metrics.add_monitor(name(9), Status.PAUSED, None, "http", url="https://example.org/9")
    metrics.observe_check(name(2), result(2, 9, "http"), Status.UP)
    metrics.observe_check(name(0), result(0, 9, "dns"), Status.UP)
    metrics.observe_check(name(1), result(1, 9, "http"), Status.UP)  # gone: ignored
    metrics.set_uptime(name(1), "1d", 0.5)  # gone: ignored
    metrics.set_domain_expiry(name(1), 1.0)  # gone: ignored
    metrics.set_location("eu-west")
    metrics.store_waiting.set(3)
    metrics.store_dropped.inc(2)


def stable_text(metrics: Metrics) -> str:
    """The exposition without the families that depend on the process or the release."""
    lines = metrics.render().decode().splitlines(keepends=True)
    kept: list[str] = []
    for line in lines:
        family = line.split(" ")[2] if line.startswith("# ") else line
        if not family.startswith(VOLATILE):
            kept.append(line)
    return "".join(kept)
