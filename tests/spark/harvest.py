"""Pytest plugin: collect the given/expect worlds of tests/audit without auditing them.

Loaded by tests/spark/test_rule_fixtures_parity.py in a subprocess:

    python -m pytest tests/audit/test_rules_*.py -p harvest  (CLAIMS_AUDIT_HARVEST=<db file>)

Every call of `rule_harness.Audit.run` (what `audit.findings(...)` calls) records the
world's loaded tables and the run's parameters into the DuckDB file named by
CLAIMS_AUDIT_HARVEST, then leaves an empty `findings` table instead of auditing: the
harvest only needs the inputs (the parity test audits them on both engines). A test
whose later steps depend on its findings stops at its first assertion; its later
worlds (rare: a second call with other parameters) are not harvested, which the
parity test tolerates (it needs many cases, not all of them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jobs.ingest import schema

_STATE: dict = {"n": 0, "collector": None}


def _collector():
    import duckdb

    if _STATE["collector"] is None:
        con = duckdb.connect(":memory:")
        con.execute(
            "create table cases (case_id bigint, test varchar, params varchar, "
            "eligibility_supplied boolean, ndc_crosswalk varchar)"
        )
        _STATE["collector"] = con
    return _STATE["collector"]


def _record(audit, eligibility_supplied: bool, ndc_crosswalk, params: dict) -> None:
    collector = _collector()
    case = _STATE["n"] = _STATE["n"] + 1
    crosswalk = Path(ndc_crosswalk).read_text(encoding="utf-8") if ndc_crosswalk else None
    collector.execute(
        "insert into cases values (?, ?, ?, ?, ?)",
        [
            case,
            os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0],
            json.dumps(params, sort_keys=True),
            bool(eligibility_supplied),
            crosswalk,
        ],
    )
    for name in schema.TABLES:
        rows = audit.con.execute(f"select {case} as case_id, * from main.{name}").to_arrow_table()
        if rows.num_rows == 0:
            continue
        collector.register("_rows", rows)
        exists = collector.execute(
            "select count(*) from duckdb_tables() where table_name = ?", [name]
        ).fetchone()[0]
        if exists:
            collector.execute(f"insert into {name} select * from _rows")
        else:
            collector.execute(f"create table {name} as select * from _rows")
        collector.unregister("_rows")


def pytest_unconfigure(config) -> None:
    collector = _STATE["collector"]
    if collector is not None:
        collector.execute(f"attach '{os.environ['CLAIMS_AUDIT_HARVEST']}' as harvest")
        collector.execute("copy from database memory to harvest")
        collector.execute("detach harvest")


def pytest_configure(config) -> None:
    import rule_harness

    from jobs.audit.runner import FINDINGS_COLUMNS

    def run(self, *, eligibility_supplied=False, ndc_crosswalk=None, **params):
        _record(self, eligibility_supplied, ndc_crosswalk, params)
        columns = ", ".join(f"{n} {t}" for n, t in FINDINGS_COLUMNS)
        self.con.execute(f"create or replace table findings ({columns})")
        return []

    rule_harness.Audit.run = run
