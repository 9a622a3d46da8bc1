"""Where validation spends its time: every statement of one table's suite, timed.

Stages one table of a benchmark data set into a scratch database (as `run` does:
raw view, `stg_<table>`, the repeated-keys helper), then validates it with the
shipped suite and prints the slowest statements: Great Expectations' own queries
(through duckdb-engine's cursor) and the job's (`row_issues`). The DuckDB settings
are `run`'s defaults (2 threads, 4 GB, spilling to WORK_DIR).

    python bench/profile_validation.py DATA_DIR [--table medical_claim] [--work WORK_DIR]

This is how the CTE copies of 2026-12 were found (bench/ANALYSIS.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jobs import gx_duckdb, load, validate  # noqa: E402
from jobs.config import Config  # noqa: E402
from jobs.inputs import discover  # noqa: E402
from jobs.schema import TABLES  # noqa: E402
from jobs.suites import load_code_validity  # noqa: E402

SHOWN = 25


class _Timed:
    """The job's connection, timing each execute (validate._record runs through it)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, log: list[tuple[float, str]]) -> None:
        self._con, self._log = con, log

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        start = time.perf_counter()
        try:
            return self._con.execute(sql, *args)
        finally:
            self._log.append((time.perf_counter() - start, "job " + " ".join(sql.split())))

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def _time_gx_statements(log: list[tuple[float, str]]) -> None:
    import duckdb_engine

    original = duckdb_engine.CursorWrapper.execute

    def execute(self: object, statement: object, *args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return original(self, statement, *args, **kwargs)
        finally:
            log.append((time.perf_counter() - start, "GX  " + " ".join(str(statement).split())))

    duckdb_engine.CursorWrapper.execute = execute


def main(data: Path, table_name: str, work: Path) -> None:
    table = TABLES[table_name]
    settings = {"memory_limit": "4GB", "threads": 2, "temp_directory": str(work / "spill")}
    con = duckdb.connect(str(work / "profile.duckdb"), config=settings)
    load.install_macros(con)
    load.create_support_tables(con)
    validate.create_issue_tables(con)
    load_code_validity(con)
    start = time.perf_counter()
    load.load_raw(con, table, discover(data)[table_name], Config())
    load.create_staged_table(con, table, "profile")
    print(f"staged {table_name}: {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    gx_duckdb.apply_adjustments()
    print(f"Great Expectations import: {time.perf_counter() - start:.1f} s")
    log: list[tuple[float, str]] = []
    _time_gx_statements(log)
    start = time.perf_counter()
    outcomes = gx_duckdb.validate_table(con, table_name)
    validated = time.perf_counter()
    validate._record(_Timed(con, log), table, "profile", outcomes)
    gx_duckdb.drop_failing_rows(con, outcomes)
    recorded = time.perf_counter()
    gx = [s for s, text in log if text.startswith("GX")]
    print(
        f"validate_table {validated - start:.1f} s (GX statements {sum(gx):.1f} s in {len(gx)}; "
        f"the rest is keeping failing rows and GX itself); row_issues and results "
        f"{recorded - validated:.1f} s"
    )
    for seconds, text in sorted(log, reverse=True)[:SHOWN]:
        print(f"{seconds:7.2f} s  {text[:160]}")
    con.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("--table", default="medical_claim", choices=sorted(TABLES))
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        main(args.data, args.table, Path(tmp))
