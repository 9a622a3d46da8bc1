"""Staging tables as the loader builds them, for validation tests and the benchmark."""

from __future__ import annotations

from typing import Any

from jobs.ingest import load, schema
from jobs.resources import sql_dir
from jobs.validation import suites


def load_macros(con: Any) -> None:
    """Create the ca_* staging macros, as the loader does in every audit database."""
    con.execute((sql_dir() / "staging" / "macros.sql").read_text(encoding="utf-8"))


def create_stg_table(con: Any, table: str) -> None:
    """Create an empty raw_<table> (every contract column VARCHAR + source_file,
    record_number, as read from a file) and stage it: stg_<table>, as the loader does."""
    cols = [f"{name} varchar" for name in schema.TABLES[table].column_names]
    cols += ["source_file varchar", "record_number bigint"]
    con.execute(f"create or replace table raw_{table} ({', '.join(cols)})")
    stage(con, table)


def insert_rows(con: Any, table: str, rows: list[dict[str, Any]], source_file: str = "in.csv"):
    """Insert rows as read (dicts of column -> text; missing columns NULL), numbered 1.. in
    order, and stage them again."""
    for number, row in enumerate(rows, start=1):
        names = list(row) + ["source_file", "record_number"]
        values = list(row.values()) + [source_file, number]
        marks = ", ".join("?" for _ in names)
        con.execute(f"insert into raw_{table} ({', '.join(names)}) values ({marks})", values)
    stage(con, table)


def stage(con: Any, table: str) -> None:
    """(Re)build stg_<table> from raw_<table>, as the loader does, and its repeated keys,
    as validation does before the suite runs."""
    con.execute(f"drop table if exists stg_{table}")
    load.create_staged_table(con, schema.TABLES[table], "test-run")
    suites.create_repeated_keys(con, table)
