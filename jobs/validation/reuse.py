"""Reusing an earlier validation of an unchanged file (contract: "Work follows what changed").

A file is validated once: a later run that finds the same file (SHA-256, table, column
mapping, validation version; jobs.ingest.fingerprint) takes its row issues from the
published database of the previous run, which carries them for every file of its run,
validated or itself reused: that database holds the retained validations. Checks that
span the files of a run (duplicate keys) are never reused: they run on every file each
time (jobs.validation.validate).

The validation version is a digest of everything that decides a row's issues: the
suites (expectations/*.json and code_validity.csv), the staging SQL (the macros and
each table's staging select, and the duplicate-key helper), and the value sets.
Changing any of them validates every file again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from jobs.ingest import load, schema
from jobs.ingest.discover import SourceFile
from jobs.resources import expectations_dir, sql_dir
from jobs.sqltext import lit
from jobs.validation import suites

# Bumped when the way validations are recorded or reused changes.
FORMAT = "1"
# Carried original values of reused files' rejected rows (table_name, source_file,
# record_number, original_values): jobs.validation.quarantine reads it.
CARRIED_REJECTED = "_ca_carried_rejected"


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def validation_version() -> str:
    """A digest of the suites, the staging SQL and the value sets (16 hex digits)."""
    digest = hashlib.sha256(FORMAT.encode())
    sources = [
        *_files(expectations_dir(), "*"),
        sql_dir() / "staging" / "macros.sql",
        *_files(sql_dir() / "value_sets", "*.csv"),
    ]
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for table in schema.TABLES.values():
        digest.update(load.staged_sql(table, "").encode() + b"\0")
        digest.update((suites.repeated_keys_sql(table.name) or "").encode() + b"\0")
    return digest.hexdigest()[:16]


def create_carried_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"create or replace temp table {CARRIED_REJECTED} (table_name varchar, "
        "source_file varchar, record_number bigint, original_values varchar)"
    )


def carry(con: duckdb.DuckDBPyConnection, f: SourceFile, previous_path: str, database: str) -> None:
    """Copy the row issues of the reused file `f` (recorded at `previous_path` by the
    attached `database`) into ``row_issues``, without the checks that span files, and the
    original values of its rejected rows into `CARRIED_REJECTED`."""
    spanning = suites.spanning_reasons(f.table)
    params = [str(f.path), f.table, previous_path]
    con.execute(
        f"""
        insert into row_issues
        select table_name, ?, record_number, reason, level, column_name, description
        from {database}.row_issues
        where table_name = ? and source_file = ?
            and reason not in (select unnest(?))
        """,
        [*params, spanning],
    )
    con.execute(
        f"""
        insert into {CARRIED_REJECTED}
        select table_name, ?, record_number, original_values
        from {database}.rejected_rows
        where table_name = ? and source_file = ?
        """,
        params,
    )


def earlier_examples(
    con: duckdb.DuckDBPyConnection, table: str, database: str
) -> dict[tuple, list[str]]:
    """The example values the attached `database` showed per expectation of `table`."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? "
        "and table_name = 'validation_results'",
        [database],
    ).fetchall()[0][0]
    if not found:
        return {}
    rows = con.execute(
        f"select reason, level, column_name, description, unexpected_examples "
        f"from {database}.validation_results where table_name = {lit(table)}"
    ).fetchall()
    return {
        (reason, level, column, description): [v for v in (text or "").split(", ") if v]
        for reason, level, column, description, text in rows
    }
