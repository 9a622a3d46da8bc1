"""Fingerprints of the input files, and what an earlier run already knows of them.

Work follows what changed (contract, "Outputs"): each input file is fingerprinted by its
SHA-256; a file whose path, size and modification time equal those the previous run
recorded keeps that run's SHA-256 without reading it again, as git's index does
(`run --rehash` hashes every file). So does the same file under another path (same
device and inode, size and time: a hard link, as nightly folders that share the earlier
nights' files use). A file is reused, not validated again, when a
retained validation (table ``input_files`` of the published database: every file of its
run, with the run that validated it) has the same SHA-256, table, column mapping and
validation version (jobs.validation.reuse `validation_version`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import duckdb

from jobs.ingest.discover import SourceFile

# The table of a database that records its run's input files (one row each).
INPUT_FILES = "input_files"


def mapping_key(fmt: str, select: list[str]) -> str:
    """The key of a file's column mapping: how each contract column is read from it (the
    configured renames, the columns found, their types) and the file's format."""
    return hashlib.sha256("\x1f".join([fmt, *select]).encode()).hexdigest()[:16]


def stat_files(files: list[SourceFile]) -> None:
    """Record each file's size, modification time (nanoseconds) and device:inode."""
    for f in files:
        stat = os.stat(f.path)
        f.bytes, f.modified_ns = stat.st_size, stat.st_mtime_ns
        f.file_id = f"{stat.st_dev}:{stat.st_ino}"


@dataclass(frozen=True)
class Retained:
    """A file of the previous run, as its database records it."""

    table: str
    path: str
    bytes: int
    modified_ns: int
    file_id: str
    sha256: str | None  # None: fingerprinted by size and modification time (Spark)
    mapping: str
    validation_version: str
    validated_by: str
    keys_trimmed: bool | None = None  # None: not known (or recorded before it was kept)
    persons_trimmed: bool | None = None  # the same for person_id


def read_retained(con: duckdb.DuckDBPyConnection, database: str) -> list[Retained]:
    """The files recorded by the attached `database` (none when it predates them)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and table_name = ?",
        [database, INPUT_FILES],
    ).fetchall()[0][0]
    if not found:
        return []
    # key_ids_trimmed and person_ids_trimmed came later: a database recorded before them
    # is still reused
    later = {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = ? "
            "and table_name = ? and column_name in ('key_ids_trimmed', 'person_ids_trimmed')",
            [database, INPUT_FILES],
        ).fetchall()
    }
    trimmed = ", ".join(
        name if name in later else "null" for name in ("key_ids_trimmed", "person_ids_trimmed")
    )
    try:
        rows = con.execute(
            f"select table_name, source_file, bytes, modified_ns, file_id, sha256, mapping, "
            f"validation_version, validated_by, {trimmed} from {database}.{INPUT_FILES} "
            "where validated_by is not null"
        ).fetchall()
    except duckdb.Error:  # recorded by another layout: nothing to reuse
        return []
    return [Retained(*r) for r in rows]


def keep_indexed_hashes(files: list[SourceFile], retained: list[Retained]) -> list[SourceFile]:
    """Give each file whose path (or device and inode), size and modification time equal a
    retained file's that file's SHA-256; returns the files still to hash."""
    hashed = [r for r in retained if r.sha256]
    index = {(r.path, r.bytes, r.modified_ns): r.sha256 for r in hashed}
    index.update({(r.file_id, r.bytes, r.modified_ns): r.sha256 for r in hashed if r.file_id})
    todo = []
    for f in files:
        known = index.get((str(f.path), f.bytes, f.modified_ns)) or index.get(
            (f.file_id, f.bytes, f.modified_ns)
        )
        if known:
            f.sha256, f.sha256_from = known, "index"
        else:
            todo.append(f)
    return todo


def reusable(f: SourceFile, retained: list[Retained], version: str) -> Retained | None:
    """The retained validation `f` can reuse, or None: same table, mapping and validation
    version, and the same SHA-256 or, for a file not hashed (the Spark engine's
    size+mtime fingerprints), the same file (path, or device and inode), size and
    modification time."""
    for r in retained:
        if (r.table, r.mapping, r.validation_version) != (f.table, f.mapping, version):
            continue
        if f.sha256 and r.sha256 == f.sha256:
            return r
        same_file = r.path == str(f.path) or (f.file_id and r.file_id == f.file_id)
        if not f.sha256 and same_file and (r.bytes, r.modified_ns) == (f.bytes, f.modified_ns):
            return r
    return None


def may_reuse(f: SourceFile, retained: list[Retained], version: str) -> bool:
    """Whether some retained validation could match `f` once hashed (same table, size,
    mapping and version): only such files are worth waiting for their hash."""
    return any(
        (r.table, r.bytes, r.mapping, r.validation_version)
        == (f.table, f.bytes, f.mapping, version)
        for r in retained
    )


def create_input_files(
    con: duckdb.DuckDBPyConnection,
    files: list[SourceFile],
    run_id: str,
    version: str,
    method: str = "sha256",
) -> None:
    """Table `INPUT_FILES` of the database being built: this run's files, what was done with
    each and the counts (what the next run reuses)."""
    con.execute(
        f"""
        create or replace table {INPUT_FILES} (
            run_id varchar, table_name varchar, source_file varchar, format varchar,
            bytes bigint, modified_ns bigint, file_id varchar, fingerprint_method varchar,
            sha256 varchar,
            mapping varchar, validation_version varchar, validation varchar,
            validated_by varchar, rows_read bigint, rows_accepted bigint, rows_rejected bigint,
            rows_with_warnings bigint, key_ids_trimmed boolean, person_ids_trimmed boolean
        )
        """
    )
    con.executemany(
        f"insert into {INPUT_FILES} values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id, f.table, str(f.path), f.format, f.bytes, f.modified_ns, f.file_id, method,
                f.sha256 or None, f.mapping, version, f.validation, f.validated_by,
                f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_with_warnings,
                f.keys_trimmed, f.persons_trimmed,
            )
            for f in files
        ],
    )  # fmt: skip
