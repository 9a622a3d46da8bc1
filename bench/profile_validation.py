"""Where validation spends its time: every statement of one table's validation, timed.

Reads one table of a benchmark data set into a scratch database as `run` does, then
validates it one of two ways and prints the time of each step and the slowest of Great
Expectations' queries (timed at duckdb-engine's cursor):

* default, as `run` does now: the scan's pass 1 (distinct values, repeated keys, the
  cohort's persons) and pass 2 (``stg_<table>``: the rows a check can fail and the
  cohort's), then the suite on ``stg_<table>`` (jobs.validation.scan);
* `--full`, as `run` did before issue 14: every row staged into ``stg_<table>``, then
  the suite on all of them.

`--parts` times the parts of the two passes instead (no suite): pass 1 with only the
repeated keys, only the cohort's persons, only the value checks (and each group of them),
then as run; pass 2 as run, its filter alone, the kept rows copied as read, and their staging.

The DuckDB settings are `run`'s defaults, spilling to WORK_DIR.

    python bench/profile_validation.py DATA_DIR [--table medical_claim] [--full | --parts]
        [--work WORK_DIR]

This is how the CTE copies of 2026-12 were found and how the scan was tuned
(bench/ANALYSIS.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jobs.audit.reference import read_value_sets  # noqa: E402
from jobs.config import Config  # noqa: E402
from jobs.ingest import load  # noqa: E402
from jobs.ingest.discover import discover  # noqa: E402
from jobs.ingest.schema import TABLES  # noqa: E402
from jobs.validation import (  # noqa: E402
    gx_duckdb,
    scan,
    validate,
)
from jobs.validation.suites import load_code_validity  # noqa: E402

SHOWN = 25
T = TypeVar("T")


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


def _timed(what: str, action: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = action()
    print(f"{time.perf_counter() - start:6.2f} s  {what}", flush=True)
    return result


def parts(con: duckdb.DuckDBPyConnection, plan: scan.ScanPlan, esi: list[str] | None) -> None:
    """Time the parts of pass 1 and pass 2 (see the module docstring)."""
    table = plan.table
    groups = {
        "diagnosis codes": lambda c: c.startswith("diagnosis_code_"),
        "amounts": lambda c: c.endswith("_amount"),
        "NPIs": lambda c: c.endswith("_npi"),
        "dates": lambda c: c.endswith("_date"),
    }

    def pass1(
        values: Callable[[str], bool] | None = None, keys: bool = plan.keys, persons: bool = True
    ) -> scan.ScanResult:
        kept = plan.values if values is None else [v for v in plan.values if values(v.columns[0])]
        part = dataclasses.replace(plan, values=kept, keys=keys)
        return scan.pass1(con, part, None, esi if persons else None)

    _timed("pass 1, repeated keys only", lambda: pass1(lambda c: False, persons=False))
    if esi is not None:
        _timed("pass 1, cohort's persons only", lambda: pass1(lambda c: False, keys=False))
    _timed("pass 1, value checks only", lambda: pass1(keys=False, persons=False))
    for name, test in groups.items():
        _timed(f"pass 1, value checks of {name} only", lambda t=test: pass1(t, False, False))
    # last, so its temporary tables are the ones pass 2 reads
    found = _timed("pass 1, as run", pass1)
    where = scan.keep_condition(con, plan, found, None)
    raw = f"raw_{table.name}"
    _timed("pass 2, as run", lambda: scan.pass2(con, plan, found, None, "profile"))
    _timed(
        "pass 2, the filter alone (count of the kept rows)",
        lambda: con.execute(f"select count(*) from {raw} as r where {where}").fetchall(),
    )
    _timed(
        "pass 2, the kept rows copied as read",
        lambda: con.execute(
            f"create or replace temp table _kept as select * from {raw} as r where {where}"
        ),
    )
    con.execute(f"drop table stg_{table.name}")
    _timed(
        "pass 2, staging the copied rows",
        lambda: scan.stage_rows(con, table, "_kept", "true", "profile"),
    )


def main(data: Path, table_name: str, work: Path, full: bool, by_parts: bool = False) -> None:
    table, config = TABLES[table_name], Config()
    settings = config.engine_settings(work / "spill")
    con = duckdb.connect(str(work / "profile.duckdb"), config=settings)
    load.install_macros(con)
    load.create_support_tables(con)
    validate.create_issue_tables(con)
    load_code_validity(con)
    start = time.perf_counter()
    load.load_raw(con, table, discover(data)[table_name], config)
    print(f"raw {table_name}: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    if by_parts:
        parts(con, scan.scan_plan(table), ESI_CODES if table_name == "medical_claim" else None)
        con.close()
        return
    if full:
        load.create_staged_table(con, table, "profile")
        print(f"staged every row: {time.perf_counter() - start:.1f} s")
    else:
        plan = scan.scan_plan(table)
        esi = ESI_CODES if table_name == "medical_claim" else None
        found = scan.pass1(con, plan, None, esi)
        print(
            f"pass 1: {time.perf_counter() - start:.1f} s ({found.repeated_keys:,} repeated keys, "
            f"bad values {dict((', '.join(k), n) for k, n in found.bad_values.items())})"
        )
        start = time.perf_counter()
        kept = scan.pass2(con, plan, found, None, "profile")
        print(f"pass 2: {time.perf_counter() - start:.1f} s, {kept:,} rows kept")

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


# The ESI codes the cohort's persons are found by (the value set esi_cervical_thoracic).
ESI_CODES = sorted(
    {r["code"] for r in read_value_sets() if r["value_set"] == "esi_cervical_thoracic"}
)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("--table", default="medical_claim", choices=sorted(TABLES))
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="stage every row, as before issue 14")
    mode.add_argument("--parts", action="store_true", help="time the parts of the two passes")
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        main(args.data, args.table, Path(tmp), args.full, args.parts)
