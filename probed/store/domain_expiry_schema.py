"""Schema step 11: the ``domain_expiry`` table, the last RDAP answer per registrable domain, so
a restart does not ask the registries again before 12 h have passed, and ``domain_marks``, the
expiry warnings each monitor gave (docs/design.md §19.2)."""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

# IF NOT EXISTS: the step's number is settled when the branches of issue 24 are merged, and a
# database that ran this table under another number must still take it.
SCHEMA = """
CREATE TABLE IF NOT EXISTS domain_expiry (
    domain TEXT PRIMARY KEY,       -- the registrable domain, lower case (example.co.uk)
    checked_ms INTEGER NOT NULL,   -- when the registry was last asked
    expires_ms INTEGER,            -- NULL: unknown (see reason)
    reason TEXT                    -- why unknown, NULL when expires_ms is known
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domain_marks (
    monitor TEXT PRIMARY KEY,      -- by name, as the certificate marks
    expires_ms INTEGER NOT NULL,   -- the registration the warnings were given for
    passed TEXT NOT NULL           -- JSON list of the thresholds warned
) WITHOUT ROWID;
"""


def migrate(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)
