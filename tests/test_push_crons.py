"""Sentry Crons' check-in shape on the push URL: a job instrumented for Sentry Crons pings probed
with only its URL changed (``?status=in_progress``, ``ok``, ``error``, Sentry's trailing ``/``)."""

from __future__ import annotations

import pytest

from probed.model import Status
from tests.kit.clock import FakeClock
from tests.kit.harness import Harness
from tests.test_push import PUSH_TOKEN, Client, ping, push_monitor


@pytest.fixture
async def harness(make_harness):
    return make_harness([push_monitor()], FakeClock())


async def test_a_sentry_crons_run_in_progress_then_ok_is_a_start_then_a_ping(
    harness: Harness, client: Client
) -> None:
    assert await ping(client, "/?status=in_progress") == 200
    assert harness.tracked("backup").last is None  # a start is no check
    harness.clock.advance(12)
    assert await ping(client, "/?status=ok") == 200
    last = harness.tracked("backup").last
    assert last is not None and last.ok and last.duration == 12.0
    assert harness.tracked("backup").state.status is Status.UP


async def test_a_sentry_crons_error_is_a_failure_report_and_ok_brings_it_back(
    harness: Harness, client: Client
) -> None:
    await ping(client, "?status=ok")
    harness.clock.advance(60)
    assert await ping(client, "?status=error") == 200
    state = harness.tracked("backup").state
    assert state.status is Status.DOWN and state.reason == "failure reported by the job"
    # A message still comes through msg, as on /fail.
    await ping(client, "/", params={"status": "error", "msg": "exit 2"})
    assert harness.tracked("backup").state.reason == "exit 2"
    harness.clock.advance(60)
    await ping(client, "/?status=ok&environment=production")  # Sentry's other fields are ignored
    assert harness.tracked("backup").state.status is Status.UP
    assert harness.kinds("backup") == ["first_up", "down", "up"]


async def test_a_status_sentry_does_not_have_or_the_path_contradicts_is_refused(
    harness: Harness, client: Client
) -> None:
    for suffix in ("?status=timeout", "/?status=", "/fail?status=ok", "/start?status=error"):
        async with client.get(f"/push/{PUSH_TOKEN}{suffix}") as resp:
            assert resp.status == 400, suffix
            assert "status" in await resp.text()
    assert harness.tracked("backup").last is None  # nothing was recorded
    # Agreeing with the path is fine.
    assert await ping(client, "/fail?status=error") == 200


async def test_a_wrong_token_with_a_status_is_answered_as_any_unknown_path(
    client: Client,
) -> None:
    async with client.get("/no/such/path") as resp:
        unknown = resp.status, await resp.text()
    for path in ("/push/0123456789abcdef-wrong/?status=ok", "/push/0123456789abcdef-wrong/"):
        async with client.get(path) as resp:
            assert (resp.status, await resp.text()) == unknown, path
