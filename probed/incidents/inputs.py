"""What people type into incidents (docs/design.md §17.5): titles, texts, stages, impacts,
checked before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence

TEXT_MAX = 2000
"""Characters of an update's text or an incident's title."""
IMPACTS = ("minor", "major")


class IncidentInputError(ValueError):
    """A title, text, stage, impact or monitor a person gave that cannot be taken; the message
    says which and why."""


def text(name: str, value: str) -> str:
    """``value`` stripped; IncidentInputError naming ``name`` when empty, too long, or holding
    control characters other than newline and tab."""
    cleaned = value.strip()
    if not cleaned:
        raise IncidentInputError(f"{name}: must not be empty")
    if len(cleaned) > TEXT_MAX:
        raise IncidentInputError(f"{name}: at most {TEXT_MAX} characters, got {len(cleaned)}")
    if any(ord(c) < 32 and c not in "\n\t" for c in cleaned):
        raise IncidentInputError(f"{name}: control characters are not allowed")
    return cleaned


def choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise IncidentInputError(f"{name}: one of {', '.join(allowed)}, got {value!r}")
