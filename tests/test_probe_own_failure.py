"""A check that fails on a bug in probed (an ``unexpected error``) is the probe host's failure:
the target is not blamed, no alert goes out, and the bug is logged at ERROR once per monitor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
from structlog.testing import capture_logs

from probed.config import BasicAuth
from probed.model import Status
from probed.probes.reasons import describe_error, own_failure
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor
from tests.kit.servers import Target
from tests.kit.smtp import SmtpServer


async def test_a_request_the_client_cannot_build_never_takes_the_monitor_down(
    tmp_path: Path,
    target: Target,
    session: aiohttp.ClientSession,
    smtp: SmtpServer,
    harnesses: Callable[..., Harness],
) -> None:
    # URL credentials and basic_auth together: `probed check` refuses them, but a Monitor built
    # otherwise (or a future bug) makes aiohttp raise ValueError before any byte is sent.
    url = target.url("/status/200").replace("http://", "http://user:hunter2@")
    monitors = [
        make_monitor("bugged", url=url, down_after=1, basic_auth=BasicAuth("a", "b")),
        make_monitor("also bugged", url=url, down_after=1, basic_auth=BasicAuth("a", "b")),
    ]
    harness = harnesses(make_config(tmp_path, monitors, email_channel(smtp.port)), session=session)
    with capture_logs() as logs:
        for _ in range(3):
            for monitor in monitors:
                await harness.pipeline.check(monitor.name)
                harness.clock.advance(30)
    for monitor in monitors:
        tracked = harness.tracked(monitor.name)
        assert tracked.state.status is Status.PENDING
        assert tracked.state.reason.startswith("probe host: unexpected error: ValueError")
        assert "hunter2" not in tracked.state.reason
        assert harness.kinds(monitor.name) == []
    assert harness.rows() == []
    assert target.seen == []
    errors = [e for e in logs if e["log_level"] == "error"]
    assert sorted(e["monitor"] for e in errors) == ["also bugged", "bugged"]
    assert all("ValueError" in e["traceback"] for e in errors)


def test_only_what_no_target_can_cause_is_probed_own_failure() -> None:
    assert own_failure(ConnectionRefusedError()) is None
    assert own_failure(aiohttp.ServerDisconnectedError()) is None
    assert own_failure(KeyError("x")) == "probe host: unexpected error: KeyError: 'x'"
    bug = ValueError("bad https://u:pw@host/")
    assert own_failure(bug) == "probe host: unexpected error: ValueError: bad https://u:***@host/"
    assert describe_error(bug) == "unexpected error: ValueError: bad https://u:***@host/"
