"""Numbered schema migrations, tracked in ``PRAGMA user_version`` (docs/design.md §8).

Step N takes a database from version N-1 to N. ``migrate`` runs the missing steps in one
transaction after copying the database aside to ``<name>.bak-v<N>`` (N: the version before), so
a failing step leaves the database as it was and the copy is there either way. A new database
runs every step (no copy); one from a newer probed is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from probed.errors import StoreError
from probed.store import (
    announcements_schema,
    channels_schema,
    domain_expiry_schema,
    incident_updates_schema,
    incidents_schema,
    maintenance_schema,
    push_schema,
    reports_schema,
    subscribers_schema,
    v2,
)
from probed.store.db import PAGE_SIZE, run_script
from probed.store.v1 import SCHEMA as V1

log = structlog.get_logger("probed")

Step = Callable[[sqlite3.Connection], None]


def _v1(db: sqlite3.Connection) -> None:
    run_script(db, V1)


STEPS: tuple[Step, ...] = (
    _v1,
    v2.migrate,
    announcements_schema.migrate,
    channels_schema.migrate,
    push_schema.migrate,
    incidents_schema.migrate,
    incident_updates_schema.migrate,
    maintenance_schema.migrate,
    subscribers_schema.migrate,
    reports_schema.migrate,
    domain_expiry_schema.migrate,
)
"""STEPS[N-1] migrates version N-1 to N."""
LATEST = len(STEPS)


def current_version(db: sqlite3.Connection) -> int:
    """The schema version; 0.1.0 set no user_version, so its tables mean version 1."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if (
        version == 0
        and db.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'monitors'"
        ).fetchone()
    ):
        return 1
    return version


def backup_path(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.bak-v{version}")


def migrate(
    db: sqlite3.Connection,
    path: Path,
    steps: Sequence[Step] = STEPS,
    before: Callable[[int, int], None] | None = None,
) -> int:
    """Bring the database at ``path`` to ``len(steps)``; the version it had before.
    ``before(old, new)`` is called first when there is anything to do on an existing file."""
    latest = len(steps)
    version = current_version(db)
    if version > latest:
        raise StoreError(
            f"state database {path} is schema version {version}, newer than this probed"
            f" (version {latest}) understands: upgrade probed or restore"
            f" {backup_path(path, latest).name}"
        )
    if version == latest:
        return version
    if version > 0:
        if before is not None:
            before(version, latest)
        _backup(db, backup_path(path, version))
    db.execute("BEGIN IMMEDIATE")
    try:
        for step in steps[version:]:
            step(db)
        db.execute(f"PRAGMA user_version = {latest}")
        db.execute("COMMIT")
    except BaseException as exc:
        db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StoreError(
                f"cannot upgrade state database {path} from schema version {version} to"
                f" {latest}: {exc} (it was left at version {version})"
            ) from exc
        raise
    if version > 0:
        _compact(db)
    return version


def _compact(db: sqlite3.Connection) -> None:
    """Rewrite the upgraded file without the pages its old tables left free, in the store's
    page size (which only a VACUUM outside WAL mode can change)."""
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        # Out of disk space for the copy, say: the upgrade stands, the file is only larger.
        log.warning("upgraded state database not compacted", error=str(exc))
    finally:
        db.execute("PRAGMA journal_mode=WAL")


def _backup(db: sqlite3.Connection, target: Path) -> None:
    # The backup API copies pages through SQLite, so content still in the WAL is included.
    copy = sqlite3.connect(target)
    try:
        db.backup(copy)
    finally:
        copy.close()
