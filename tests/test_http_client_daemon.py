"""HTTP client options end to end: a real daemon checks a mutual-TLS server, a target behind
a CONNECT proxy (and a proxy that never answers) and an OAuth2 API, and shows no secret in its
API, status page or logs; ``probed probe`` takes the same options as flags."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme

from tests.kit.certs import issue, server_context, write_ca
from tests.kit.processes import DaemonProcess, free_port, run_cli
from tests.kit.proxy import Proxy, serve_proxy
from tests.kit.servers import Target, serve, wait_for
from tests.kit.token_server import serve_tokens

pytestmark = pytest.mark.slow

SECRETS = ("pr0xy-pass", "cl1ent-s3cret", "tok-1-abcdef")


def mutual_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = server_context(issue(ca, expires_in=timedelta(days=90)))
    context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(context)
    return context


def client_pair(ca: trustme.CA, directory: Path) -> tuple[Path, Path]:
    cert = ca.issue_cert("probe.example.test")
    cert.cert_chain_pems[0].write_to_path(str(directory / "client.pem"))
    cert.private_key_pem.write_to_path(str(directory / "client.key"))
    return directory / "client.pem", directory / "client.key"


async def test_a_daemon_checks_through_mtls_a_proxy_and_oauth2_and_shows_no_secret(
    tmp_path: Path, ca: trustme.CA
) -> None:
    ca_file = write_ca(ca, tmp_path)
    cert, key = client_pair(ca, tmp_path)
    (tmp_path / "idp-secret").write_text("cl1ent-s3cret\n")
    port = free_port()
    async with (
        serve(Target(), mutual_tls(ca)) as mtls,
        serve(Target(), server_context(issue(ca, expires_in=timedelta(days=90)))) as behind,
        serve_proxy() as proxy,
        serve_proxy(Proxy(silent=True)) as silent,
        serve_tokens() as tokens,
    ):
        config = tmp_path / "monitors.toml"
        config.write_text(
            f'[probed]\nlisten = "127.0.0.1:{port}"\nstate_dir = "{tmp_path / "state"}"\n'
            'shutdown_grace = "2s"\n\n'
            f'[defaults]\ninterval = "1s"\ntimeout = "1s"\ndown_after = 1\n\n'
            f'[[monitor]]\nname = "mtls"\nurl = "{mtls.url("/status/200")}"\n'
            f'ca_file = "{ca_file}"\nclient_cert = "{cert.name}"\nclient_key = "{key.name}"\n\n'
            f'[[monitor]]\nname = "proxied"\nurl = "{behind.url("/status/200")}"\n'
            f'ca_file = "{ca_file}"\nproxy = "{proxy.url_with("bob", "pr0xy-pass")}"\n\n'
            f'[[monitor]]\nname = "silent"\nurl = "{behind.url("/status/200")}"\n'
            f'ca_file = "{ca_file}"\nproxy = "{silent.url_with("bob", "pr0xy-pass")}"\n\n'
            f'[[monitor]]\nname = "oauth"\ntype = "json"\njson_query = "ok"\n'
            f'url = "{tokens.url("/api")}"\n'
            f'oauth2 = {{ token_url = "{tokens.url("/token")}", client_id = "probe",'
            ' client_secret_file = "idp-secret", scopes = ["read"] }\n'
        )
        daemon = DaemonProcess(config, port)
        await daemon.start()
        try:
            monitors: dict[str, Any] = {}

            async def settled() -> bool:
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(daemon.base + "/api/v1/monitors") as resp,
                ):
                    body = await resp.text()
                    listed = (await resp.json())["monitors"]
                monitors.clear()
                monitors.update({m["name"]: m for m in listed})
                monitors["raw"] = body
                return all(
                    monitors[n]["state"] in ("up", "down")
                    for n in ["mtls", "proxied", "silent", "oauth"]
                )

            await wait_for(settled, 15, "every monitor checked")
            assert await daemon.metric("probe_success", "mtls") == 1
            assert await daemon.metric("probe_success", "proxied") == 1
            assert await daemon.metric("probe_success", "oauth") == 1
            assert await daemon.metric("probe_success", "silent") == 0
            async with aiohttp.ClientSession() as session, session.get(daemon.base + "/") as r:
                page = await r.text()
        finally:
            assert await daemon.stop() == 0
    assert tokens.issued == 1  # cached across checks
    assert proxy.seen and proxy.seen[0].method == "CONNECT"
    raw = monitors["raw"]
    assert "waiting for the proxy's answer to CONNECT" in raw
    for secret in SECRETS:
        assert secret not in raw and secret not in page and secret not in daemon.logs()


async def test_probe_takes_the_client_options_as_flags(tmp_path: Path, ca: trustme.CA) -> None:
    ca_file = write_ca(ca, tmp_path)
    cert, key = client_pair(ca, tmp_path)
    async with serve(Target(), mutual_tls(ca)) as mtls, serve_proxy() as proxy:
        url = mtls.url("/status/200")
        ok = await run_cli(
            "probe",
            "--ca-file",
            ca_file,
            "--client-cert",
            str(cert),
            "--client-key",
            str(key),
            "--proxy",
            proxy.url_with("bob", "pr0xy-pass"),
            url,
        )
        half = await run_cli("probe", "--client-cert", str(cert), url)
    code, out, err = ok
    assert code == 0, out + err
    assert out.startswith("UP  http") and "tls:" in out
    assert [r.method for r in proxy.seen] == ["CONNECT"]
    assert half[0] == 1 and "--client-cert and --client-key go together" in half[2]
