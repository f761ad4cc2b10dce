"""Signed one-click acknowledgement links (docs/design.md §17.3).

The link is the credential: HMAC-SHA256 over the incident ID and the expiry, with a key kept in
the state directory (created 0600 at first start, so links survive restarts). A mail scanner
that follows it only gets the confirmation page: acknowledging takes that page's POST.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

KEY_FILE = "ack.key"
VALID = timedelta(hours=24)


def load_key(state_dir: Path) -> bytes:
    """The signing key from ``state_dir/ack.key``, created (0600) when missing."""
    path = state_dir / KEY_FILE
    try:
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32).encode("ascii")
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return key


def signature(key: bytes, incident: str, expires: int) -> str:
    return hmac.new(key, f"{incident}\n{expires}".encode(), hashlib.sha256).hexdigest()


def valid(key: bytes, incident: str, expires: str, sig: str, now: datetime) -> bool:
    """Whether ``sig`` signs ``incident`` until ``expires`` (unix seconds) and that is not past."""
    if not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < now.timestamp():
        return False
    return hmac.compare_digest(signature(key, incident, int(expires)), sig)


def ack_path(key: bytes, incident: str, now: datetime) -> str:
    """``/ack/<id>?expires=…&sig=…``, valid for 24 h from ``now``."""
    expires = int((now + VALID).timestamp())
    sig = signature(key, incident, expires)
    return f"/ack/{quote(incident)}?expires={expires}&sig={sig}"


def incident_path(incident: str) -> str:
    return f"/api/v1/incidents/{quote(incident)}"
