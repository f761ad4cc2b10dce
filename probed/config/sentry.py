"""``[probed] sentry_dsn`` (docs/design.md §19.5): where probed's own errors are reported."""

from __future__ import annotations

import re
from collections.abc import Mapping

from probed.config.reader import Section
from probed.redact import redact

_DSN = re.compile(r"https?://[^/\s:@]+(?::[^/\s@]*)?@[^/\s@]+/(?:[^\s?#]*/)?\d+/?")
"""A Sentry DSN: ``https://PUBLIC_KEY@HOST[:PORT]/[PATH/]PROJECT_ID`` (the secret key of old
DSNs after a colon is still accepted by the SDK)."""


def read_sentry_dsn(sec: Section, env: Mapping[str, str]) -> str | None:
    """``[probed] sentry_dsn``, else $SENTRY_DSN (as Sentry's SDKs read it); None: not reported.

    An empty ``sentry_dsn`` turns reporting off even when $SENTRY_DSN is set.
    """
    dsn, where = sec.string("sentry_dsn"), "sentry_dsn"
    if dsn is None and "sentry_dsn" not in sec.data and env.get("SENTRY_DSN"):
        dsn, where = env["SENTRY_DSN"], "sentry_dsn (from $SENTRY_DSN)"
    if not dsn:
        return None
    if not _DSN.fullmatch(dsn):
        # redact(): a DSN's key is not meant for everyone who reads probed's output.
        sec.problem(
            where,
            f"must be a Sentry DSN (an http or https URL with the project's key as its user and"
            f" the project's number as its last path part), got {redact(dsn)!r}",
        )
        return None
    return dsn
