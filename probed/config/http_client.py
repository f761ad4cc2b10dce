"""How an HTTP check reaches its target (docs/design.md §19.4): a client certificate (mutual
TLS), a forward proxy and OAuth2 client credentials; shared by the http, keyword and json kinds.
The reader contract is in probed.config.http."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from probed.config.reader import Section, pick, url_problem
from probed.redact import redact

OAUTH2_KEYS = ("token_url", "client_id", "client_secret", "client_secret_file", "scopes")


@dataclass(frozen=True, slots=True)
class OAuth2:
    """Client-credentials grant: a bearer token from ``token_url`` for every request."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()

    @property
    def cache_key(self) -> tuple[str, str, tuple[str, ...]]:
        """Monitors with the same key share one token."""
        return (self.token_url, self.client_id, self.scopes)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """The keys read by read_client_options, as HttpCheck stores them."""

    client_cert: str | None = None
    client_key: str | None = None
    proxy: str | None = field(default=None, repr=False)
    oauth2: OAuth2 | None = None


def read_client_options(sec: Section) -> ClientOptions:
    """client_cert/client_key (both or neither, readable, a matching pair), proxy (an
    ``http://`` URL; shown redacted in problems) and the oauth2 table."""
    cert = sec.path("client_cert")
    key = sec.path("client_key")
    for present, missing in (("client_cert", "client_key"), ("client_key", "client_cert")):
        if present in sec.data and missing not in sec.data:
            sec.problem(missing, f"missing (required with {present})")
    if cert is not None and key is not None:
        try:
            # Load the pair now: a key that does not match fails `probed check`, not a check.
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            why = str(exc.reason or exc).lower().replace("_", " ")  # KEY_VALUES_MISMATCH
            sec.problem("client_key", f'"{key}" is not the key of "{cert}" ({why})')
    return ClientOptions(
        client_cert=None if cert is None else str(cert),
        client_key=None if key is None else str(key),
        proxy=_proxy(sec),
        oauth2=_oauth2(sec),
    )


def _proxy(sec: Section) -> str | None:
    proxy = sec.string("proxy", nonempty=True)
    if proxy is None:
        return None
    parts = urlsplit(proxy)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "http" or not parts.hostname or port == -1:
        sec.problem(
            "proxy", f'must be an http:// URL such as "http://proxy:3128", got "{redact(proxy)}"'
        )
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        sec.problem("proxy", f'must be the proxy\'s address alone, got "{redact(proxy)}"')
        return None
    return proxy


def _oauth2(sec: Section) -> OAuth2 | None:
    table = sec.table("oauth2")
    if table is None:
        return None
    table.reject_unknown(OAUTH2_KEYS)
    token_url = table.string("token_url", required=True, nonempty=True)
    if token_url is not None and (problem := url_problem(token_url)):
        table.problem("token_url", problem)
    oauth2 = OAuth2(
        token_url=pick(token_url, ""),
        client_id=pick(table.string("client_id", required=True, nonempty=True), ""),
        client_secret=pick(table.secret("client_secret", required=True), ""),
        scopes=pick(table.strings("scopes"), ()),
    )
    if table.failed:
        sec.failed.add("oauth2")
        return None
    return oauth2


def authorization_problem(
    oauth2: OAuth2 | None, headers: tuple[tuple[str, str], ...], basic_auth: bool
) -> str | None:
    """Why oauth2 cannot go with basic_auth or an Authorization header, or None: a request
    carries one Authorization header, and oauth2 sends its own."""
    if oauth2 is None:
        return None
    if basic_auth:
        return "cannot be combined with basic_auth: both send the Authorization header"
    if named := [name for name, _ in headers if name.lower() == "authorization"]:
        return f"cannot be combined with headers.{named[0]}: oauth2 sends the Authorization header"
    return None
