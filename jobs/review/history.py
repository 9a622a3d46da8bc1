"""Findings across runs: every successful run's findings stay in ``findings_history``, and
the review tables (samples, their frames, estimates) written between runs by
`claims-audit sample` / `estimate` are carried into every database a run builds.

The database being built reads the published one (the last successful run) through
`previous_database`; a run that fails never publishes, so it changes nothing here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from jobs.errors import LockedError, first_line
from jobs.log import Log
from jobs.review.sample import REVIEW_TABLES, create_review_tables
from jobs.sqltext import lit, q

PREVIOUS = "previous"  # the alias of the published database while it is attached


def create_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: tuple[tuple[str, str], ...],
    *,
    temp: bool = False,
) -> None:
    """(Re)create an empty table of (name, type) columns."""
    body = ", ".join(f"{c} {t}" for c, t in columns)
    con.execute(f"create or replace {'temp ' if temp else ''}table {name} ({body})")


@contextmanager
def previous_database(
    con: duckdb.DuckDBPyConnection, db_path: Path, log: Log
) -> Iterator[set[str]]:
    """The published database attached read-only as ``previous``; yields its table names
    (empty when there is none, or it cannot be read: a new history starts)."""
    if not db_path.exists():
        yield set()
        return
    try:
        con.execute(f"attach {lit(str(db_path))} as {PREVIOUS} (read_only)")
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise LockedError(
                f"database {db_path} is held by another writer: {first_line(exc)}"
            ) from None
        log.warning("previous database unreadable; starting a new history", error=first_line(exc))
        yield set()
        return
    try:
        names = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = ?", [PREVIOUS]
            ).fetchall()
        }
        yield names
    finally:
        con.execute(f"detach {PREVIOUS}")


def previous_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of `table` in the attached previous database, in order."""
    return [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = ? "
            "and table_name = ? order by column_index",
            [PREVIOUS, table],
        ).fetchall()
    ]


def copy_previous(
    con: duckdb.DuckDBPyConnection, previous: set[str], table: str, target: str
) -> bool:
    """Insert the attached previous database's `table` into `target` by column name (the
    columns both have: an earlier version's table may lack newer ones); False when the
    previous database (its table names: `previous`) has no such table."""
    if table not in previous:
        return False
    wanted = {r[0] for r in con.execute(f"describe {q(target)}").fetchall()}
    cols = [q(c) for c in previous_columns(con, table) if c in wanted]
    con.execute(
        f"insert into {q(target)} by name select {', '.join(cols)} from {PREVIOUS}.{q(table)}"
    )
    return True


def carry_findings_history(
    con: duckdb.DuckDBPyConnection, db_path: Path, log: Log, finding_id_sql: str
) -> None:
    """``findings_history`` in the database being built: the published database's, plus
    this run's ``findings``. Rows of an earlier version lacking a column get it empty
    (``finding_id`` computed with `finding_id_sql`)."""
    con.execute("create table findings_history as select * from findings limit 0")
    with previous_database(con, db_path, log) as previous:
        if "findings_history" in previous:
            have = previous_columns(con, "findings_history")
            wanted = [r[0] for r in con.execute("describe findings_history").fetchall()]
            select = [q(c) for c in have if c in wanted]
            if "finding_id" not in have:
                select.append(f"{finding_id_sql} as finding_id")
            con.execute(
                "insert into findings_history by name "
                f"select {', '.join(select)} from {PREVIOUS}.findings_history"
            )
    con.execute("insert into findings_history select * from findings")


def carry_review_tables(con: duckdb.DuckDBPyConnection, db_path: Path, log: Log) -> None:
    """``review_samples``, ``review_sample_frames`` and ``review_estimates`` of the
    published database, whole, in the database being built (empty when there are none):
    a sample's frame must outlive the run it was drawn from."""
    create_review_tables(con)
    with previous_database(con, db_path, log) as previous:
        for name in REVIEW_TABLES:
            copy_previous(con, previous, name, name)
