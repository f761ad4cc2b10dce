"""``[probed] shard = "i/n"``: which monitors this instance checks (docs/design.md §10).

Rendezvous (highest-random-weight) hashing: a monitor belongs to the shard whose weight for its
name is highest. A weight depends only on the shard's number and the name, never on ``n``, so
going from n to n + 1 shards moves only the monitors the new shard wins (about 1/(n + 1) of
them), and every instance agrees on the owner without talking to the others.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from probed.config.reader import Section

_SHARD = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")


def weight(shard: int, name: str) -> int:
    """The shard's weight for a monitor name: a stable hash (Python's ``hash()`` is salted per
    process, so two instances would disagree)."""
    digest = hashlib.blake2b(f"{shard}\0{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(name: str, count: int) -> int:
    """The shard (1..count) that checks the monitor called ``name``."""
    return max(range(1, count + 1), key=lambda shard: weight(shard, name))


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (both counted from 1)."""

    index: int
    count: int

    def owns(self, name: str) -> bool:
        return owner(name, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/3"`` → Shard(2, 3); ValueError with the config problem when it is not one."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ValueError(f'expected "i/n" such as "2/3" (shard i of n), got "{text}"')
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ValueError(f'the number of shards must be at least 1, got "{text}"')
    if not 1 <= index <= count:
        raise ValueError(f'must be between 1 and {count} (counted from 1), got "{text}"')
    return Shard(index, count)


def read_shard(sec: Section) -> Shard | None:
    """``[probed] shard``; None when absent or wrong (reported)."""
    text = sec.string("shard", nonempty=True)
    if text is None:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        sec.problem("shard", str(exc))
        return None
