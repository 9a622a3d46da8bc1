"""Where validation spends its time: every statement of one table's suite, timed.

Stages one table of a benchmark data set into a scratch database (as `run` does:
raw view, `stg_<table>`), then validates it as `run`
does (`jobs.validation.validate.validate`) and prints the slowest of Great Expectations'
queries (timed at duckdb-engine's cursor); the rest of the time is keeping the
failing rows, `row_issues` and GX itself. The DuckDB settings are `run`'s
defaults, spilling to WORK_DIR.

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
from jobs.config import Config  # noqa: E402
from jobs.ingest import load  # noqa: E402
from jobs.ingest.discover import discover  # noqa: E402
from jobs.ingest.schema import TABLES  # noqa: E402
from jobs.validation import (
    gx_duckdb,  # noqa: E402
    validate,  # noqa: E402
)
from jobs.validation.suites import load_code_validity  # noqa: E402

SHOWN = 25


def _time_gx_statements(log: list[tuple[float, str]]) -> None:
    import duckdb_engine

    original = duckdb_engine.CursorWrapper.execute

    def execute(self: object, statement: object, *args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return original(self, statement, *args, **kwargs)
        finally:
            log.append((time.perf_counter() - start, " ".join(str(statement).split())))

    duckdb_engine.CursorWrapper.execute = execute


def main(data: Path, table_name: str, work: Path) -> None:
    table, config = TABLES[table_name], Config()
    settings = config.engine_settings(work / "spill")
    con = duckdb.connect(str(work / "profile.duckdb"), config=settings)
    load.install_macros(con)
    load.create_support_tables(con)
    validate.create_issue_tables(con)
    load_code_validity(con)
    start = time.perf_counter()
    load.load_raw(con, table, discover(data)[table_name], config)
    load.create_staged_table(con, table, "profile")
    print(f"staged {table_name}: {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    gx_duckdb.apply_adjustments()
    print(f"Great Expectations import: {time.perf_counter() - start:.1f} s")
    log: list[tuple[float, str]] = []
    _time_gx_statements(log)
    start = time.perf_counter()
    validate.validate(con, table, "profile")
    took = time.perf_counter() - start
    print(
        f"validate {took:.1f} s: GX statements {sum(s for s, _ in log):.1f} s in {len(log)}; "
        "the rest is keeping failing rows, row_issues and GX itself"
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
