"""RDAP queries and IANA's bootstrap against a local RDAP server (docs/design.md §19.2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import aiohttp
import pytest

from probed.config.domain_names import registrable, url_host
from probed.domains.bootstrap import BootstrapSource, parse, shipped
from probed.domains.rdap import Unknown, expiry
from tests.kit.processes import run_cli
from tests.kit.rdap import rdap_server


async def test_the_expiration_event_is_the_expiry_in_utc():
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers["example.com"] = "2027-08-13T04:00:00+02:00"
        at = await expiry(session, rdap.url, "example.com", 5)
    assert at == datetime(2027, 8, 13, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("13/08/2027", 'malformed expiration date "13/08/2027"'),
        ("2027-02-30T00:00:00Z", 'malformed expiration date "2027-02-30T00:00:00Z"'),
        (None, "the answer has no expiration event"),
        ("HUGE", "answer larger than 1024 KiB"),
    ],
)
async def test_an_answer_without_a_usable_expiry_is_unknown_with_its_reason(answer, reason):
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers["example.com"] = answer
        with pytest.raises(Unknown, match=reason):
            await expiry(session, rdap.url, "example.com", 5)


async def test_a_registry_that_hangs_is_unknown_within_the_timeout():
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        rdap.answers["example.com"] = "HANG"
        started = time.monotonic()
        with pytest.raises(Unknown, match=r"did not answer within 0\.5 s"):
            await expiry(session, rdap.url, "example.com", 0.5)
        assert time.monotonic() - started < 2


async def test_a_domain_the_registry_does_not_know_is_unknown():
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        with pytest.raises(Unknown, match="answered HTTP 404"):
            await expiry(session, rdap.url, "nowhere.com", 5)


def test_the_bootstrap_picks_the_longest_listed_suffix_and_prefers_https():
    bootstrap = parse(
        '{"services": [[["uk"], ["https://uk.example/"]],'
        ' [["co.uk", "org.uk"], ["http://plain.example/", "https://couk.example/"]]]}'
    )
    assert bootstrap.server_for("example.co.uk") == "https://couk.example/"
    assert bootstrap.server_for("example.uk") == "https://uk.example/"
    assert bootstrap.server_for("example.de") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<html>", "not JSON"),
        ('{"services": {}}', 'no "services" list'),
        ('{"services": [["com"]]}', "a service is not"),
        ('{"services": []}', "no service lists a domain"),
    ],
)
def test_a_file_not_in_the_bootstrap_format_is_refused(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse(text)


def test_the_shipped_bootstrap_covers_the_main_top_level_domains():
    bootstrap = shipped()
    for domain in ("example.com", "example.net", "example.org", "example.io", "example.co.uk"):
        assert (bootstrap.server_for(domain) or "").startswith("https://"), domain


async def test_the_bootstrap_source_is_read_at_most_once_a_day(tmp_path):
    now = [0.0]
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        path = rdap.bootstrap(tmp_path / "dns.json", "test")
        source = BootstrapSource(str(path), monotonic=lambda: now[0])
        assert (await source.current(session, 5)).server_for("a.test") == rdap.url + "/"
        rdap.bootstrap(path, "other")
        now[0] = 86399.0
        assert (await source.current(session, 5)).server_for("a.test") == rdap.url + "/"
        now[0] = 86400.0
        assert (await source.current(session, 5)).server_for("a.test") is None
        path.write_text("garbage")  # a broken copy leaves the last good one in use
        now[0] = 2 * 86400.0
        assert (await source.current(session, 5)).server_for("a.other") == rdap.url + "/"


async def test_the_bootstrap_source_may_be_a_url():
    async with rdap_server() as rdap, aiohttp.ClientSession() as session:
        app_url = rdap.url + "/domain/bootstrap.json"
        rdap.answers["bootstrap.json"] = None  # a JSON object with no services: refused
        source = BootstrapSource(app_url)
        assert (await source.current(session, 5)).server_for("example.com") is not None
        assert rdap.asked["bootstrap.json"] == 1


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.example.co.uk/health", "example.co.uk"),
        ("tcp://db.internal.example.com:5432", "example.com"),
        ("example.org", "example.org"),
        ("https://127.0.0.1/", None),
        ("https://[::1]:8443/", None),
        ("https://co.uk/", None),
    ],
)
def test_the_registrable_domain_of_a_monitor_url(url, domain):
    host = url_host(url)
    assert (registrable(host) if host else None) == domain


async def test_probe_domain_prints_the_expiry_or_why_it_is_unknown(tmp_path):
    async with rdap_server() as rdap:
        rdap.answers |= {"example.com": "2027-08-13T04:00:00Z", "malformed.com": "soon"}
        bootstrap = str(rdap.bootstrap(tmp_path / "dns.json", "com"))
        flags = ("probe", "--type", "domain", "--rdap-bootstrap", bootstrap, "--timeout", "5s")
        code, out, _ = await run_cli(*flags, "www.example.com")
        assert code == 0
        assert out.startswith("example.com: registration expires 2027-08-13T04:00:00+00:00")
        code, out, _ = await run_cli(*flags, "https://malformed.com/")
        assert code == 2
        assert 'malformed expiration date "soon"' in out
        code, _, err = await run_cli(*flags, "127.0.0.1")
        assert code == 1 and "no registrable domain" in err
