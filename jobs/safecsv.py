"""Formula-safe CSV (contract, "Outputs of run"): every CSV the product writes goes
through here (exceptions.csv, rejected_rows.csv, the failed run's copy, worklist.csv and
`claims-audit query --format csv`).

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula, and one that
begins with a tab or a carriage return once those are trimmed. In the CSV, a text cell
that begins with any of them gets a leading `'`, which a spreadsheet shows as text. Only
text columns are protected: numbers and dates keep their values (-12.50 stays a number),
and so does every Parquet file and the database. The protection is part of the select
that DuckDB writes, so no row passes through Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from jobs.sqltext import lit, q

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_STARTS = ", ".join(lit(c) if c.isprintable() else f"chr({ord(c)})" for c in FORMULA_STARTS)


def is_text(type_name: str) -> bool:
    """Whether DuckDB writes a value of this type as text a spreadsheet could run."""
    t = type_name.upper()
    return t.startswith(("VARCHAR", "JSON", "ENUM(")) and not t.endswith("]")


def protect(expression: str) -> str:
    """The SQL expression of a text value as its CSV cell: prefixed with ' when it begins
    with a formula character, otherwise unchanged (NULL stays NULL)."""
    return (
        f"case when left({expression}, 1) in ({_STARTS}) "
        f"then '''' || {expression} else {expression} end"
    )


def safe_columns(columns: Iterable[tuple[str, str]]) -> str:
    """Select list over a source with `columns` (name, DuckDB type), by position: each
    text column protected, every column keeping its name and place."""
    items = []
    for i, (name, type_name) in enumerate(columns, start=1):
        value = protect(f"cast(#{i} as varchar)") if is_text(type_name) else f"#{i}"
        items.append(f"{value} as {q(name)}")
    return ", ".join(items)


def safe_select(con: duckdb.DuckDBPyConnection, query: str, order_by: Sequence[str] = ()) -> str:
    """A select of `query` (a SELECT statement) with every text column protected, ordered
    by `order_by` (columns of `query`, compared as they are, before protection)."""
    columns = [(row[0], row[1]) for row in con.execute(f"describe {query}").fetchall()]
    order = ", ".join(f"src.{q(c)}" for c in order_by)
    return f"select {safe_columns(columns)} from ({query}) as src" + (
        f" order by {order}" if order else ""
    )


def copy_csv(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, order_by: Sequence[str] = ()
) -> int:
    """Write `query` to `path` as a formula-safe CSV with a header row; rows written."""
    result = con.execute(
        f"copy ({safe_select(con, query, order_by)}) to {lit(str(path))} (header, delimiter ',')"
    )
    return int(result.fetchall()[0][0])


def safe_relation(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """`rel` with its text columns protected, in its own order (for CSV written in batches,
    e.g. to standard output)."""
    return rel.project(safe_columns(zip(rel.columns, map(str, rel.types), strict=True)))
