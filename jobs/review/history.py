"""Findings across runs: every successful run's findings stay in ``findings_history``."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jobs.errors import LockedError, first_line
from jobs.log import Log
from jobs.sqltext import lit


def carry_findings_history(con: duckdb.DuckDBPyConnection, db_path: Path, log: Log) -> None:
    """``findings_history`` in the database being built: the published database's, plus
    this run's ``findings``."""
    con.execute("create table findings_history as select * from findings limit 0")
    if db_path.exists():
        try:
            con.execute(f"attach {lit(str(db_path))} as previous (read_only)")
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                raise LockedError(
                    f"database {db_path} is held by another writer: {first_line(exc)}"
                ) from None
            log.warning(
                "previous database unreadable; starting a new history",
                error=first_line(exc),
            )
        else:
            has = con.execute(
                "select count(*) from duckdb_tables() "
                "where database_name = 'previous' and table_name = 'findings_history'"
            ).fetchone()[0]
            if has:
                con.execute("insert into findings_history select * from previous.findings_history")
            con.execute("detach previous")
    con.execute("insert into findings_history select * from findings")
