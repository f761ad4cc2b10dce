"""The incident IDs a store's outages must carry, worked out from its transitions alone."""

from __future__ import annotations

from datetime import UTC, datetime

from probed.store import Store


def incident_ids(store: Store) -> dict[str, list[str]]:
    """Each monitor's incident IDs, oldest first, numbered as docs/design.md §17.1 says: per
    year of the confirmed DOWN, in the order the DOWN transitions were stored, across monitors.
    Read from ``transitions``, never from the incidents tables, so it can disagree with them."""
    downs = [
        (mid, at_ms) for mid, _, kind, _, at_ms, *_ in store.changes.after(0) if kind == "down"
    ]
    names = {mid: store.transitions(mid, 1)[0].monitor for mid, _ in downs}
    ids: dict[str, list[str]] = {}
    per_year: dict[int, int] = {}
    for mid, at_ms in downs:
        year = datetime.fromtimestamp(at_ms / 1000, UTC).year
        per_year[year] = per_year.get(year, 0) + 1
        ids.setdefault(names[mid], []).append(f"INC-{year}-{per_year[year]:03d}")
    return ids
