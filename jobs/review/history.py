"""Findings across runs: every successful run's findings stay in ``findings_history``, and
the review tables (samples, their frames, estimates) written between runs by
`claims-audit sample` / `estimate` are carried into every database a run builds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from jobs.errors import LockedError, first_line
from jobs.log import Log
from jobs.review.sample import REVIEW_TABLES, create_review_tables
from jobs.sqltext import lit, q


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
        con.execute(f"attach {lit(str(db_path))} as previous (read_only)")
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
                "select table_name from duckdb_tables() where database_name = 'previous'"
            ).fetchall()
        }
        yield names
    finally:
        con.execute("detach previous")


def carry_findings_history(con: duckdb.DuckDBPyConnection, db_path: Path, log: Log) -> None:
    """``findings_history`` in the database being built: the published database's, plus
    this run's ``findings``."""
    con.execute("create table findings_history as select * from findings limit 0")
    with previous_database(con, db_path, log) as previous:
        if "findings_history" in previous:
            con.execute("insert into findings_history select * from previous.findings_history")
    con.execute("insert into findings_history select * from findings")


def carry_review_tables(con: duckdb.DuckDBPyConnection, db_path: Path, log: Log) -> None:
    """``review_samples``, ``review_sample_frames`` and ``review_estimates`` of the
    published database, whole, in the database being built (empty when there are none):
    a sample's frame must outlive the run it was drawn from."""
    create_review_tables(con)
    with previous_database(con, db_path, log) as previous:
        for name in REVIEW_TABLES:
            if name in previous:
                con.execute(f"insert into {q(name)} by name select * from previous.{q(name)}")
