"""The ``http`` and ``keyword`` kinds' settings and their readers (docs/design.md §2).

A reader reads the keys of its kind that are present in a monitor's table (``[defaults]``
already merged in), records wrong values on the Section and never reports a missing key: the
caller checks required keys from the check type's fields, so a reader also validates
``[defaults]``, which holds only some keys of a kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import ClassVar

from probed.config.http_client import OAuth2, authorization_problem, read_client_options
from probed.config.reader import Section, parse_status, pick, split_url

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class StatusRange:
    """An inclusive range of accepted HTTP status codes; ``2xx`` is 200-299, ``200`` is 200-200."""

    low: int
    high: int
    text: str

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and self.low <= code <= self.high


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpCheck:
    """``type = "http"``: one request, judged on the status code."""

    kind: ClassVar[str] = "http"

    method: str = "GET"
    """Upper case; a HEAD answered 405/501 is retried as GET."""
    expect_status: tuple[StatusRange, ...] = (StatusRange(200, 299, "2xx"),)
    headers: tuple[tuple[str, str], ...] = ()
    """(name, value) pairs as written, [defaults] first; names are unique ignoring case."""
    body: str | None = None
    basic_auth: BasicAuth | None = None
    follow_redirects: bool = True
    max_redirects: int = 10
    max_body: int = 10 * 1024 * 1024
    """Bytes of the body a check may read."""
    client_cert: str | None = None
    """PEM certificate for mutual TLS, with client_key (both or neither); absolute paths."""
    client_key: str | None = None
    proxy: str | None = field(default=None, repr=False)
    """``http://[user:pass@]host:port``: CONNECT for https, absolute-form for http."""
    oauth2: OAuth2 | None = None

    @property
    def key(self) -> tuple[object, ...]:
        # 0.1 stored (method, keyword, keyword_absent) for every monitor: keeping that shape
        # keeps the state of every monitor of a 0.1 database on upgrade.
        return (self.method, None, False)

    def expected_status_text(self) -> str:
        return ", ".join(r.text for r in self.expect_status)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordCheck(HttpCheck):
    """``type = "keyword"``: a GET whose body must contain (or, when absent, lack) a keyword."""

    kind: ClassVar[str] = "keyword"

    keyword: str
    keyword_case_sensitive: bool = False
    keyword_absent: bool = False

    @property
    def key(self) -> tuple[object, ...]:
        return (self.method, self.keyword, self.keyword_absent)


def read_http(sec: Section, url: str) -> HttpCheck:
    """The http keys present in sec; absent ones keep HttpCheck's defaults."""
    return read_http_keys(sec)


def read_keyword(sec: Section, url: str) -> KeywordCheck:
    """The keyword keys present in sec; a missing keyword reads as "" (the caller reports it)."""
    http = read_http_keys(sec, get_only="keyword")
    return KeywordCheck(
        **{f.name: getattr(http, f.name) for f in fields(HttpCheck)},
        keyword=pick(sec.string("keyword", nonempty=True), ""),
        keyword_case_sensitive=pick(sec.boolean("keyword_case_sensitive"), False),
        keyword_absent=pick(sec.boolean("keyword_absent"), False),
    )


def read_http_keys(sec: Section, *, get_only: str | None = None) -> HttpCheck:
    """The HttpCheck keys in sec; ``get_only``: the kind that always GETs (method must be GET)."""
    base = HttpCheck()
    method = sec.string("method")
    if method is not None:
        method = method.upper()
        if get_only and method != "GET":
            sec.problem("method", f'{get_only} checks always use GET, got "{method}"')
        elif method not in HTTP_METHODS:
            sec.problem("method", f'must be one of {", ".join(HTTP_METHODS)}; got "{method}"')
    basic_auth = None
    if (auth := sec.table("basic_auth")) is not None:
        auth.reject_unknown(("username", "password", "password_file"))
        username = pick(auth.string("username", required=True, nonempty=True), "")
        basic_auth = BasicAuth(username, pick(auth.secret("password", required=True), ""))
    client = read_client_options(sec)
    headers = tuple(pick(sec.headers("headers"), {}).items())
    if problem := authorization_problem(client.oauth2, headers, basic_auth is not None):
        sec.problem("oauth2", problem)
    return HttpCheck(
        method=pick(method, base.method),
        follow_redirects=pick(sec.boolean("follow_redirects"), base.follow_redirects),
        max_redirects=pick(sec.integer("max_redirects", 0, 50), base.max_redirects),
        max_body=pick(sec.integer("max_body", 1), base.max_body),
        expect_status=pick(_statuses(sec, "expect_status"), base.expect_status),
        basic_auth=basic_auth,
        headers=headers,
        body=sec.string("body"),
        client_cert=client.client_cert,
        client_key=client.client_key,
        proxy=client.proxy,
        oauth2=client.oauth2,
    )


def credentials_problem(
    url: str, headers: Iterable[tuple[str, str]], basic_auth: bool = False
) -> str | None:
    """Why ``url``'s own credentials (``user:pass@``) cannot go with ``basic_auth`` or an
    Authorization header among ``headers``, or None.

    The HTTP client sends one Authorization header and refuses a request that would carry two:
    every request would fail, so ``probed check`` refuses the pair."""
    try:
        parts = split_url(url)
    except ValueError:
        return None  # reported as the URL's own problem
    if not (parts.username or parts.password):
        return None
    if basic_auth:
        other = "basic_auth"
    elif named := [name for name, _ in headers if name.lower() == "authorization"]:
        other = f"headers.{named[0]}"
    else:
        return None
    return f"credentials in the URL (user:pass@) cannot be combined with {other}: keep one"


def _statuses(sec: Section, key: str) -> tuple[StatusRange, ...] | None:
    if key not in sec.data:
        return None
    raw = sec.data[key]
    ranges: list[StatusRange] = []
    for item in raw if isinstance(raw, list) else [raw]:
        value = sec.expand(key, item) if isinstance(item, str) else item
        try:
            if value is not None:
                ranges.append(StatusRange(*parse_status(value)))
        except ValueError as exc:
            sec.problem(key, str(exc))
    if raw == []:
        sec.problem(key, 'must list at least one status (the default is ["2xx"])')
    return None if key in sec.failed else tuple(ranges)
