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
