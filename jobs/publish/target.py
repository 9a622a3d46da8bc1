"""Checks on the audit database a run will publish to, made before any work starts.

A run replaces its `--db` when it publishes, so it must be sure the file is its own:
an existing `--db` must be a claims-audit database (a DuckDB file holding the job's
tables), never another file; it must not lie in the input directory; and no other
process may hold it open for writing (the run would otherwise fail only at the end).
A file that is not ours is only read (16 bytes, then DuckDB read-only), never written.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from jobs.errors import ForeignDatabaseError, LockedError, environment_failure, first_line

# Tables every published claims-audit database holds.
OWN_TABLES = ("run_history", "findings")
_MAGIC = b"DUCK"  # bytes 8..11 of a DuckDB database file


def check_database(db: Path, input_dir: Path | None) -> None:
    """Raise ForeignDatabaseError (exit 2) when `db` is not ours to replace, LockedError
    (exit 1) when another process holds it for writing."""
    if input_dir is not None and _inside(db, input_dir):
        raise ForeignDatabaseError(
            f"--db {db} lies inside the input directory {input_dir}; keep the audit "
            f"database apart from the extracts"
        )
    if not os.path.lexists(db):
        return
    never = "claims-audit never replaces a file it did not create; name a new path or the "
    never += "database of earlier runs"
    if db.is_symlink() or not db.is_file():
        raise ForeignDatabaseError(f"--db {db} exists and is not a regular file; {never}")
    try:
        with open(db, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise environment_failure(exc) or ForeignDatabaseError(
            f"--db {db} cannot be read ({exc.strerror}); {never}"
        ) from None
    if head[8:12] != _MAGIC:
        raise ForeignDatabaseError(f"--db {db} exists and is not a DuckDB database; {never}")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise LockedError(
                f"database {db} is held by another writer: {first_line(exc)}"
            ) from None
        raise environment_failure(exc) or ForeignDatabaseError(
            f"--db {db} cannot be opened as a claims-audit database ({first_line(exc)})"
        ) from None
    try:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        }
    finally:
        con.close()
    missing = [t for t in OWN_TABLES if t not in tables]
    if missing:
        raise ForeignDatabaseError(
            f"--db {db} is a DuckDB database but not a claims-audit one (it has no "
            f"{missing[0]} table); {never}"
        )


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True
