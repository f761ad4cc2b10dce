"""End to end: ``probed run`` checks mail servers (aiosmtpd with STARTTLS, the kit's IMAP greeter
over implicit TLS, a POP3 port answering garbage) and reports them in its API and metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import trustme

from tests.kit.certs import issue, server_context, write_ca
from tests.kit.mail_servers import Greeter, greeter_server
from tests.kit.processes import DaemonProcess, free_port
from tests.kit.servers import raw_server, wait_for
from tests.kit.smtp import SmtpServer
from tests.test_daemon_e2e import write_config

pytestmark = pytest.mark.slow


async def test_the_daemon_checks_smtp_imap_and_pop3_servers(tmp_path: Path, ca: trustme.CA) -> None:
    context = server_context(issue(ca, expires_in=timedelta(days=90)))
    ca_file = write_ca(ca, tmp_path)

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    smtp = await SmtpServer(starttls=context).start()
    try:
        async with (
            greeter_server(Greeter("imap"), implicit_tls=context) as imaps,
            raw_server(garbage) as pop3,
        ):
            port = free_port()
            config = write_config(
                tmp_path,
                port,
                f"""
[defaults]
interval = "1s"
timeout = "1s"
down_after = 1

[[monitor]]
name = "relay"
type = "smtp"
url = "smtp://127.0.0.1:{smtp.port}"
ca_file = "{ca_file}"
starttls = true
ehlo = "probe.example.test"
expect_banner = "probed-test-smtp"

[[monitor]]
name = "imap"
type = "imap"
url = "imaps://127.0.0.1:{imaps}"
ca_file = "{ca_file}"

[[monitor]]
name = "pop"
type = "pop3"
url = "pop3://127.0.0.1:{pop3}"
""",
            )
            daemon = DaemonProcess(config, port)
            await daemon.start()
            try:
                async with aiohttp.ClientSession() as session:

                    async def states() -> dict[str, dict[str, object]] | None:
                        async with session.get(daemon.base + "/api/v1/monitors") as resp:
                            found = {m["name"]: m for m in (await resp.json())["monitors"]}
                        labels = {name: m["state"] for name, m in found.items()}
                        done = labels == {"relay": "up", "imap": "up", "pop": "down"}
                        return found if done else None

                    found = await wait_for(states, 15, "relay and imap up, pop down")
                metrics = await daemon.metrics()
            finally:
                assert await daemon.stop() == 0
    finally:
        await smtp.stop()
    relay, imap, pop = found["relay"], found["imap"], found["pop"]
    assert str(relay["reason"]).startswith("SMTP ready, certificate valid for 89 days")
    assert relay["cert_expires_at"] is not None and imap["cert_expires_at"] is not None
    assert relay["type"] == "smtp" and imap["type"] == "imap" and pop["type"] == "pop3"
    assert str(imap["reason"]).startswith("IMAP ready, certificate valid for")
    assert pop["reason"] == 'not a POP3 greeting: "HTTP/1.1 400 Bad Request"'
    for name, success in (("relay", 1), ("imap", 1), ("pop", 0)):
        assert f'probe_success{{monitor="{name}"}} {success}.0' in metrics
    assert 'probe_ssl_earliest_cert_expiry{monitor="relay"}' in metrics
    assert 'probe_tls_version_info{monitor="imap",version="TLS 1.3"} 1.0' in metrics
