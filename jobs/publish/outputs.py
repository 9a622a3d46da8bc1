"""The run's output files and the rows they hold (contract: "Outputs of run")."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jobs.safecsv import copy_csv
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


def write_exceptions(con: duckdb.DuckDBPyConnection, csv_path: Path, parquet_path: Path) -> None:
    """`findings` as exceptions.csv (formula-safe) and exceptions.parquet (values as they
    are), in a stable order."""
    order = ("rule_id", "claim_id", "claim_line_number", "data_source")
    copy_csv(con, f"select {EXCEPTION_COLUMNS} from findings", csv_path, order)
    con.execute(
        f"copy (select {EXCEPTION_COLUMNS} from findings order by {', '.join(order)}) "
        f"to {lit(str(parquet_path))} (format parquet)"
    )


def write_worklist(con: duckdb.DuckDBPyConnection, csv_path: Path) -> None:
    """The reviewers' queue (table `worklist`, in its order) as a formula-safe worklist.csv."""
    copy_csv(con, "select * from worklist", csv_path, ("queue_position",))
