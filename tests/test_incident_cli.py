"""``probed incidents``, ``incident show``, ``ack``, ``postmortem`` and the incident in
``status``, as a user runs them: subprocesses against the real API app, and once against a
real ``probed run`` whose target goes down."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from probed.cli.api_client import call
from probed.cli.incidents_cmd import incident_text
from probed.evidence import Evidence
from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, make_config
from tests.kit.harness import Harness, api_client, failed, good
from tests.kit.monitors import make_monitor
from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.servers import wait_for

BODY = "\n".join(f"line {n}: upstream timed out" for n in range(1, 61))


async def probed(*args: str, token: str | None = TOKEN, **env: str) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PROBED_API_TOKEN", "PROBED_LISTEN")}
    if token is not None:
        base["PROBED_API_TOKEN"] = token
    return await run_cli(*args, env={**base, **env})


async def outage(h: Harness, name: str) -> None:
    for _ in range(3):
        result = failed(h.clock())
        evidence = Evidence(
            url="http://127.0.0.1:1/health",
            address="127.0.0.1:1",
            status_line="HTTP/1.1 503 Service Unavailable",
            headers=(("Set-Cookie", "***"), ("Retry-After", "30")),
            body=BODY,
            body_bytes=len(BODY),
        )
        await h.feed(name, replace(result, evidence=evidence))
        h.clock.advance(10)


@pytest.fixture
async def harness(harnesses, tmp_path):
    # Incidents read as a person sees them now: the fake clock starts two hours ago.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
    config = make_config(
        tmp_path,
        [make_monitor("Backend API", severity="critical"), make_monitor("Frontend")],
    )
    h = harnesses(config, clock)
    await h.feed("Backend API", good(clock()))
    await outage(h, "Backend API")
    clock.advance(600)
    await h.feed("Backend API", good(clock()))  # INC-…-001: about 10 minutes
    clock.advance(1800)
    await outage(h, "Frontend")  # INC-…-002, open
    return h


@pytest.fixture
async def url(harness):
    async for client in api_client(harness):
        yield str(client.make_url("")).rstrip("/")


def code_of(h: Harness, n: int) -> str:
    return f"INC-{h.store.incidents.find()[0][-1].confirmed.year}-{n:03d}"


async def test_incidents_prints_a_table_newest_first_and_filters(harness, url):
    first, second = code_of(harness, 1), code_of(harness, 2)
    code, out, err = await probed("incidents", "--url", url, token=None)
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split() == [
        "ID", "MONITOR", "SEVERITY", "START", "(UTC)", "DURATION", "ACK", "BY", "TTA", "TTR"
    ]  # fmt: skip
    assert [r.split()[0] for r in rows] == [second, first]
    assert "ongoing, 30s" in rows[0] and rows[0].split()[-2:] == ["-", "-"]
    assert rows[1].split()[1:3] == ["Backend", "API"] and "critical" in rows[1]
    assert rows[1].split()[-6:] == ["10m", "30s", "-", "-", "10m", "30s"]  # duration, TTR

    code, out, _ = await probed("incidents", "--url", url, "--open", token=None)
    assert [r.split()[0] for r in out.splitlines()[1:]] == [second]
    code, out, _ = await probed("incidents", "--url", url, "--monitor", "Backend API", "--json")
    assert [i["id"] for i in json.loads(out)["incidents"]] == [first]
    # Only those not over 20 minutes ago: the open one.
    code, out, _ = await probed("incidents", "--url", url, "--since", "20m")
    assert [r.split()[0] for r in out.splitlines()[1:]] == [second]
    code, out, _ = await probed("incidents", "--url", url, "--limit", "1")
    assert out.splitlines()[-1] == "(1 of 2, newest first; --limit for more)"

    code, _, err = await probed("incidents", "--url", url, "--since", "last tuesday")
    assert code == 1 and "--since 'last tuesday': give a time" in err
    code, _, err = await probed("incidents", "--url", url, "--monitor", "nope")
    assert code == 1 and "monitor: no monitor named 'nope'" in err and "(HTTP 400)" in err


async def test_incident_show_has_the_timeline_and_the_evidence_with_the_token(harness, url):
    first = code_of(harness, 1)
    code, out, err = await probed("incident", "show", first, "--url", url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[0] == first and lines[0].endswith("resolved")
    assert "\x1b[" not in out  # not a terminal: no colour
    timeline = lines[lines.index("Timeline") + 1 : lines.index("Evidence") - 1]
    assert [line.split(None, 2)[2] for line in timeline] == [
        "First failed check: HTTP 503, expected 2xx",
        "Confirmed down: HTTP 503, expected 2xx",
        "Recovered: HTTP 200",
    ]
    assert "    HTTP/1.1 503 Service Unavailable" in lines and "    Set-Cookie: ***" in lines
    assert "    | line 40: upstream timed out" in lines
    assert "    | line 41: upstream timed out" not in lines  # the rest: --json
    code, out, _ = await probed("incident", "show", first, "--url", url, token=None)
    assert "shown with the API token only" in out and "Set-Cookie" not in out
    code, out, _ = await probed("incident", "show", first, "--url", url, "--json")
    assert json.loads(out)["evidence"]["confirmed"]["evidence"]["body"] == BODY
    code, _, err = await probed("incident", "show", "INC-1999-001", "--url", url)
    assert (code, err) == (1, "probed incident: no incident 'INC-1999-001' (HTTP 404)\n")


async def test_ack_acknowledges_once_and_status_shows_who(harness, url):
    second = code_of(harness, 2)
    code, out, _ = await probed("status", "--url", url, token=None)
    header, *rows = out.splitlines()
    assert header.split()[-1] == "INCIDENT"
    assert rows[1].endswith(second) and rows[0].split()[-1] == "-"

    code, out, err = await probed("ack", second, "--url", url, USER="carol")
    assert code == 0, err
    assert out == f"{second}: acknowledged by carol; no more reminders or escalations\n"
    code, out, _ = await probed("ack", second, "--url", url, "--by", "dave", "--note", "x")
    assert code == 0 and out.startswith(f"{second}: already acknowledged by carol at ")
    code, out, _ = await probed("status", "--url", url, token=None)
    assert out.splitlines()[2].endswith(f"{second}, acknowledged by carol")

    code, _, err = await probed("ack", code_of(harness, 1), "--url", url)
    assert code == 1 and "is closed" in err and "(HTTP 409)" in err
    code, _, err = await probed("ack", second, "--url", url, token="wrong")
    assert code == 1 and "missing or wrong API token" in err


async def test_postmortem_prints_the_markdown_draft(harness, url):
    first = code_of(harness, 1)
    code, out, err = await probed("postmortem", first, "--url", url)
    assert code == 0, err
    assert out.startswith(f"# Post-mortem: {first}\n")
    assert "- **Severity:** critical" in out and "## Root cause" in out
    assert "HTTP/1.1 503 Service Unavailable" in out  # the token was sent: evidence
    code, out, _ = await probed("postmortem", first, "--url", url, token=None)
    assert "API token only" in out and "Set-Cookie" not in out


async def test_a_real_outage_through_probed_run_is_listed_acknowledged_and_written_up(
    tmp_path, switchable
):
    port = free_port()
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'api_token = "{TOKEN}"\n'
        f'[[monitor]]\nname = "api"\nurl = "{switchable.url}"\nmethod = "GET"\n'
        'interval = "1s"\nretry_interval = "1s"\ndown_after = 2\nseverity = "critical"\n'
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        await wait_for(lambda: switchable.hits >= 1, 10, "the first check")
        switchable.status = 503

        async def listed() -> str | None:
            code, out, _ = await probed("incidents", "--open", "-c", str(config), "--json")
            found = json.loads(out)["incidents"] if code == 0 else []
            return found[0]["id"] if found else None

        incident = await wait_for(listed, 15, "the outage to be an open incident")
        code, out, err = await probed("ack", incident, "-c", str(config), "--by", "alice")
        assert code == 0, err
        assert out.startswith(f"{incident}: acknowledged by alice")
        switchable.status = 200

        async def resolved() -> bool:
            _, out, _ = await probed("incidents", "-c", str(config), "--json")
            return not json.loads(out)["incidents"][0]["open"]

        await wait_for(resolved, 15, "the UP to close the incident")
        code, out, err = await probed("postmortem", incident, "-c", str(config))
        assert code == 0, err
        assert out.startswith(f"# Post-mortem: {incident}\n")
        assert "| Acknowledged by alice |" in out and "| Recovered: HTTP 200" in out
        assert "| Confirmed down: HTTP 503, expected 2xx |" in out
        assert "### Check that confirmed the outage" in out  # the token was read from -c
        code, out, _ = await probed("incidents", "-c", str(config))
        assert out.splitlines()[1].split()[0] == incident and " alice " in out
    finally:
        assert await daemon.stop() == 0


async def test_incident_show_colours_the_state_on_a_terminal(harness, url):
    path = f"/api/v1/incidents/{code_of(harness, 2)}"
    answer = await asyncio.to_thread(call, url, "GET", path, TOKEN)
    head = incident_text(answer, colour=True).splitlines()[0]
    assert "\x1b[31mopen, not acknowledged\x1b[0m" in head and head.startswith("\x1b[1mINC-")
    await probed("ack", code_of(harness, 2), "--url", url, "--by", "erin")
    answer = await asyncio.to_thread(call, url, "GET", path, TOKEN)
    head = incident_text(answer, colour=True).splitlines()[0]
    assert "\x1b[33mopen, acknowledged by erin\x1b[0m" in head
    assert "\x1b[" not in incident_text(answer, colour=False)
