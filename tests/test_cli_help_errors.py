"""The CLI's help, and the errors a new user meets first, as a user runs them (subprocesses)."""

from __future__ import annotations

import argparse
import json
import os
import socket
from datetime import timedelta

import pytest
import trustme

from probed.cli import build_parser
from tests.kit.certs import issue, server_context, write_ca
from tests.kit.processes import free_port, run_cli
from tests.kit.servers import Target, serve

COMMANDS = ["run", "check", "probe", "status", "pause", "resume", "reload", "announce", "init"]
COMMANDS += ["test-alert", "import", "incidents", "incident", "ack", "postmortem"]
COMMANDS += ["update"]
COMMANDS += ["maintenance"]
COMMANDS += ["report"]
COMMANDS += ["subscribers"]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_option_and_argument_of_every_command_has_help():
    parsers = {"probed": build_parser(), **subcommands()}
    assert set(parsers) == {"probed", *COMMANDS}
    missing = [
        f"{name} {action.dest}"
        for name, parser in parsers.items()
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


async def test_help_ends_with_examples_and_exit_codes():
    code, out, _ = await run_cli("--help")
    assert code == 0
    assert "examples:\n  probed init" in out and "exit codes:\n  0  ok" in out
    for command in COMMANDS:
        code, out, _ = await run_cli(command, "--help")
        assert code == 0
        assert f"examples:\n  probed {command}" in out or "examples:\n  PROBED_" in out, command
        assert "\nexit codes: 0 " in out, command


@pytest.mark.parametrize(
    ("args", "env", "source"),
    [
        (["check", "-c", "/nonexistent/monitors.toml"], {}, "given with -c"),
        (["run"], {"PROBED_CONFIG": "/nonexistent/monitors.toml"}, "from $PROBED_CONFIG"),
    ],
)
async def test_a_missing_config_names_where_its_path_came_from(args, env, source):
    code, _, err = await run_cli(*args, env={**os.environ, **env})
    assert code == 1
    assert f"/nonexistent/monitors.toml: no such config file ({source})" in err
    assert "-c FILE or $PROBED_CONFIG" in err


async def test_the_default_config_path_is_named_when_neither_is_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PROBED_CONFIG"}
    code, _, err = await run_cli("check", env=env, cwd=tmp_path)
    assert code == 1
    assert "monitors.toml: no such config file (the default, as neither -c nor" in err


async def test_an_unquoted_duration_gets_a_hint(tmp_path):
    config = tmp_path / "monitors.toml"
    config.write_text('[defaults]\ninterval = 5m\n[[monitor]]\nname = "a"\nurl = "http://x"\n')
    code, _, err = await run_cli("check", "-c", str(config))
    assert code == 1
    assert "invalid TOML" in err and 'durations are strings: interval = "5m"' in err


async def test_run_names_the_listen_key_when_its_port_is_taken(tmp_path):
    port = free_port()
    config = tmp_path / "monitors.toml"
    config.write_text(f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "state"\n')
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        code, _, err = await run_cli("run", "-c", str(config))
    assert code == 2
    (line,) = (json.loads(line) for line in err.splitlines() if "cannot listen" in line)
    assert line["hint"] == (
        f'choose another address with "listen" in [probed] of {config} (or $PROBED_LISTEN)'
    )


async def test_probe_trusts_the_ca_file_it_is_given(tmp_path):
    ca = trustme.CA()
    ca_file = write_ca(ca, tmp_path)
    context = server_context(issue(ca, expires_in=timedelta(days=90)))
    async with serve(Target(), ssl_context=context) as target:
        url = target.url("/status/200")
        assert url.startswith("https://127.0.0.1:")
        untrusted = await run_cli("probe", url)
        trusted = await run_cli("probe", "--ca-file", ca_file, url)
    assert untrusted[0] == 2 and "certificate" in untrusted[1].lower()
    assert trusted[0] == 0, trusted
    assert "reason:      HTTP 200" in trusted[1]


async def test_probe_refuses_a_ca_file_it_cannot_load(tmp_path):
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    code, out, err = await run_cli("probe", "--ca-file", str(not_pem), "https://127.0.0.1:9/")
    assert code == 1 and out == ""
    assert f"--ca-file {not_pem}" in err
