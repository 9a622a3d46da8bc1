"""The run's output files and the rows they hold (contract: "Outputs of run")."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jobs.sqltext import lit

OUTPUT_NAMES = (
    "exceptions.csv",
    "exceptions.parquet",
    "worklist.csv",
    "rejected_rows.csv",
    "report.html",
    "manifest.json",
)

EXCEPTION_COLUMNS = (
    "run_id, finding_id, rule_id, rule_version, status, severity, data_source, claim_id, "
    "claim_line_number, person_id, rendering_npi, service_date, hcpcs_code, paid_amount, "
    "evidence, first_seen_on, review_state"
)


def _copy_csv(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """The rows of `query` as a CSV file with a header (every CSV output goes through here)."""
    con.execute(f"copy ({query}) to {lit(str(path))} (header, delimiter ',')")


def write_exceptions(con: duckdb.DuckDBPyConnection, csv_path: Path, parquet_path: Path) -> None:
    """`findings` as exceptions.csv and exceptions.parquet, in a stable order."""
    order = "order by rule_id, claim_id, claim_line_number, data_source"
    _copy_csv(con, f"select {EXCEPTION_COLUMNS} from findings {order}", csv_path)
    con.execute(
        f"copy (select {EXCEPTION_COLUMNS} from findings {order}) "
        f"to {lit(str(parquet_path))} (format parquet)"
    )


def write_worklist(con: duckdb.DuckDBPyConnection, csv_path: Path) -> None:
    """The reviewers' queue (table `worklist`, already in its order) as worklist.csv."""
    _copy_csv(con, "select * from worklist order by queue_position", csv_path)
