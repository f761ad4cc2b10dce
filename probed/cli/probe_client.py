"""``probed probe``'s HTTP client flags: a client certificate, a proxy and OAuth2 client
credentials, checked as ``probed check`` checks the same keys (docs/design.md §19.4)."""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path

from probed.config.http_client import ClientOptions, OAuth2
from probed.config.reader import url_problem
from probed.redact import redact


def add_client_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-cert", metavar="PEM", help="http: client certificate (mutual TLS)")
    p.add_argument("--client-key", metavar="PEM", help="http: the client certificate's key")
    p.add_argument("--proxy", metavar="URL", help="http: send through http://[user:pass@]host:port")
    p.add_argument("--oauth2-token-url", metavar="URL", help="http: OAuth2 token endpoint")
    p.add_argument("--oauth2-client-id", metavar="ID", help="http: OAuth2 client id")
    p.add_argument(
        "--oauth2-client-secret-file", metavar="FILE", help="http: file holding the client secret"
    )
    p.add_argument(
        "--oauth2-scope", action="append", default=[], help="http: an OAuth2 scope (repeat)"
    )


def client_options(args: argparse.Namespace) -> ClientOptions | str:
    """The flags as ClientOptions, or the usage error (``--flag: why``)."""
    cert, key = args.client_cert, args.client_key
    if (cert is None) != (key is None):
        return "--client-cert and --client-key go together"
    if cert is not None:
        cert, key = str(Path(cert).absolute()), str(Path(key).absolute())
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            return f"--client-cert/--client-key: {exc}"
    proxy = args.proxy
    if proxy is not None and (not proxy.startswith("http://") or url_problem(proxy)):
        return f'--proxy: must be an http:// URL such as "http://proxy:3128", got "{redact(proxy)}"'
    oauth2 = None
    given = [args.oauth2_token_url, args.oauth2_client_id, args.oauth2_client_secret_file]
    if any(given):
        if not all(given):
            return (
                "--oauth2-token-url, --oauth2-client-id and --oauth2-client-secret-file go together"
            )
        if problem := url_problem(args.oauth2_token_url):
            return f"--oauth2-token-url: {problem}"
        try:
            secret = Path(args.oauth2_client_secret_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return f"--oauth2-client-secret-file: {exc}"
        oauth2 = OAuth2(
            args.oauth2_token_url, args.oauth2_client_id, secret, tuple(args.oauth2_scope)
        )
    return ClientOptions(client_cert=cert, client_key=key, proxy=proxy, oauth2=oauth2)
