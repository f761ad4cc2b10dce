"""The domain expiry task: one RDAP query per registrable domain every 12 h, shared by its
monitors and kept across restarts; an unknown expiry leaves the metric absent."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from probed.config import Monitor
from probed.domains.bootstrap import BootstrapSource
from probed.domains.watch import DomainWatch
from probed.metrics import Metrics
from probed.model import Status
from probed.store import Store
from tests.kit.clock import FakeClock
from tests.kit.rdap import RdapServer, rdap_server

EXPIRES = "2027-08-13T04:00:00Z"
EXPIRES_TS = datetime(2027, 8, 13, 4, tzinfo=UTC).timestamp()


def _monitors(*pairs: tuple[str, str], days: int | None = 30) -> list[Monitor]:
    return [Monitor(name=name, url=url, domain_expiry_days=days) for name, url in pairs]


def _watch(tmp_path, rdap: RdapServer, monitors, clock, metrics) -> tuple[DomainWatch, Store]:
    for monitor in monitors:
        metrics.add_monitor(monitor.name, Status.UP, None)
    store = Store.open(tmp_path / "probed.db")
    source = BootstrapSource(str(rdap.bootstrap(tmp_path / "dns.json", "com", "org")))
    return DomainWatch(lambda: monitors, store, metrics, source, clock, timeout=0.5), store


def _expiry(metrics: Metrics, name: str) -> float | None:
    return metrics.domain_expiry.values.get((name,))


async def test_monitors_of_one_domain_share_one_query_every_12_hours(tmp_path):
    clock, metrics = FakeClock(), Metrics()
    monitors = _monitors(
        ("site", "https://www.example.com/"),
        ("api", "https://api.example.com:8443/v1"),
        ("db", "tcp://db.example.com:5432"),
        ("other", "https://example.org/"),
    )
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers |= {"example.com": EXPIRES, "example.org": "2030-01-01T00:00:00Z"}
        watch, store = _watch(tmp_path, rdap, monitors, clock, metrics)
        await watch.round(session)
        assert rdap.asked == {"example.com": 1, "example.org": 1}
        assert [_expiry(metrics, n) for n in ("site", "api", "db")] == [EXPIRES_TS] * 3
        clock.advance(12 * 3600 - 1)
        await watch.round(session)
        assert rdap.asked == {"example.com": 1, "example.org": 1}
        clock.advance(1)
        rdap.answers["example.com"] = "2028-08-13T04:00:00Z"  # renewed
        await watch.round(session)
        assert rdap.asked == {"example.com": 2, "example.org": 2}
        renewed = datetime(2028, 8, 13, 4, tzinfo=UTC).timestamp()
        assert _expiry(metrics, "api") == renewed
        store.close()


async def test_a_restart_uses_the_stored_answer_until_12_hours_have_passed(tmp_path):
    clock = FakeClock()
    monitors = _monitors(("site", "https://www.example.com/"))
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers["example.com"] = EXPIRES
        watch, store = _watch(tmp_path, rdap, monitors, clock, Metrics())
        await watch.round(session)
        store.close()
        clock.advance(6 * 3600)
        metrics = Metrics()
        again, store = _watch(tmp_path, rdap, monitors, clock, metrics)
        await again.round(session)
        assert rdap.asked["example.com"] == 1
        assert _expiry(metrics, "site") == EXPIRES_TS
        store.close()


async def test_an_unknown_expiry_leaves_the_metric_absent_and_is_not_asked_again_at_once(
    tmp_path,
):
    clock, metrics = FakeClock(), Metrics()
    monitors = _monitors(
        ("malformed", "https://malformed.com/"),
        ("hang", "https://hang.com/"),
        ("huge", "https://huge.com/"),
        ("none", "https://none.com/"),
        ("no-registry", "https://example.net/"),
    )
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers |= {
            "malformed.com": "next tuesday",
            "hang.com": "HANG",
            "huge.com": "HUGE",
            "none.com": None,
        }
        watch, store = _watch(tmp_path, rdap, monitors, clock, metrics)
        await watch.round(session)
        assert metrics.domain_expiry.values == {}
        clock.advance(60)
        await watch.round(session)
        assert rdap.asked == {"malformed.com": 1, "hang.com": 1, "huge.com": 1, "none.com": 1}
        reason = store.domains.get("malformed.com")
        assert reason is not None and "malformed expiration date" in (reason.reason or "")
        store.close()


async def test_a_monitor_that_stops_watching_loses_its_series(tmp_path):
    clock, metrics = FakeClock(), Metrics()
    monitors = _monitors(("site", "https://www.example.com/"))
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers["example.com"] = EXPIRES
        watch, store = _watch(tmp_path, rdap, monitors, clock, metrics)
        await watch.round(session)
        assert _expiry(metrics, "site") == EXPIRES_TS
        monitors[0] = Monitor(name="site", url="https://www.example.com/")
        await watch.round(session)
        assert _expiry(metrics, "site") is None
        store.close()


async def test_the_recorder_is_told_of_each_known_expiry_once_a_day(tmp_path):
    clock, metrics = FakeClock(), Metrics()
    monitors = _monitors(("site", "https://www.example.com/"), ("lost", "https://huge.com/"))
    told: list[tuple[str, str, datetime]] = []
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers |= {"example.com": EXPIRES, "huge.com": "HUGE"}
        watch, store = _watch(tmp_path, rdap, monitors, clock, metrics)
        watch.on_expiry = lambda *args: told.append(args)
        await watch.round(session)
        clock.advance(3600)
        await watch.round(session)
        expires = datetime.fromtimestamp(EXPIRES_TS, tz=UTC)
        assert told == [("site", "example.com", expires)]
        clock.advance(86400)
        await watch.round(session)
        assert told == [("site", "example.com", expires)] * 2
        store.close()
