"""More than one probed, end to end (docs/design.md §10): three instances run the same monitors.toml
from 127.0.0.2, .3 and .4 (locations a, b and c) against a target on 127.0.0.1 that fails only
for chosen source addresses; a real Prometheus evaluates contrib's quorum rule and a real
Alertmanager notifies a webhook. And three shards of one file check every monitor once."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.kit.processes import DaemonProcess, free_port
from tests.kit.receiver import Receiver
from tests.kit.servers import wait_for
from tests.kit.stack import Alertmanager, prometheus, query
from tests.kit.tools import require_tool

pytestmark = pytest.mark.slow

SOURCES = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}

# One file for every instance: what differs (listen, state, location, source, shard) comes
# from the environment, as it would on three machines.
MONITORS = """\
[probed]
{shard}
[defaults]
interval = "1s"
retry_interval = "1s"
down_after = 1
source_address = "${{PROBED_SOURCE}}"
alert = []
{monitors}"""


@dataclass
class Target:
    """Answers 200, or 503 on the paths in ``failing`` to the source addresses listed there;
    counts requests by (path, source address)."""

    failing: dict[str, set[str]] = field(default_factory=dict)
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        remote = request.remote or "?"
        self.requests[(request.path, remote)] += 1
        failing = remote in self.failing.get(request.path, ())
        return web.Response(status=503 if failing else 200)


@asynccontextmanager
async def serve_target() -> AsyncIterator[Target]:
    target = Target()
    app = web.Application()
    app.router.add_get("/{path:.*}", target.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    target.base = str(server.make_url("")).rstrip("/")
    try:
        yield target
    finally:
        await server.close()


def monitor(name: str, url: str) -> str:
    return f'[[monitor]]\nname = "{name}"\nurl = "{url}"\n'


def instance(tmp_path: Path, name: str, text: str, env: dict[str, str]) -> DaemonProcess:
    """``probed run`` on ``text`` (written to monitors-NAME.toml) with ``env``, its own port
    and state directory; not started yet."""
    config = tmp_path / f"monitors-{name}.toml"
    config.write_text(text)
    port = free_port()
    env = env | {
        "PROBED_LISTEN": f"127.0.0.1:{port}",
        "STATE_DIRECTORY": str(tmp_path / f"state-{name}"),
    }
    return DaemonProcess(config, port, env=env)


async def start_instances(
    stack: AsyncExitStack, tmp_path: Path, text: str, envs: dict[str, dict[str, str]]
) -> dict[str, DaemonProcess]:
    """One ``probed run`` per entry of ``envs`` (name → its environment), all on ``text``."""
    daemons = {name: instance(tmp_path, name, text, env) for name, env in envs.items()}
    await start(stack, *daemons.values())
    return daemons


async def start(stack: AsyncExitStack, *daemons: DaemonProcess) -> None:
    """Start ``daemons`` side by side; ``stack`` stops them (side by side too) at exit."""

    async def stop() -> None:
        await asyncio.gather(*(d.stop() for d in daemons if d.proc is not None))

    stack.push_async_callback(stop)
    await asyncio.gather(*(daemon.start() for daemon in daemons))


async def values(base: str, promql: str, label: str) -> dict[str, str]:
    return {r["metric"].get(label, ""): r["value"][1] for r in await query(base, promql)}


@require_tool("prometheus", "prometheus-alertmanager")
async def test_a_monitor_down_from_two_locations_pages_once_and_from_one_not_at_all(tmp_path):
    async with AsyncExitStack() as stack:
        target = await stack.enter_async_context(serve_target())
        receiver = await Receiver().start()
        stack.push_async_callback(receiver.stop)
        am = await Alertmanager(tmp_path / "am", receiver).start()
        stack.push_async_callback(am.stop)
        text = MONITORS.format(
            shard="",
            monitors=monitor("shop", f"{target.base}/shop")
            + monitor("blog", f"{target.base}/blog"),
        )
        daemons = {
            location: instance(
                tmp_path, location, text, {"PROBED_LOCATION": location, "PROBED_SOURCE": source}
            )
            for location, source in SOURCES.items()
        }
        targets = {f"127.0.0.1:{d.port}": location for location, d in daemons.items()}
        # Prometheus starts beside them (it retries a target until it answers); a failure of
        # either cancels the other.
        async with asyncio.TaskGroup() as group:
            starting = group.create_task(
                stack.enter_async_context(prometheus(tmp_path, targets, am.url))
            )
            group.create_task(start(stack, *daemons.values()))
        prom = starting.result()

        def status_of(monitor: str) -> Awaitable[dict[str, str]]:
            return values(prom.base, f'probed_monitor_status{{monitor="{monitor}"}}', "location")

        async def shop_is(expected: dict[str, str]) -> bool:
            return await status_of("shop") == expected

        try:
            # Every location sees the shop up, each from its own address.
            await wait_for(
                lambda: shop_is({"a": "2", "b": "2", "c": "2"}), 30, "shop up everywhere"
            )
            assert {remote for _, remote in target.requests} == set(SOURCES.values())
            info = await values(prom.base, "probed_build_info", "location")
            assert set(info) == set(SOURCES)  # [probed] location, from $PROBED_LOCATION

            # Down from location a only: recorded as 1 location, and nobody is paged.
            target.failing = {"/shop": {SOURCES["a"]}}
            await wait_for(lambda: shop_is({"a": "9", "b": "2", "c": "2"}), 15, "shop down from a")
            await wait_for(
                lambda: quorum_count_is(prom.base, "1"), 5, "the rule to count 1 location"
            )
            await asyncio.sleep(2.5)  # several evaluations, and Alertmanager's group_wait
            assert am.notifications() == []
            assert await query(prom.base, "ALERTS") == []

            # Down from a and b: exactly one notification, for the shop.
            target.failing = {"/shop": {SOURCES["a"], SOURCES["b"]}}
            await wait_for(lambda: has_notifications(am.notifications(), 1), 20, "a notification")
            await asyncio.sleep(2.5)  # a second one would have come by now
            [firing] = am.notifications()
            assert firing["status"] == "firing"
            [alert] = firing["alerts"]
            assert alert["labels"]["alertname"] == "ProbedMonitorDownQuorum"
            assert alert["labels"]["monitor"] == "shop"
            assert alert["annotations"]["summary"] == "Monitor shop is down from 2 locations"
            assert (await status_of("blog")) == {"a": "2", "b": "2", "c": "2"}

            # Recovery resolves it.
            target.failing = {}
            await wait_for(lambda: has_notifications(am.notifications(), 2), 20, "the resolution")
            await asyncio.sleep(1)
            assert [n["status"] for n in am.notifications()] == ["firing", "resolved"]
            assert am.notifications()[1]["alerts"][0]["labels"]["monitor"] == "shop"
        except AssertionError as exc:
            logs = "\n".join(f"--- {n}:\n{d.logs()[-1500:]}" for n, d in daemons.items())
            raise AssertionError(
                f"{exc}\n--- prometheus:\n{prom.logs()}\n--- alertmanager:\n{am.logs()}\n{logs}"
            ) from exc


async def quorum_count_is(base: str, count: str) -> bool:
    counts = await values(base, "monitor:probed_down_locations:count", "monitor")
    return counts == {"shop": count}


async def has_notifications(notifications: list[object], count: int) -> bool:
    return len(notifications) >= count


async def test_three_shards_of_one_file_check_every_monitor_exactly_once(tmp_path):
    names = [f"site {i}" for i in range(12)]
    async with AsyncExitStack() as stack:
        target = await stack.enter_async_context(serve_target())
        text = MONITORS.format(
            shard='shard = "${PROBED_SHARD}"',
            monitors="".join(monitor(name, f"{target.base}/{i}") for i, name in enumerate(names)),
        )
        daemons = await start_instances(
            stack,
            tmp_path,
            text,
            {
                f"shard{i}": {"PROBED_SHARD": f"{i}/3", "PROBED_SOURCE": source}
                for i, source in enumerate(SOURCES.values(), 1)
            },
        )
        paths = {f"/{i}" for i in range(len(names))}

        async def every_monitor_checked() -> bool:
            return {path for path, _ in target.requests} == paths

        await wait_for(every_monitor_checked, 20, "every monitor to be checked")
        exported = {}
        for shard, daemon in daemons.items():
            metrics = await daemon.metrics()
            exported[shard] = {
                n for n in names if f'probed_monitor_status{{monitor="{n}"}}' in metrics
            }

    # Each monitor was checked from one instance's address only, and exported by that one.
    checkers: dict[str, set[str]] = {}
    for path, remote in target.requests:
        checkers.setdefault(path, set()).add(remote)
    assert set(checkers) == paths
    assert all(len(remotes) == 1 for remotes in checkers.values()), checkers
    by_source = dict(zip(SOURCES.values(), daemons, strict=True))
    for i, name in enumerate(names):
        [remote] = checkers[f"/{i}"]
        assert name in exported[by_source[remote]]
    assert sum(len(share) for share in exported.values()) == len(names)
    assert all(exported.values())  # each shard got some


async def test_a_reload_with_another_shard_stops_its_old_share_and_starts_the_new(tmp_path):
    names = [f"site {i}" for i in range(10)]
    async with AsyncExitStack() as stack:
        target = await stack.enter_async_context(serve_target())
        sites = "".join(monitor(name, f"{target.base}/{i}") for i, name in enumerate(names))

        def text(shard: str) -> str:
            return MONITORS.format(shard=f'shard = "{shard}"', monitors=sites)

        daemon = instance(tmp_path, "one", text("1/2"), {"PROBED_SOURCE": SOURCES["a"]})
        await start(stack, daemon)

        async def exported() -> set[str]:
            metrics = await daemon.metrics()
            return {n for n in names if f'probed_monitor_status{{monitor="{n}"}}' in metrics}

        async def requested_paths(seconds: float) -> set[str]:
            target.requests.clear()
            await asyncio.sleep(seconds)
            return {path for path, _ in target.requests}

        first = await requested_paths(2)
        first_exported = await exported()

        daemon.config.write_text(text("2/2"))
        daemon.signal(signal.SIGHUP)
        await wait_for(lambda: changed(exported, first_exported), 10, "the reload")
        await asyncio.sleep(1)  # a check that was running at the reload ends
        second = await requested_paths(2)
        second_exported = await exported()

    everything = {f"/{i}" for i in range(len(names))}
    assert first and second and first.isdisjoint(second)
    assert first | second == everything
    assert {f"/{names.index(n)}" for n in first_exported} == first
    assert {f"/{names.index(n)}" for n in second_exported} == second


async def changed(exported: Callable[[], Awaitable[set[str]]], before: set[str]) -> bool:
    return (await exported()) not in (before, set())
