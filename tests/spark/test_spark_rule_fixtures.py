"""The rule tests' given/expect worlds give the same findings on Spark as on DuckDB.

The worlds of tests/audit (see conftest.HARVESTED) are collected by running those
tests with the `harvest` plugin. A Spark audit per world would take hours, so worlds
are batched: each world's identifiers (person, claim, procedure, encounter,
condition) get a per-world prefix, so the worlds of a batch cannot see each other
(every rule and model joins on person or claim), and all worlds that run with the
same parameters form one data set. Worlds that override a parameter share a batch
with other overriding worlds when no two override the same parameter differently
(each override only concerns its own rule). Each batch is audited by
jobs.audit.runner.run_audit (DuckDB) and jobs.spark.audit.run_audit (Spark, the same
SQL files translated): findings, rule statistics and the ESI-line mart must be
identical, row for row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from rule_harness import new_connection

from jobs.audit import params as audit_params
from jobs.audit.reference import read_ndc_crosswalk
from jobs.audit.runner import run_audit
from jobs.ingest import schema

pytestmark = pytest.mark.spark

PREFIXED = ("person_id", "claim_id", "procedure_id", "encounter_id", "condition_id")
COMPARED = {
    "findings": "select * exclude (run_id) from findings",
    "rule_stats": "select * exclude (run_id) from rule_stats",
    "mart_rule_coverage": "select * exclude (run_id) from mart_rule_coverage",
    "mart_esi_lines": "select * exclude (run_id) from mart_esi_lines",
}


@dataclass
class Batch:
    eligibility_supplied: bool
    overrides: dict[str, object]
    crosswalk: str | None
    cases: list[int] = field(default_factory=list)

    def accepts(self, eligibility: bool, overrides: dict, crosswalk: str | None) -> bool:
        if eligibility != self.eligibility_supplied:
            return False
        if not overrides and crosswalk is None:
            return not self.overrides and self.crosswalk is None
        if not self.overrides and self.crosswalk is None:
            return False
        if crosswalk is not None and self.crosswalk not in (None, crosswalk):
            return False
        return all(self.overrides.get(k, v) == v for k, v in overrides.items())

    def add(self, case: int, overrides: dict, crosswalk: str | None) -> None:
        self.cases.append(case)
        self.overrides.update(overrides)
        self.crosswalk = crosswalk or self.crosswalk


def batches(harvest: duckdb.DuckDBPyConnection) -> list[Batch]:
    out: list[Batch] = []
    for case, params, eligibility, crosswalk in harvest.execute(
        "select case_id, params, eligibility_supplied, ndc_crosswalk from cases order by case_id"
    ).fetchall():
        try:
            resolved = audit_params.resolve(json.loads(params))
        except ValueError:
            continue  # a test of the parameter check itself
        overrides = {k: v for k, v in resolved.items() if audit_params.DEFAULTS[k] != v}
        for batch in out:
            if batch.accepts(eligibility, overrides, crosswalk):
                batch.add(case, overrides, crosswalk)
                break
        else:
            batch = Batch(eligibility, {}, None)
            batch.add(case, overrides, crosswalk)
            out.append(batch)
    return out


def merged_world(harvest_path: Path, cases: list[int]) -> duckdb.DuckDBPyConnection:
    """One DuckDB world holding the given cases, identifiers prefixed per case."""
    con = new_connection()
    con.execute(f"attach '{harvest_path}' as harvest (read_only)")
    present = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'harvest'"
        ).fetchall()
    }
    ids = ", ".join(str(c) for c in cases)
    for name, table in schema.TABLES.items():
        if name not in present:
            continue
        columns = [
            f"'k' || case_id || '-' || {c}" if c in PREFIXED else c
            for c, _ in schema.loaded_columns(table)
        ]
        con.execute(
            f"insert into main.{name} select {', '.join(columns)} "
            f"from harvest.{name} where case_id in ({ids})"
        )
    con.execute("detach harvest")
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=lambda r: tuple(str(v) for v in r))


def spark_audit(spark, world: duckdb.DuckDBPyConnection, batch: Batch, crosswalk: Path | None):
    from jobs.spark import audit as spark_audit_module
    from jobs.spark.session import run_session

    session = run_session(spark)
    for name in schema.TABLES:
        data = world.execute(f"select * from {name}").to_arrow_table()
        session.createDataFrame(data).createOrReplaceTempView(name)
    out = duckdb.connect(":memory:")
    spark_audit_module.run_audit(
        session,
        out,
        batch.overrides,
        "run-test",
        eligibility_supplied=batch.eligibility_supplied,
        ndc_crosswalk=crosswalk,
    )
    return out


def test_rule_fixture_worlds_give_the_same_findings_on_both_engines(
    spark, harvested: Path, tmp_path: Path
) -> None:
    harvest = duckdb.connect(str(harvested), read_only=True)
    n_cases = harvest.execute("select count(*) from cases").fetchone()[0]
    assert n_cases >= 150, f"only {n_cases} worlds harvested from the rule tests"
    planned = batches(harvest)
    harvest.close()
    assert len(planned) <= 4, [(b.eligibility_supplied, b.overrides) for b in planned]

    n_findings, rules_seen = 0, set()
    for i, batch in enumerate(planned):
        crosswalk = None
        if batch.crosswalk is not None:
            crosswalk = tmp_path / f"crosswalk-{i}.csv"
            crosswalk.write_text(batch.crosswalk, encoding="utf-8")
            read_ndc_crosswalk(crosswalk)  # a valid file (bad ones are tests of the check)
        world = merged_world(harvested, batch.cases)
        run_audit(
            world,
            batch.overrides,
            "run-test",
            eligibility_supplied=batch.eligibility_supplied,
            ndc_crosswalk=crosswalk,
        )
        on_spark = spark_audit(spark, world, batch, crosswalk)
        label = (
            f"batch {i} ({len(batch.cases)} worlds, {batch.overrides}, "
            f"eligibility {batch.eligibility_supplied})"
        )
        for name, sql in COMPARED.items():
            expected, got = rows(world, sql), rows(on_spark, sql)
            assert got == expected, f"{label}: {name} differs"
        n_findings += len(rows(world, COMPARED["findings"]))
        rules_seen |= {
            r[0] for r in world.execute("select distinct rule_id from findings").fetchall()
        }
    assert n_findings > 100
    assert len(rules_seen) == 9
