"""OAuth2 client credentials for HTTP checks: the token endpoint's answer, cached per
(token_url, client_id, scopes) until shortly before it expires (docs/design.md §19.4)."""

from __future__ import annotations

import json
import ssl

import aiohttp

from probed.config.http_client import OAuth2
from probed.probes.check import PhaseTracker, ProbeError
from probed.probes.reasons import target_reason

_MAX_ANSWER = 64 * 1024
"""Bytes of a token endpoint's answer read: a token answer is a few hundred."""
_MARGIN = 30.0
"""Seconds before its expiry a token is no longer used: a check must not send one that
expires on the way."""
_NO_EXPIRY = 3600.0
"""Lifetime assumed for a token given without ``expires_in`` (a 401 still replaces it)."""

_Key = tuple[str, str, tuple[str, ...]]


class OAuth2Tokens:
    """Bearer tokens by (token_url, client_id, scopes), with their expiry on ``clock``'s time.

    Kept in memory only: a token is never logged, stored or shown (design §19.4).
    """

    def __init__(self) -> None:
        self._tokens: dict[_Key, tuple[str, float]] = {}

    def cached(self, settings: OAuth2, now: float) -> str | None:
        entry = self._tokens.get(settings.cache_key)
        return entry[0] if entry is not None and now < entry[1] else None

    def forget(self, settings: OAuth2, token: str) -> None:
        """Drop ``token`` (refused with a 401); a newer one fetched meanwhile stays."""
        entry = self._tokens.get(settings.cache_key)
        if entry is not None and entry[0] == token:
            del self._tokens[settings.cache_key]

    async def get(
        self,
        settings: OAuth2,
        session: aiohttp.ClientSession,
        tracker: PhaseTracker,
        *,
        proxy: str | None,
        ssl_context: ssl.SSLContext,
    ) -> str:
        """The cached token, or a new one from the token endpoint (sent through ``proxy``
        with ``ssl_context``, as the check's own request). Raises ProbeError worded
        ``oauth2 token endpoint: …`` when the endpoint gives none."""
        now = tracker.clock()
        if (token := self.cached(settings, now)) is not None:
            return token
        token, lifetime = await fetch_token(
            settings, session, proxy=proxy, ssl_context=ssl_context, tracker=tracker
        )
        expires = tracker.clock() + max(lifetime - min(_MARGIN, lifetime / 10), 0.0)
        self._tokens[settings.cache_key] = (token, expires)
        return token


async def fetch_token(
    settings: OAuth2,
    session: aiohttp.ClientSession,
    *,
    proxy: str | None,
    ssl_context: ssl.SSLContext,
    tracker: PhaseTracker,
) -> tuple[str, float]:
    """(access_token, lifetime in seconds): a form-encoded client-credentials POST with the
    client's id and secret in the body (``client_secret_post``)."""
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
    }
    if settings.scopes:
        form["scope"] = " ".join(settings.scopes)
    tracker.awaiting = "the oauth2 token endpoint"
    try:
        async with session.post(
            settings.token_url,
            data=form,
            headers={"Accept": "application/json"},
            proxy=proxy,
            ssl=ssl_context,
            allow_redirects=False,
        ) as response:
            body = await response.content.read(_MAX_ANSWER)
            status, content_type = response.status, response.content_type
    except (aiohttp.ClientError, OSError) as exc:
        raise _failed(target_reason(exc) or type(exc).__name__) from exc
    # Not cleared on the way out of a timeout: its reason names what was awaited.
    tracker.awaiting = None
    if not 200 <= status <= 299:
        raise _failed(f"HTTP {status}")
    return _token_of(body, content_type)


def _token_of(body: bytes, content_type: str) -> tuple[str, float]:
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        raise _failed(f"answer is not JSON ({content_type or 'no Content-Type'})") from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise _failed("no access_token in the answer")
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, str) and expires_in.isdigit():  # some servers quote it
        expires_in = int(expires_in)
    valid = isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
    return token, float(expires_in) if valid and expires_in > 0 else _NO_EXPIRY


def _failed(reason: str) -> ProbeError:
    return ProbeError(f"oauth2 token endpoint: {reason}")


def tokens_of(session: aiohttp.ClientSession) -> OAuth2Tokens:
    """The session's token cache (ProbeConnector keeps one); an empty one for another session
    (correct, only uncached)."""
    tokens = getattr(session.connector, "oauth2_tokens", None)
    return tokens if isinstance(tokens, OAuth2Tokens) else OAuth2Tokens()
