"""``probed probe`` and ``probed test-alert`` show that they are waiting, on a terminal only;
``probe`` reports the TLS handshake apart from the TCP connect."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys
from datetime import timedelta
from pathlib import Path

import trustme

from tests.kit.certs import issue, server_context, write_ca
from tests.kit.processes import run_cli
from tests.kit.servers import Target, serve

SPINNER = re.compile(r"\r\x1b\[2K[|/\\-] checking http://127\.0\.0\.1:\d+/hang \d+\.\ds")


async def run_on_terminal(*args: str) -> tuple[int, str, str]:
    """``probed ARGS`` with stderr on a pseudo-terminal; stdout stays a pipe."""
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "probed",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    out = await asyncio.wait_for(proc.stdout.read(), 30) if proc.stdout else b""
    await asyncio.wait_for(proc.wait(), 30)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end and everything was read
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), terminal.decode()


async def test_probe_shows_a_spinner_on_a_terminal_and_erases_it(target: Target) -> None:
    code, out, terminal = await run_on_terminal("probe", "--timeout", "1s", target.url("/hang"))

    assert code == 2
    assert "timeout after 1s" in out
    frames = SPINNER.findall(terminal)
    assert len(frames) >= 3, terminal  # 0.1 s apart over a 1 s wait
    assert terminal.endswith("\r\x1b[2K")  # the last thing written erases the line


async def test_probe_shows_nothing_when_stderr_is_not_a_terminal(target: Target) -> None:
    code, out, err = await run_cli("probe", "--timeout", "1s", target.url("/hang"))

    assert code == 2 and "timeout after 1s" in out
    assert err == ""


async def test_test_alert_shows_a_spinner_while_the_mail_server_does_not_answer(
    tmp_path: Path,
) -> None:
    # A server that accepts the connection and never greets: the wait a person sees.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = tmp_path / "monitors.toml"
    config.write_text(
        f'[probed]\nstate_dir = "{tmp_path}"\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'timeout = "1s"\nfrom = "probed@example.test"\nto = ["oncall@example.test"]\n'
    )
    async with server:
        code, out, terminal = await run_on_terminal("test-alert", "-c", str(config))

    assert code == 2 and "email: FAILED" in out
    assert re.search(r"[|/\\-] sending test alert \d+\.\ds", terminal), terminal


async def test_probe_reports_the_tls_handshake_apart_from_connect(tmp_path: Path) -> None:
    ca = trustme.CA()
    context = server_context(issue(ca, expires_in=timedelta(days=90)))
    async with serve(Target(), ssl_context=context) as target:
        code, out, _ = await run_cli(
            "probe", "--ca-file", write_ca(ca, tmp_path), target.url("/status/200")
        )

    assert code == 0, out
    connect = re.search(r"^  connect: +(\d+\.\d) ms$", out, re.M)
    tls = re.search(r"^  tls: +(\d+\.\d) ms$", out, re.M)
    assert connect and tls, out
    assert float(tls.group(1)) > 0
    assert re.search(r"^  protocol: +TLS 1\.[23]$", out, re.M), out
