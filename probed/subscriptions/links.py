"""Signed confirmation and unsubscribe links (docs/design.md §18.4).

HMAC-SHA256 with the acknowledgement links' key (``state_dir/ack.key``) over the action, the
subscriber's id and its stored nonce (and, for a confirmation, the expiry): the link is the
credential, and removing a subscriber voids its links, since a new subscription gets a new
nonce.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

CONFIRM_VALID = timedelta(days=7)


def signature(key: bytes, action: str, subscriber_id: int, nonce: str, expires: int = 0) -> str:
    text = f"{action}\n{subscriber_id}\n{nonce}\n{expires}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def confirm_path(key: bytes, subscriber_id: int, nonce: str, now: datetime) -> str:
    """``/subscribe/confirm?id=…&expires=…&sig=…``, valid for a week from ``now``."""
    expires = int((now + CONFIRM_VALID).timestamp())
    sig = signature(key, "confirm", subscriber_id, nonce, expires)
    return f"/subscribe/confirm?id={subscriber_id}&expires={expires}&sig={sig}"


def unsubscribe_path(key: bytes, subscriber_id: int, nonce: str) -> str:
    """``/unsubscribe?id=…&sig=…``: valid as long as the subscription."""
    return (
        f"/unsubscribe?id={subscriber_id}&sig={signature(key, 'unsubscribe', subscriber_id, nonce)}"
    )


def parse_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def valid(
    key: bytes, action: str, subscriber_id: int, nonce: str, sig: str, expires: str, now: datetime
) -> bool:
    """Whether ``sig`` signs the action for this subscription (and ``expires`` is not past)."""
    number = 0
    if action == "confirm":
        if not expires.isdigit() or len(expires) > 12 or int(expires) < now.timestamp():
            return False
        number = int(expires)
    return hmac.compare_digest(signature(key, action, subscriber_id, nonce, number), sig)
