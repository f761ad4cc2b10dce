"""The systemd unit restarts probed after a failure, except after a config error, which would
fail the same way every 5 s until a person fixes the file."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from tests.kit.processes import free_port, probed

ROOT = Path(__file__).parent.parent


def prevented() -> set[int]:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((ROOT / "systemd" / "probed.service").read_text(encoding="utf-8"))
    assert unit["Service"]["Restart"] == "on-failure"
    return {int(code) for code in unit["Service"]["RestartPreventExitStatus"].split()}


def test_a_config_error_is_not_restarted_and_prints_at_most_50_problems(tmp_path: Path) -> None:
    config = tmp_path / "monitors.toml"
    config.write_text(
        "".join(f'[[monitor]]\nname = "m{i}"\nurl = "ftp://u:pw@host/"\n' for i in range(500)),
        encoding="utf-8",
    )
    done = probed("run", "-c", str(config))
    assert done.returncode in prevented()
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
    problems = [e["problem"] for e in lines if e["event"] == "invalid configuration"]
    assert len(problems) == 51  # 50 problems, then how many more
    assert problems[-1] == "… and 450 more problems"
    assert not any("u:pw@" in problem for problem in problems)


def test_a_daemon_that_cannot_run_yet_is_restarted(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nlisten = "127.0.0.1:{free_port()}"\nstate_dir = "{blocker / "state"}"\n',
        encoding="utf-8",
    )
    done = probed("run", "-c", str(config))
    assert done.returncode == 2, done.stderr
    assert done.returncode not in prevented()
