"""What a target answered to one check, kept with an incident (docs/design.md §17).

Evidence is bounded and safe to show to whoever may read the incident: header values that carry
credentials, and every header the monitor itself sends, are ``***``; the URL is redacted as
everywhere; the body is at most ``evidence_bytes`` (non-UTF-8 bytes escaped). Imports nothing
from probed, like ``probed.model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

EVIDENCE_BYTES: Final = 4096
"""Default body bytes kept (``evidence_bytes``)."""
EVIDENCE_BYTES_MAX: Final = 64 * 1024
MASK: Final = "***"
ALERT_BODY_BYTES: Final = 2048
"""Body bytes an alert carries (the mail shows at most 20 lines of it)."""


@dataclass(frozen=True, slots=True)
class Certificate:
    """The leaf certificate a TLS check was shown."""

    subject: str
    issuer: str
    sans: tuple[str, ...] = ()
    not_after: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": list(self.sans),
            "not_after": None if self.not_after is None else self.not_after.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        not_after = data.get("not_after")
        return cls(
            subject=str(data.get("subject", "")),
            issuer=str(data.get("issuer", "")),
            sans=tuple(str(s) for s in data.get("sans") or ()),
            not_after=datetime.fromisoformat(not_after) if isinstance(not_after, str) else None,
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """The target's own answer to one check (its time, reason and timings are the check's)."""

    url: str = ""
    """Redacted as everywhere (``probed.redact``)."""
    address: str | None = None
    """The address connected to: ``127.0.0.1:8080``, ``[::1]:443``."""
    http_version: str | None = None
    """``HTTP/1.1``."""
    status_line: str | None = None
    """``HTTP/1.1 503 Service Unavailable``."""
    headers: tuple[tuple[str, str], ...] = ()
    """Response headers in order, secret values ``***``; bounded in count and length."""
    body: str = ""
    """The first ``evidence_bytes`` of the body as text, non-UTF-8 bytes escaped (``\\xff``)."""
    body_bytes: int = 0
    """How many bytes of the body ``body`` shows."""
    body_truncated: bool = False
    """The body went on beyond what is shown (or beyond what the check read)."""
    certificate: Certificate | None = None
    error: str | None = None
    """A connection's failure: ``ECONNREFUSED: Connection refused``."""
    facts: tuple[tuple[str, str], ...] = ()
    """What other kinds learned, as label and value: the DNS answer or rcode, the JMESPath
    result, a push monitor's deadline and last ping."""

    def to_json(self) -> dict[str, object]:
        """A JSON object; unset fields are left out."""
        out: dict[str, object] = {"url": self.url}
        for key in ("address", "http_version", "status_line", "error"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        if self.headers:
            out["headers"] = [list(pair) for pair in self.headers]
        if self.body or self.body_bytes:
            out["body"] = self.body
            out["body_bytes"] = self.body_bytes
            out["body_truncated"] = self.body_truncated
        if self.certificate is not None:
            out["certificate"] = self.certificate.to_json()
        if self.facts:
            out["facts"] = [list(pair) for pair in self.facts]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        cert = data.get("certificate")
        return cls(
            url=str(data.get("url", "")),
            address=_str(data.get("address")),
            http_version=_str(data.get("http_version")),
            status_line=_str(data.get("status_line")),
            headers=tuple((str(k), str(v)) for k, v in data.get("headers") or ()),
            body=str(data.get("body", "")),
            body_bytes=int(data.get("body_bytes") or 0),
            body_truncated=bool(data.get("body_truncated")),
            certificate=Certificate.from_json(cert) if isinstance(cert, Mapping) else None,
            error=_str(data.get("error")),
            facts=tuple((str(k), str(v)) for k, v in data.get("facts") or ()),
        )

    def shortened(self, limit: int) -> Evidence:
        """The same with at most ``limit`` bytes of body (what an alert carries)."""
        data = self.body.encode("utf-8", "surrogatepass")
        if len(data) <= limit:
            return self
        body = data[:limit].decode("utf-8", "ignore")
        return replace(self, body=body, body_bytes=len(body.encode()), body_truncated=True)

    def first_line(self) -> str:
        """One line for places that have room for one (Alertmanager, apprise, a digest)."""
        if self.status_line:
            head = self.body.strip().splitlines()[0] if self.body.strip() else ""
            return f"{self.status_line}: {head[:200]}" if head else self.status_line
        if self.error:
            return self.error
        if self.facts:
            return "; ".join(f"{k}: {v}" for k, v in self.facts)[:300]
        return ""


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
