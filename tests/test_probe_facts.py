"""blackbox_exporter's probe_http_* and TLS facts, measured against real loopback servers, and
the metrics they become."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import trustme

from probed.metrics import Metrics
from probed.model import CheckResult, Status
from probed.probes import run_probe
from tests.kit.certs import issue, not_after, server_context, write_ca
from tests.kit.monitors import make_monitor
from tests.kit.servers import Target, serve


def series(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of ``name`` in the rendered exposition, by its labels."""
    out = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


async def test_an_https_check_splits_connect_from_tls_and_records_version_and_chain(
    ca: trustme.CA, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=40))
    async with serve(Target(), server_context(cert)) as target:
        monitor = make_monitor(
            kind="http", url=target.url("/moved"), ca_file=write_ca(ca, tmp_path), timeout=5
        )
        result = await run_probe(monitor, session, datetime.now(UTC))

    assert result.ok, result.reason
    assert result.timings.tls is not None and result.timings.tls > 0
    assert result.timings.connect is not None and result.timings.connect > 0
    http = result.http
    assert http is not None
    assert http.redirects == 1
    assert http.version == 1.1
    assert http.content_length == len("status page")
    assert http.tls == result.timings.tls and http.connect == result.timings.connect
    assert http.processing > 0 and http.transfer >= 0
    # The phases are disjoint parts of the check (two requests: the redirect and its target).
    assert http.connect + http.tls + http.processing + http.transfer <= result.duration
    assert result.tls is not None
    assert result.tls.version in ("TLS 1.2", "TLS 1.3")
    # trustme's CA outlives the leaf: the chain's earliest expiry is the leaf's.
    assert result.tls.last_chain_expires_at == not_after(cert)


async def test_a_plain_http_check_has_no_tls_phase_and_no_tls_facts(
    target: Target, session: aiohttp.ClientSession
) -> None:
    result = await run_probe(
        make_monitor(kind="http", url=target.url("/status/204")), session, datetime.now(UTC)
    )

    assert result.ok, result.reason
    assert result.timings.tls is None and result.tls is None
    assert result.http is not None
    assert (result.http.tls, result.http.redirects, result.http.content_length) == (0.0, 0, -1)


async def test_a_keyword_check_says_whether_the_keyword_failed_it(
    target: Target, session: aiohttp.ClientSession
) -> None:
    now = datetime.now(UTC)
    found = await run_probe(
        make_monitor(kind="keyword", url=target.url("/parts"), keyword="hello"), session, now
    )
    missing = await run_probe(
        make_monitor(kind="keyword", url=target.url("/parts"), keyword="bye"), session, now
    )
    bad_status = await run_probe(
        make_monitor(kind="keyword", url=target.url("/status/500"), keyword="bye"), session, now
    )

    assert found.http is not None and found.http.failed_due_to_keyword is False
    assert missing.http is not None and missing.http.failed_due_to_keyword is True
    # As blackbox_exporter: the body is not judged when the status already failed the check.
    assert bad_status.http is not None and bad_status.http.failed_due_to_keyword is False
    plain = await run_probe(make_monitor(kind="http", url=target.url("/parts")), session, now)
    assert plain.http is not None and plain.http.failed_due_to_keyword is None


async def test_the_facts_become_blackbox_series_and_leave_with_the_monitor(
    ca: trustme.CA, tmp_path: Path, target: Target, session: aiohttp.ClientSession
) -> None:
    cert = issue(ca, expires_in=timedelta(days=40))
    metrics = Metrics()
    async with serve(Target(), server_context(cert)) as tls_target:
        web = make_monitor(
            kind="http", url=tls_target.url("/moved"), name="web", ca_file=write_ca(ca, tmp_path)
        )
        cert_only = make_monitor(
            kind="ssl", url=tls_target.url("/"), name="cert", ca_file=write_ca(ca, tmp_path)
        )
        kw = make_monitor(kind="keyword", url=target.url("/parts"), name="kw", keyword="bye")
        for monitor in (web, cert_only, kw):
            metrics.add_monitor(
                monitor.name, Status.PENDING, None, monitor.type, url=monitor.display_url
            )
            result = await run_probe(monitor, session, datetime.now(UTC))
            metrics.observe_check(monitor.name, result, Status.UP)

    phases = series(metrics, "probe_http_duration_seconds")
    assert {dict(k)["phase"] for k in phases if dict(k)["monitor"] == "web"} == {
        "resolve",
        "connect",
        "tls",
        "processing",
        "transfer",
    }
    assert phases[(("monitor", "web"), ("phase", "tls"))] > 0
    assert not any(dict(k)["monitor"] == "cert" for k in phases)
    assert series(metrics, "probe_http_redirects") == {
        (("monitor", "web"),): 1,
        (("monitor", "kw"),): 0,
    }
    assert series(metrics, "probe_http_version")[(("monitor", "web"),)] == 1.1
    assert series(metrics, "probe_failed_due_to_regex") == {(("monitor", "kw"),): 1}
    # An ssl monitor makes no HTTP request: no status code, but TLS facts.
    assert set(series(metrics, "probe_http_status_code")) == {
        (("monitor", "web"),),
        (("monitor", "kw"),),
    }
    versions = series(metrics, "probe_tls_version_info")
    assert {dict(k)["monitor"] for k in versions} == {"web", "cert"}
    assert (
        series(metrics, "probe_ssl_last_chain_expiry_timestamp_seconds")[(("monitor", "cert"),)]
        == not_after(cert).timestamp()
    )
    info = series(metrics, "probed_monitor_info")
    assert (("group", ""), ("monitor", "kw"), ("type", "keyword"), ("url", kw.url)) in info

    for name in ("web", "cert", "kw"):
        metrics.remove_monitor(name)
    text = metrics.render().decode()
    assert 'monitor="' not in text
    assert "_created" not in text


def test_a_monitor_has_no_result_series_before_its_first_check_and_no_http_code_unless_http():
    metrics = Metrics()
    metrics.add_monitor("web", Status.PENDING, None, "http")
    metrics.add_monitor("db", Status.PENDING, None, "tcp")
    for name in ("web", "db"):
        # A series made before any check would say probe_success 0: a failure never seen.
        assert series(metrics, "probe_success").get((("monitor", name),)) is None
    now = datetime.now(UTC)
    metrics.observe_check("web", CheckResult(True, "HTTP 200", now, status_code=200), Status.UP)
    metrics.observe_check("db", CheckResult(True, "connected", now), Status.UP)
    assert series(metrics, "probe_success") == {(("monitor", "web"),): 1, (("monitor", "db"),): 1}
    assert series(metrics, "probe_http_status_code") == {(("monitor", "web"),): 200}
    metrics.add_monitor("web", Status.UP, None, "tcp")  # a reload made it a tcp monitor
    metrics.observe_check("web", CheckResult(True, "connected", now), Status.UP)
    assert series(metrics, "probe_http_status_code") == {}
