"""A list of values bound to a statement as one parameter, whatever its length.

A placeholder per value (``IN (?, ?, …)``) fails with "too many SQL variables" past SQLite's
``SQLITE_LIMIT_VARIABLE_NUMBER`` (250,000 in Python's build, 32,766 in SQLite's default, 999
before 3.32), so a config the reader accepts could stop ``run``. As one JSON array read by
``json_each`` a list of any length is one variable, and SQLite still seeks each value in the
column's index (the IN operator over a subquery).
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson


def one_of(column: str, values: Iterable[int | str], *, negate: bool = False) -> tuple[str, str]:
    """(``column [NOT] IN (…)``, its one parameter) for ``values``."""
    op = "NOT IN" if negate else "IN"
    return f"{column} {op} (SELECT value FROM json_each(?))", orjson.dumps(list(values)).decode()
