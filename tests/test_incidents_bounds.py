"""Evidence bounds (docs/design.md §16, §17.2): a mass outage stores at most 10 MB of evidence
in all, and an alert carries at most 2 KiB of a body."""

from __future__ import annotations

from dataclasses import replace

from probed.config import EmailChannel
from probed.evidence import EVIDENCE_BYTES_MAX, Evidence
from probed.incidents.budget import TRIMMED
from probed.model import AlertKind
from tests.kit.clock import FakeClock
from tests.kit.harness import failed
from tests.kit.monitors import make_monitor

EMAIL = EmailChannel(host="127.0.0.1", port=9, sender="p@example.test", to=("o@example.test",))
# The largest evidence one check may carry: a 64 KiB body and 100 headers of 1 KiB.
HUGE = Evidence(
    url="http://127.0.0.1:1/",
    status_line="HTTP/1.1 503 Service Unavailable",
    headers=tuple((f"X-H{i}", "v" * 1024) for i in range(100)),
    body="b" * EVIDENCE_BYTES_MAX,
    body_bytes=EVIDENCE_BYTES_MAX,
)


async def test_a_thousand_monitors_down_at_once_store_at_most_10_mb_of_evidence(make_harness):
    clock = FakeClock()
    names = [f"m{i}" for i in range(1000)]
    h = make_harness(
        [make_monitor(n, down_after=1, evidence_bytes=EVIDENCE_BYTES_MAX) for n in names],
        clock,
        email=EMAIL,
    )
    for name in names:
        await h.feed(name, replace(failed(clock()), evidence=HUGE))
    _, total = h.store.incidents.find(open=True, limit=1)
    assert total == 1000
    stored = h.store.incidents.evidence_bytes()
    assert 5_000_000 < stored <= 10_000_000
    # The first ones kept everything; the rest their facts, saying what was left out.
    first = h.store.incidents.get("INC-2026-001")
    last = h.store.incidents.get("INC-2026-1000")
    assert first is not None and last is not None
    assert len(h.store.incidents.evidence(first.id)["confirmed"]["evidence"]["body"]) == 65536
    trimmed = h.store.incidents.evidence(last.id)["confirmed"]["evidence"]
    assert trimmed["trimmed"] == TRIMMED and "body" not in trimmed
    assert trimmed["status_line"] == "HTTP/1.1 503 Service Unavailable"
    # Alerts carry 2 KiB of body at most.
    downs = [r for r in h.rows() if r.kind is AlertKind.DOWN]
    assert downs and all(
        r.payload.evidence is not None and len(r.payload.evidence.body) == 2048 for r in downs
    )
