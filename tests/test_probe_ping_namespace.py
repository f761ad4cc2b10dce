"""Ping checks where the kernel is set otherwise than on this host: each runs in a network
namespace of its own (unshare), as root or as nobody without capabilities."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# The cases that need the kernel set otherwise (a range of groups, a host that stays silent, a
# process without CAP_NET_RAW) run in a network namespace of their own: its sysctls and its
# loopback are its own, and nothing it sends leaves it.
IN_NAMESPACE = """
import asyncio, json, sys
from datetime import UTC, datetime
from probed.probes import make_session, run_probe
from tests.kit.monitors import make_monitor

async def main():
    monitor = make_monitor(kind="ping", url=sys.argv[1], timeout=2, count=3)
    async with make_session() as session:
        result = await run_probe(monitor, session, datetime.now(UTC))
    icmp = result.icmp
    print(json.dumps([result.ok, result.reason, icmp and [icmp.received, icmp.hop_limit],
                      result.duration, result.evidence and result.evidence.facts]))

asyncio.run(main())
"""
NOBODY = [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
]


def in_namespace(
    url: str, sysctls: dict[str, str], *, nobody: bool, code: str = IN_NAMESPACE
) -> list[Any]:
    """run_probe of a ping to ``url`` in a new network namespace with ``sysctls`` set, as
    root or as nobody without capabilities; skips where no namespace can be made."""
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("no unshare or setpriv on this host")
    setup = ["ip link set lo up", *(f"sysctl -qw {k}='{v}'" for k, v in sysctls.items())]
    run = [*(NOBODY if nobody else []), sys.executable, "-c", code, url]
    script = " && ".join(setup) + ' && exec "$@"'
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, "sh", *run],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parent.parent,
    )
    if done.returncode != 0 and ("unshare" in done.stderr or "sysctl" in done.stderr):
        pytest.skip(f"cannot set up a network namespace: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    result: list[Any] = json.loads(done.stdout)
    return result


WIDE = {"net.ipv4.ping_group_range": "0 2147483647"}
SHUT = {"net.ipv4.ping_group_range": "1 0"}


def test_a_process_without_privileges_pings_through_the_groups_the_kernel_allows() -> None:
    ok, reason, (received, hop_limit), *_ = in_namespace("127.0.0.1", WIDE, nobody=True)
    assert (ok, received, hop_limit) == (True, 3, 64), reason


def test_a_process_holding_cap_net_raw_pings_where_no_group_is_allowed() -> None:
    ok, reason, (received, hop_limit), *_ = in_namespace("127.0.0.1", SHUT, nobody=False)
    assert (ok, received, hop_limit) == (True, 3, 64), reason


def test_with_neither_the_reason_names_the_sysctl_and_the_capability() -> None:
    ok, reason, icmp, *_ = in_namespace("127.0.0.1", SHUT, nobody=True)
    assert (ok, icmp) == (False, None)
    assert reason.startswith("probe host: not allowed to send ICMP: the sysctl")
    assert "net.ipv4.ping_group_range" in reason and "AmbientCapabilities=CAP_NET_RAW" in reason


@pytest.mark.parametrize("nobody", [True, False], ids=["datagram socket", "raw socket"])
def test_a_host_that_does_not_answer_is_down_within_the_timeout(nobody: bool) -> None:
    silent = {**WIDE, "net.ipv4.icmp_echo_ignore_all": "1"}
    found = in_namespace("127.0.0.1", silent, nobody=nobody)
    ok, reason, (received, hop_limit), duration, facts = found
    assert (ok, reason, received, hop_limit) == (False, "no reply to 3 echo requests", 0, None)
    assert 1.5 < duration < 2  # each request waited its share of the 2s timeout
    assert facts == [["address", "127.0.0.1"], ["replies", "0/3"]]  # the incident's evidence


def test_a_host_with_no_route_to_the_target_is_the_probe_hosts_failure() -> None:
    # A namespace with loopback alone: the request cannot even be sent.
    ok, reason, icmp, *_ = in_namespace("10.1.2.3", WIDE, nobody=True)
    assert (ok, reason, icmp) == (False, "probe host: no route to the network", None)


def test_more_requests_than_the_timeout_holds_still_end_within_it() -> None:
    silent = {**WIDE, "net.ipv4.icmp_echo_ignore_all": "1"}
    url = "127.0.0.1"
    script = IN_NAMESPACE.replace("count=3", "count=100")
    ok, reason, (received, _), duration, _ = in_namespace(url, silent, nobody=True, code=script)
    assert (ok, received) == (False, 0) and reason.startswith("no reply to ")
    assert duration < 2  # fewer than 100 sent, and no "timeout after 2s"
