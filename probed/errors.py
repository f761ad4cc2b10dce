"""The exception tree of probed.

    ProbedError
     ├── ConfigError      monitors.toml is unreadable or invalid (lists every problem)
     ├── StoreError       the SQLite state database cannot be opened or written
     │    └── StoreWriteError   a write failed for want of room or a writable file (disk
     │                          full, I/O error, read-only): reads still work, retry later
     └── NotifierError    an alert channel could not deliver (``permanent`` says whether to retry)

A probe never raises for a target's failure: it returns a failed CheckResult instead.
"""

from __future__ import annotations

from probed.redact import redact

SHOWN_PROBLEMS = 50
"""How many of a config's problems are printed or logged: 10,000 of them on every failed start
of a restarting unit were 2 MB of log that said nothing the first 50 do not."""


class ProbedError(Exception):
    """Base class of every error probed raises on purpose."""


class ConfigError(ProbedError):
    """The configuration is invalid; ``problems`` holds one line per problem found, every URL's
    password already hidden (a problem quotes the value it refuses, and reaches a terminal, the
    API and the log)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [redact(problem) for problem in problems]
        super().__init__("\n".join(self.problems))

    def shown(self, limit: int = SHOWN_PROBLEMS) -> list[str]:
        """The first ``limit`` problems, then ``… and N more problems`` when there are more."""
        if len(self.problems) <= limit:
            return list(self.problems)
        rest = len(self.problems) - limit
        return [*self.problems[:limit], f"… and {rest} more problem{'s' if rest > 1 else ''}"]


class StoreError(ProbedError):
    """The state database could not be used."""


class StoreWriteError(StoreError):
    """A write to the state database failed because the file cannot take it now (disk full,
    I/O error, read-only); the transaction was rolled back and may succeed when retried."""


class NotifierError(ProbedError):
    """An alert could not be delivered; ``permanent`` means retrying will not help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        self.permanent = permanent
        super().__init__(message)
