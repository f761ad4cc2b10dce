"""Property tests: any form or JSON body (odd keys and Unicode, deep nesting, huge numbers) to
the UptimeRobot methods and the JSON API's write endpoints gets a 2xx or 4xx JSON answer, never a
500, from the real aiohttp app on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kit.configs import TOKEN
from tests.kit.monitors import make_monitor

V2 = ("getMonitors", "editMonitor", "getAccountDetails")
PARAMS = (
    *("api_key", "format", "monitors", "types", "statuses", "search", "custom_uptime_ratios"),
    *("custom_uptime_ranges", "all_time_uptime_ratio", "logs", "logs_limit", "log_types"),
    *("logs_start_date", "logs_end_date", "response_times", "response_times_limit"),
    *("response_times_average", "response_times_start_date", "response_times_end_date"),
    *("ssl", "offset", "limit", "id", "status", "friendly_name", "url", "interval"),
)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    # One app and store serve every example: what a request changes (a pause) is kept on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

keys = st.one_of(st.sampled_from(PARAMS), st.text(max_size=20))
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
)
digits = st.from_regex(r"\A[0-9_ ²³٣۷-]{0,60}\Z")  # ASCII and look-alike digits, dashes
texts = st.one_of(st.text(max_size=60), digits, st.sampled_from(["0", "1", "-1", "1e400"]))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def with_key(params: dict[str, Any], keyed: bool) -> dict[str, Any]:
    # With the right api_key half the time, so the methods get past authorisation.
    return {**params, "api_key": TOKEN} if keyed else params


def raw_json(params: dict[str, Any], depth: int, huge: int) -> bytes:
    """JSON that json.dumps cannot write: nesting past the parser's limit, integers past
    int()'s 4,300 digits."""
    body = json.dumps(params)[:-1] if params else "{"
    extra = f'"deep": {"[" * depth}{"]" * depth}, "huge": {"9" * huge}'
    return (body + (", " if params else "") + extra + "}").encode()


content_types = st.sampled_from(
    [
        *("application/json", "application/x-www-form-urlencoded", "text/plain", ""),
        *("application/json; charset=latin-1", "application/json; charset=no-such-charset"),
        "application/x-www-form-urlencoded; charset=no-such-charset",
    ]
)
bodies = st.one_of(
    st.tuples(st.just("form"), st.dictionaries(keys, texts, max_size=8)),
    st.tuples(st.just("json"), st.dictionaries(keys, values, max_size=8)),
    st.tuples(st.just("json"), values),
    st.tuples(st.just("bytes"), st.tuples(content_types, st.binary(max_size=200))),
)


@pytest.fixture
async def harness(make_harness):
    h = make_harness([make_monitor("web", id=1), make_monitor("db", id=2)])
    await h.check("web")
    await h.check("db", ok=False)
    return h


async def send(client, path: str, kind: str, body: Any, keyed: bool, **kwargs: Any):
    if kind == "form":
        form = urlencode(with_key(body, keyed)).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})}
        return await client.post(path, data=form, headers=headers, **kwargs)
    if kind == "json":
        if isinstance(body, dict):
            body = with_key(body, keyed)
        return await client.post(path, json=body, **kwargs)
    content_type, data = body
    headers = {"Content-Type": content_type, **kwargs.pop("headers", {})}
    return await client.post(path, data=data, headers=headers)


async def assert_json_answer(resp) -> Any:
    text = await resp.text()
    assert resp.status < 500, text
    assert resp.content_type == "application/json", text
    return json.loads(text)


@SETTINGS
@given(method=st.sampled_from(V2), body=bodies, keyed=st.booleans())
async def test_any_v2_body_gets_a_json_answer(client, method, body, keyed):
    resp = await send(client, f"/v2/{method}", *body, keyed)
    answer = await assert_json_answer(resp)
    assert resp.status == 200 and answer["stat"] in ("ok", "fail")


@SETTINGS
@given(
    params=st.dictionaries(keys, texts, max_size=8),
    depth=st.integers(0, 120_000),
    huge=st.integers(1, 6000),
)
async def test_get_monitors_survives_deep_json_huge_numbers_and_any_query(
    client, params, depth, huge
):
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    resp = await client.post(
        f"/v2/getMonitors?{query}",
        data=raw_json({"api_key": TOKEN}, depth, huge),
        headers={"Content-Type": "application/json"},
    )
    answer = await assert_json_answer(resp)
    assert answer["stat"] in ("ok", "fail")


@SETTINGS
@given(
    # POST /api/v1/reload reads no body, and the harness has no daemon to reload.
    action=st.sampled_from(["pause", "resume"]),
    monitor_id=st.one_of(st.sampled_from(["1", "2"]), st.text(min_size=1, max_size=12)),
    body=st.one_of(
        st.tuples(st.just("json"), st.fixed_dictionaries({"for": values})),
        bodies,
    ),
    authorised=st.booleans(),
)
async def test_any_pause_or_resume_request_gets_a_json_answer(
    client, action, monitor_id, body, authorised
):
    headers = {"Authorization": f"Bearer {TOKEN}"} if authorised else {}
    path = f"/api/v1/monitors/{quote(monitor_id, safe='')}/{action}"
    kind, payload = body
    resp = await send(client, path, kind, payload, False, headers=headers)
    answer = await assert_json_answer(resp)
    assert 200 <= resp.status < 300 or "error" in answer


@SETTINGS
@given(
    depth=st.integers(0, 120_000),
    huge=st.integers(1, 6000),
    duration=st.one_of(texts, numbers),
    alone=st.booleans(),
)
async def test_a_pause_body_with_deep_json_or_huge_numbers_gets_a_json_answer(
    client, depth, huge, duration, alone
):
    body = json.dumps({"for": duration}).encode() if alone else raw_json({}, depth, huge)
    resp = await client.post(
        "/api/v1/monitors/1/pause", data=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    await assert_json_answer(resp)
    await client.post("/api/v1/monitors/1/resume", headers={"Authorization": f"Bearer {TOKEN}"})
