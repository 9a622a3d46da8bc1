"""Validate staged tables with Great Expectations.

Each table's suite (``expectations/<table>.json``) runs through GX on DuckDB.
Every expectation carries a reason id and a level in its ``meta``; the rows
an expectation finds are recorded in ``row_issues`` inside DuckDB (the keys
never travel through Python). What becomes of them is jobs.validation.quarantine.
"""

from __future__ import annotations

from dataclasses import asdict

import duckdb

from jobs.ingest.schema import Table
from jobs.log import Log
from jobs.sqltext import lit
from jobs.validation.gx_duckdb import ExpectationOutcome, drop_failing_rows, validate_table
from jobs.validation.suites import create_repeated_keys, drop_repeated_keys, load_suite


def create_issue_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create table if not exists row_issues (
            table_name varchar, source_file varchar, record_number bigint,
            reason varchar, level varchar, column_name varchar, description varchar
        );
        create table if not exists validation_results (
            run_id varchar, table_name varchar, expectation_type varchar,
            column_name varchar, reason varchar, level varchar, description varchar,
            success boolean, element_count bigint, unexpected_count bigint,
            unexpected_examples varchar
        );
        """
    )


def validate_tables(
    con: duckdb.DuckDBPyConnection, tables: list[Table], run_id: str, log: Log
) -> None:
    """Run every table's suite (a log stage each)."""
    for table in tables:
        with log.stage(f"validate:{table.name}"):
            validate(con, table, run_id)


def validate(con: duckdb.DuckDBPyConnection, table: Table, run_id: str) -> list[ExpectationOutcome]:
    """Run the table's suite on ``stg_<table>`` and record the failing rows.

    The duplicate-key check reads the staged table's repeated keys, grouped once first
    (jobs.validation.suites `repeated_keys_sql`) and dropped when the suite has run."""
    create_repeated_keys(con, table.name)
    try:
        outcomes = validate_table(con, table.name, load_suite(table.name))
        try:
            _record(con, table, run_id, outcomes)
        finally:
            drop_failing_rows(con, outcomes)
    finally:
        drop_repeated_keys(con, table.name)
    return outcomes


def _record(
    con: duckdb.DuckDBPyConnection, table: Table, run_id: str, outcomes: list[ExpectationOutcome]
) -> None:
    for o in outcomes:
        con.execute(
            "insert into validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                table.name,
                o.expectation_type,
                o.column,
                o.reason,
                o.level,
                o.description,
                o.success,
                o.element_count,
                o.unexpected_count,
                ", ".join(str(v) for v in (o.unexpected_examples or [])[:5]),
            ],
        )
        if o.success or not o.unexpected_rows_sql:
            continue
        failing = o.failing_rows_table or f"({o.unexpected_rows_sql})"
        con.execute(
            f"""
            insert into row_issues
            select distinct {lit(table.name)}, source_file, record_number,
                   {lit(o.reason)}, {lit(o.level)},
                   {lit(o.column) if o.column else "null"}, {lit(o.description)}
            from {failing} as failing
            """
        )


def outcome_dict(o: ExpectationOutcome) -> dict:
    d = asdict(o)
    d.pop("unexpected_rows_sql", None)
    d.pop("failing_rows_table", None)
    return d
