"""The ``STATUS=`` line systemd shows reads right for one and for many: ``1 monitor``, ``2
monitors``, ``1 write waiting``, ``2 writes waiting``; and so do the other counted words."""

from __future__ import annotations

from datetime import datetime

import pytest

from probed.alerts.messages import render
from probed.alerts.payload import Payload
from probed.alerts.policy import AlertKind
from probed.config import Monitor
from probed.model import CheckResult
from probed.service.build import build
from probed.service.sdnotify import Notifier
from probed.units import counted
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import make_config
from tests.kit.harness import good
from tests.kit.monitors import make_monitor
from tests.test_disk_full import cap_and_fill
from tests.test_sdnotify import FakeSystemd


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 writes"), (1, "1 write"), (2, "2 writes"), (37, "37 writes")]
)
def test_a_count_names_its_noun_in_the_singular_only_for_one(count, text):
    assert counted(count, "write") == text


@pytest.mark.parametrize("monitors", [1, 2])
async def test_status_counts_monitors_and_held_writes_in_good_grammar(tmp_path, monitors):
    clock = FakeClock()
    names = [f"m{i}" for i in range(monitors)]
    config = make_config(tmp_path, [make_monitor(n) for n in names], None)
    systemd = FakeSystemd(str(tmp_path / "notify.sock"), str(tmp_path / "notify.sock"))

    async def probe(monitor: Monitor, now: datetime) -> CheckResult:
        return good(clock.advance(1))

    noun = "monitor" if monitors == 1 else "monitors"
    with Notifier(systemd.env()) as notifier:
        parts = build(config, clock, probe=probe, notifier=notifier)
        try:
            for name in names:  # every monitor's first check: a transition, stored at once
                await parts.pipeline.check(name)
            assert parts.summary() == f"{monitors} {noun}: {monitors} up"
            systemd.messages()  # what start-up said
            cap_and_fill(parts.store, parts.pipeline.monitors[names[0]], clock)
            for name in names:  # one more check each, which the full file refuses
                await parts.pipeline.check(name)
            writes = "1 write" if monitors == 1 else "2 writes"
            full = f"state database: database or disk is full; {writes} waiting"
            assert parts.summary() == f"{monitors} {noun}: {monitors} up; {full}"
            # systemd hears when writes start waiting: the first refused one.
            first = "state database: database or disk is full; 1 write waiting"
            assert systemd.messages()[0] == f"STATUS={monitors} {noun}: {monitors} up; {first}"
            parts.store.cap_pages(None)
            assert parts.backlog.flush()
            assert systemd.messages()[-1] == f"STATUS={monitors} {noun}: {monitors} up"
        finally:
            await parts.aclose()
            systemd.sock.close()


def test_an_ssl_warning_for_one_day_says_1_day():
    payload = Payload(monitor="cert", days_left=1, url="https://cert.example.test/")
    message = render(AlertKind.SSL, [payload], "<ssl-1@example.test>", T0)
    assert "The TLS certificate of cert expires in 1 day." in message.text
    assert message.subject == "[probed] SSL: cert certificate expires in 1 day"
