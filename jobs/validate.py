"""Validate staged tables with Great Expectations and quarantine bad rows.

Each table's suite (``expectations/<table>.json``) runs through GX on DuckDB.
Every expectation carries a reason id and a level in its ``meta``; the rows
an expectation finds are recorded in ``row_issues`` inside DuckDB (the keys
never travel through Python). Rows with a blocking issue, or that DuckDB
could not parse at all, are rejected: they go to ``rejected_rows`` with every
reason and their original values. Warning rows are kept and counted.
"""

from __future__ import annotations

from dataclasses import asdict

import duckdb

from jobs.gx_duckdb import ExpectationOutcome, drop_failing_rows, validate_table
from jobs.load import lit, q
from jobs.schema import Table
from jobs.suites import load_suite


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


def validate(con: duckdb.DuckDBPyConnection, table: Table, run_id: str) -> list[ExpectationOutcome]:
    """Run the table's suite on ``stg_<table>`` and record the failing rows."""
    outcomes = validate_table(con, table.name, load_suite(table.name))
    try:
        _record(con, table, run_id, outcomes)
    finally:
        drop_failing_rows(con, outcomes)
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


def build_rejections(con: duckdb.DuckDBPyConnection, tables: list[Table], run_id: str) -> None:
    """Create ``rejected_keys`` and ``rejected_rows`` from issues and CSV bad records."""
    con.execute(
        """
        create or replace table rejected_keys as
        select distinct table_name, source_file, record_number
        from row_issues where level = 'blocking'
        union
        select table_name, source_file, record_number from csv_bad_records
        """
    )
    create_rejected_rows_table(con)
    for table in tables:
        values = ", ".join(f"{lit(c)}, r.{q(c)}" for c in table.column_names)
        con.execute(
            f"""
            insert into rejected_rows
            with issues as (
                select source_file, record_number,
                       string_agg(reason || coalesce(':' || column_name, ''), '; '
                                  order by reason, column_name) as reasons,
                       string_agg(description, '; ' order by reason, column_name) as details
                from row_issues
                where table_name = {lit(table.name)} and level = 'blocking'
                group by source_file, record_number
            )
            select {lit(run_id)}, {lit(table.name)}, i.source_file, i.record_number,
                   i.reasons, i.details, cast(json_object({values}) as varchar)
            from issues as i
            join raw_{table.name} as r
                on r.source_file = i.source_file and r.record_number = i.record_number
            """
        )
    insert_malformed_records(con, run_id)


def create_rejected_rows_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create or replace table rejected_rows (
            run_id varchar, table_name varchar, source_file varchar, record_number bigint,
            reasons varchar, details varchar, original_values varchar
        )
        """
    )


def insert_malformed_records(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """CSV records the reader could not parse, as rejected rows (reason malformed_record)."""
    con.execute(
        f"""
        insert into rejected_rows
        select {lit(run_id)}, table_name, source_file, record_number,
               'malformed_record', 'the CSV record could not be parsed: ' || error_message,
               raw_line
        from csv_bad_records
        """
    )


def outcome_dict(o: ExpectationOutcome) -> dict:
    d = asdict(o)
    d.pop("unexpected_rows_sql", None)
    d.pop("failing_rows_table", None)
    return d
