"""Analyst views (sql/marts/*.sql): created in every published database.

Each file defines one view named after the file; the README lists them with
their grain.
"""

from __future__ import annotations

import duckdb

from jobs.resources import sql_dir


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    names = []
    for path in sorted((sql_dir() / "marts").glob("v_*.sql")):
        name = path.stem
        con.execute(f"create or replace view {name} as\n{path.read_text()}")
        names.append(name)
    return names
