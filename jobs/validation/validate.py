"""Validate staged tables with Great Expectations.

Each table's suite (``expectations/<table>.json``) runs through GX on DuckDB, on
``stg_<table>`` (jobs.validation.scan keeps there every row a check can fail). Every
expectation carries a reason id and a level in its ``meta``; the rows an expectation
finds are recorded in ``row_issues`` inside DuckDB (the keys never travel through
Python), and ``validation_results`` counts them per expectation over every file of the
run, validated or reused (`write_results`). What becomes of the rows is
jobs.validation.quarantine.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

import duckdb

from jobs.ingest.schema import Table
from jobs.sqltext import lit
from jobs.validation.gx_duckdb import (
    EXAMPLES,
    ExpectationOutcome,
    drop_failing_rows,
    validate_table,
)
from jobs.validation.suites import (
    create_repeated_keys,
    drop_repeated_keys,
    entry_of,
    load_suite,
    spans_files,
)


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


def split_suite(suite: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the checks of each file by itself, the checks that span the files of a run)."""
    per_file, spanning = copy.deepcopy(suite), copy.deepcopy(suite)
    per_file["expectations"] = [e for e in suite["expectations"] if not spans_files(e)]
    spanning["expectations"] = [e for e in suite["expectations"] if spans_files(e)]
    return per_file, spanning


def validate(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    run_id: str,
    validated: list[str] | None = None,
    *,
    results: bool = True,
) -> list[ExpectationOutcome]:
    """Run the table's suite on ``stg_<table>`` and record the failing rows in
    ``row_issues``.

    validated: the files whose rows the suite checks (None: every file); the checks that
    span files (duplicate keys) always see every row. results: also write this run's
    ``validation_results`` from the outcomes (counting every file: pass False and call
    `write_results` when some files' issues are reused). The duplicate-key check reads
    the staged table's repeated keys, grouped once first (jobs.validation.suites
    `repeated_keys_sql`) and dropped when the suite has run."""
    suite = load_suite(table.name)
    stg = f"stg_{table.name}"
    create_repeated_keys(con, table.name)
    outcomes: list[ExpectationOutcome] = []
    try:
        if validated is None:
            outcomes = validate_table(con, table.name, suite)
        else:
            per_file, spanning = split_suite(suite)
            if validated and per_file["expectations"]:
                files = ", ".join(lit(f) for f in validated)
                con.execute(
                    f"create or replace view {stg}_validated as "
                    f"select * from {stg} where source_file in ({files})"
                )
                outcomes += validate_table(con, table.name, per_file, relation=f"{stg}_validated")
            if spanning["expectations"]:
                outcomes += validate_table(con, table.name, spanning)
        try:
            _record(con, table, outcomes)
            if results:
                element_count = outcomes[0].element_count if outcomes else 0
                write_results(con, table, run_id, element_count, examples_of(outcomes))
        finally:
            drop_failing_rows(con, outcomes)
    finally:
        drop_repeated_keys(con, table.name)
        con.execute(f"drop view if exists {stg}_validated")
    return outcomes


def _issue_key(reason: str, level: str, column: str | None, description: str) -> tuple:
    return (reason, level, column, description)


def examples_of(outcomes: list[ExpectationOutcome]) -> dict[tuple, list[str]]:
    """Each expectation's example values, by (reason, level, column, description)."""
    return {
        _issue_key(o.reason, o.level, o.column, o.description): [
            str(v) for v in (o.unexpected_examples or [])
        ]
        for o in outcomes
    }


def write_results(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    run_id: str,
    element_count: int,
    examples: dict[tuple, list[str]],
    earlier: dict[tuple, list[str]] | None = None,
) -> None:
    """``validation_results`` of `table`: one row per expectation of its suite, counting
    the rows of ``row_issues`` it found in every file (validated in this run or reused).

    element_count: the rows checked (read, minus unparseable records). examples: this
    run's example values per expectation; `earlier` those of the run whose validation was
    reused, shown when this run validated no row the expectation failed."""
    counts = {
        _issue_key(*key): n
        for *key, n in con.execute(
            "select reason, level, column_name, description, count(*) from row_issues "
            "where table_name = ? group by all",
            [table.name],
        ).fetchall()
    }
    rows = []
    for e in load_suite(table.name)["expectations"]:
        entry = entry_of(table.name, e)
        key = _issue_key(entry.reason, entry.level, entry.column, entry.description)
        n = counts.get(key, 0)
        shown = (examples.get(key) or []) or ((earlier or {}).get(key) or []) if n else []
        rows.append(
            (
                run_id,
                table.name,
                entry.expectation_type,
                entry.column,
                entry.reason,
                entry.level,
                entry.description,
                n == 0,
                element_count,
                n,
                ", ".join(shown[:EXAMPLES]),
            )
        )
    con.executemany("insert into validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _record(
    con: duckdb.DuckDBPyConnection, table: Table, outcomes: list[ExpectationOutcome]
) -> None:
    for o in outcomes:
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
