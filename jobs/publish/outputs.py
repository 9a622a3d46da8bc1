"""The run's output files and the exceptions they hold (contract: "Outputs of run")."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jobs.sqltext import lit

OUTPUT_NAMES = (
    "exceptions.csv",
    "exceptions.parquet",
    "rejected_rows.csv",
    "report.html",
    "manifest.json",
)

EXCEPTION_COLUMNS = (
    "run_id, rule_id, rule_version, status, severity, data_source, claim_id, "
    "claim_line_number, person_id, rendering_npi, service_date, hcpcs_code, paid_amount, "
    "evidence"
)


def write_exceptions(con: duckdb.DuckDBPyConnection, csv_path: Path, parquet_path: Path) -> None:
    """`findings` as exceptions.csv and exceptions.parquet, in a stable order."""
    order = "order by rule_id, claim_id, claim_line_number, data_source"
    con.execute(
        f"copy (select {EXCEPTION_COLUMNS} from findings {order}) "
        f"to {lit(str(csv_path))} (header, delimiter ',')"
    )
    con.execute(
        f"copy (select {EXCEPTION_COLUMNS} from findings {order}) "
        f"to {lit(str(parquet_path))} (format parquet)"
    )
