"""Credentials out of sight: ``https://user:pass@host/`` is shown as ``https://user:***@host/``
wherever a person or a client sees a monitor's URL (API, emails, CLI, logs, the database).
Imports nothing from probed."""

from __future__ import annotations

import re

_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/\s?#]*)@", re.I)
"""The userinfo of every URL in a text; greedy up to the authority's last ``@``, so a password
that contains ``@`` is hidden whole."""


def _hide(match: re.Match[str]) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    # user:password keeps the user; a lone userinfo is usually a token, hidden whole.
    shown = f"{user}:***" if colon else "***"
    return f"{match['scheme']}{shown}@"


def redact(text: str) -> str:
    """``text`` with the password (or token) of every URL in it replaced by ``***``."""
    # Every value of every log line comes through here: most have no "@", which the pattern
    # needs, and the test is far cheaper than the regular expression's scan.
    if "@" not in text:
        return text
    return _URL_USERINFO.sub(_hide, text)


_HINTS = ("key", "token", "secret", "passw", "auth")
"""Words in a name that say its value is a secret (query parameters; auth also headers)."""
_SECRET_PARAM = re.compile(
    rf"(?P<name>[?&;][^=&;\s#'\"]*(?:{'|'.join(_HINTS)})[^=&;\s#'\"]*=)[^&;\s#'\"]*",
    re.I,
)
"""A query parameter whose name says it holds a secret (``api_key=``, ``token=``), in a URL or a
request line quoted anywhere in a text (aiohttp quotes the bytes it refuses)."""
_AUTH_HEADER = re.compile(
    r"(?P<name>(?:proxy-)?authorization\s*[:=]\s*['\"]?)(?:(?P<scheme>[a-z][\w.-]*) +)?"
    r"[^\s'\",]+",
    re.I,
)
"""An Authorization header's credentials, with or without a scheme (``Bearer …``, ``Basic …``)."""


def _hide_header(match: re.Match[str]) -> str:
    scheme = f"{match['scheme']} " if match["scheme"] else ""
    return f"{match['name']}{scheme}***"


def redact_request(text: str) -> str:
    """``redact(text)`` that also hides secret query parameters and Authorization credentials:
    for log lines, which may quote a request line or a header as a client sent it."""
    text = redact(text)
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    return _AUTH_HEADER.sub(_hide_header, _SECRET_PARAM.sub(r"\g<name>***", text))
