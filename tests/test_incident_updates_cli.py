"""``probed incident open`` and ``probed update`` as a user runs them (docs/design.md §18.1):
subprocesses against the real API app, and once against a real ``probed run``."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from tests.kit.clock import FakeClock
from tests.kit.configs import TOKEN, make_config
from tests.kit.harness import api_client
from tests.kit.monitors import make_monitor
from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.servers import wait_for


async def probed(*args: str, token: str | None = TOKEN, **env: str) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PROBED_API_TOKEN", "PROBED_LISTEN")}
    if token is not None:
        base["PROBED_API_TOKEN"] = token
    return await run_cli(*args, env={**base, **env})


@pytest.fixture
async def harness(harnesses, tmp_path):
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    config = make_config(tmp_path, [make_monitor("Voice API"), make_monitor("Web")])
    return harnesses(config, clock)


@pytest.fixture
async def url(harness):
    async for client in api_client(harness):
        yield str(client.make_url("")).rstrip("/")


async def test_open_update_and_resolve_from_the_command_line(harness, url):
    code, out, err = await probed(
        "incident", "open", "Voice calls failing", "--monitor", "Voice API", "--monitor", "Web",
        "--impact", "major", "--url", url, "Calls drop after a few seconds.", USER="carol",
    )  # fmt: skip
    assert code == 0, err
    year = harness.clock().year
    first = f"INC-{year}-001"
    assert out == f"{first} opened (investigating); Voice API, Web shown as Partial outage\n"
    row = harness.store.incidents.get(first)
    assert row.manual and row.impact == "major" and row.title == "Voice calls failing"
    (opened,) = harness.store.incidents.updates([row.id])
    assert (opened.text, opened.by) == ("Calls drop after a few seconds.", "carol")

    harness.clock.advance(300)
    code, out, err = await probed(
        "update", first, "--status", "identified", "A carrier dropped our trunk.", "--url", url,
        "--by", "dave",
    )  # fmt: skip
    assert code == 0, err
    assert out == f"{first}: update posted (identified); the incident is open\n"
    harness.clock.advance(300)
    code, out, _ = await probed(
        "update", first, "--status", "resolved", "Calls go through again.", "--url", url
    )
    assert out == f"{first}: update posted (resolved); the incident is closed\n"
    assert [u.stage for u in harness.store.incidents.updates([row.id])] == [
        "resolved", "identified", "investigating",
    ]  # fmt: skip

    code, out, _ = await probed("incident", "show", first, "--url", url)
    assert out.splitlines()[0] == f"{first}  Voice calls failing (Voice API, Web)  -  resolved"
    assert "  stage:           resolved" in out.splitlines()
    assert "Update (identified): A carrier dropped our trunk." in out

    # Refusals say what was wrong, with the daemon's words and exit 1.
    code, _, err = await probed(
        "update", "INC-1999-001", "--status", "identified", "x", "--url", url
    )
    assert code == 1 and "no incident 'INC-1999-001' (HTTP 404)" in err
    code, _, err = await probed("incident", "open", "t", "--monitor", "nope", "--url", url)
    assert code == 1 and "monitors: no monitor named 'nope' (HTTP 400)" in err
    code, _, err = await probed("update", first, "--status", "identified", "x", "--url", url,
                                token="wrong")  # fmt: skip
    assert code == 1 and "missing or wrong API token" in err
    code, _, err = await probed("update", first, "--status", "fixed", "x", "--url", url)
    assert code == 1 and "invalid choice: 'fixed'" in err
    code, _, err = await probed("incident", "open", "t", "one", "--url", url, "two")
    assert code == 1 and "unrecognized arguments: two" in err
    assert len(harness.store.incidents.updates([row.id])) == 3


async def test_through_probed_run_the_incident_and_its_update_are_on_the_api(tmp_path, switchable):
    port = free_port()
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'api_token = "{TOKEN}"\n'
        f'[[monitor]]\nname = "Voice API"\nurl = "{switchable.url}"\ninterval = "1s"\n'
    )
    daemon = DaemonProcess(config, port)
    await daemon.start()
    try:
        code, out, err = await probed(
            "incident", "open", "Voice calls failing", "--monitor", "Voice API", "-c", str(config),
            token=None,
        )  # fmt: skip
        assert code == 0, err  # the token was read from -c
        incident = out.split()[0]
        code, out, err = await probed(
            "update", incident, "--status", "monitoring", "<b>Watching</b>", "-c", str(config),
            token=None,
        )  # fmt: skip
        assert code == 0, err
        code, out, _ = await probed("incidents", "-c", str(config), "--json")
        (listed,) = json.loads(out)["incidents"]
        assert listed["title"] == "Voice calls failing" and listed["stage"] == "monitoring"
        assert [u["text"] for u in listed["updates"]] == ["<b>Watching</b>", "Voice calls failing"]

        async def shown() -> bool:
            _, out, _ = await probed("status", "-c", str(config), "--json", token=None)
            return json.loads(out)["monitors"][0]["state"] == "up"

        await wait_for(shown, 15, "the monitor's first check")  # measured state unchanged
    finally:
        assert await daemon.stop() == 0
