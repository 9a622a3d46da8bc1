"""Compare two published audits (DuckDB engine vs Spark engine) table by table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from jobs.ingest.schema import TABLES as INPUT_TABLES

# What must be identical (run ids aside). validation_results' example values are not
# compared: both engines show up to five failing values, in no promised order.
# review_state follows the database's history (new on its first run, open later): the tuva10
# Spark run is the second run of its database, so it is compared apart (tests/spark).
TABLES = {
    "findings": "select * exclude (run_id, review_state) from {db}.findings",
    "rule_stats": "select * exclude (run_id) from {db}.rule_stats",
    "mart_esi_lines": "select * exclude (run_id) from {db}.mart_esi_lines",
    "mart_rule_coverage": "select * exclude (run_id) from {db}.mart_rule_coverage",
    "rejected_rows": "select * exclude (run_id) from {db}.rejected_rows",
    "validation_results": (
        "select * exclude (run_id, unexpected_examples) from {db}.validation_results"
    ),
    "row_issues": "select * from {db}.row_issues",
    "practitioner": "select * exclude (run_id) from {db}.practitioner",
    "value_sets": "select * from {db}.value_sets",
    # the audited cohort (issue 14) and what the run counted of every accepted line
    **{
        name: f"select * exclude (run_id) from {{db}}.{name}"
        for name in INPUT_TABLES
        if name != "practitioner"
    },
    "input_coverage": "select * from {db}.input_coverage",
    "input_files": (
        "select table_name, source_file, format, bytes, mapping, validation_version, "
        "rows_read, rows_accepted, rows_rejected, rows_with_warnings "
        "from {db}.input_files"
    ),
}
INPUT_COUNTS = ("table", "path", "format", "bytes", "rows_read", "rows_accepted", "rows_rejected",
                "rows_with_warnings")  # fmt: skip


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))


def table_differences(duck_db: Path, spark_db: Path) -> dict[str, tuple[list, list]]:
    """{table: (rows only in the DuckDB audit, rows only in the Spark audit)} where they differ."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{duck_db}' as d (read_only)")
    con.execute(f"attach '{spark_db}' as s (read_only)")
    out = {}
    for name, sql in TABLES.items():
        d = _sorted(con.execute(sql.format(db="d")).fetchall())
        s = _sorted(con.execute(sql.format(db="s")).fetchall())
        if d != s:
            only_d = [r for r in d if r not in s]
            only_s = [r for r in s if r not in d]
            out[name] = (only_d[:5] or [f"{len(d)} rows"], only_s[:5] or [f"{len(s)} rows"])
    con.close()
    return out


def manifest(out_dir: Path) -> dict:
    return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))


def input_counts(m: dict) -> list[dict]:
    return [{k: f[k] for k in INPUT_COUNTS} for f in m["inputs"]]


def exceptions_without_run_id(out_dir: Path) -> list[list[str]]:
    """exceptions.csv without run_id and review_state (see TABLES)."""
    with (out_dir / "exceptions.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    drop = {rows[0].index("run_id"), rows[0].index("review_state")}
    return [[v for i, v in enumerate(row) if i not in drop] for row in rows]


def assert_same_audit(duck_out: Path, spark_out: Path, duck_db: Path, spark_db: Path) -> None:
    differences = table_differences(duck_db, spark_db)
    assert not differences, f"tables differ between the engines: {differences}"
    md, ms = manifest(duck_out), manifest(spark_out)
    assert input_counts(ms) == input_counts(md)
    for key in ("rules", "findings", "value_sets", "parameters", "eligibility_supplied"):
        assert ms[key] == md[key], key
    assert exceptions_without_run_id(spark_out) == exceptions_without_run_id(duck_out)
    for name in ("rejected_rows.csv",):
        assert (spark_out / name).read_text(encoding="utf-8") == (duck_out / name).read_text(
            encoding="utf-8"
        )
