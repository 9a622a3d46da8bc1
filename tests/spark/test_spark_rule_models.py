"""Every model and rule gives the same rows on Spark as on DuckDB.

The SQL is bound with literal parameters and translated by sqlglot
(jobs.audit.catalog.to_spark_sql), then run on a local Spark session over the same
input tables. sqlglot never reports constructs that break or answer differently on
Spark, so only running both engines catches them. Fails (never
skips) when PySpark or a Java runtime is missing (tests/spark/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rule_harness import Audit, days_before

from jobs.audit import params as audit_params
from jobs.audit import runner as audit_module
from jobs.audit.catalog import bind_sql, load_rules, to_spark_sql

INPUT_TABLES = (
    "medical_claim",
    "pharmacy_claim",
    "eligibility",
    "procedure",
    "value_sets",
    "ref_esi_codes",
    "ref_value_set_labels",
    "ndc_crosswalk",
)
VALUES = {**audit_params.DEFAULTS, "eligibility_supplied": True, "run_id": "run-test"}


def parity_world() -> Audit:
    """Lines that make every rule and every evidence source produce rows."""
    world = Audit()
    world.enrolled(days_before(900), days_before(400))
    world.enrolled(days_before(399), None)
    world.enrolled(days_before(900), days_before(30), person="P2")
    for d in (300, 250, 200, 150):
        world.esi("62321", day=days_before(d))
    world.esi("62321", dx=("M542", "M4712"), service_unit_quantity=2)
    claim = world.esi("64479", hcpcs_modifier_1="RT", paid=120.0)
    world.esi("64480", claim_id=claim, line=2, hcpcs_modifier_1="RT", service_unit_quantity=2)
    world.line("77003", hcpcs_modifier_1="TC", paid=0.0)
    world.esi("0228T")
    world.esi("62320", dx=("M5414",))  # thoracic: excluded
    world.esi("62321", paid=-50.0)  # reversal
    world.care(20)
    world.care(190, code="97799", hcpcs_modifier_2="GP")
    world.fill("65862019801", 30)
    world.fill("63323016501", 100)
    world.procedure("72141", 800)
    world.imaging(50, code="72040")
    world.esi("62310", person="P2", dx=("M4802", "G8912"), day=days_before(10))
    world.care(70, person="P2", before=days_before(10), code="98940")
    world.procedure("95886", 60, person="P2")
    world.esi("64479", person="P2", dx=("B0229",), hcpcs_modifier_1="50")
    return world


@pytest.fixture
def session(spark):
    """A session of its own: the temporary views below stay out of the other tests."""
    return spark.newSession()


def as_text(rows) -> list[tuple[str, ...]]:
    return sorted(tuple("" if v is None else str(v) for v in row) for row in rows)


def test_models_and_rules_match_on_spark(session, tmp_path: Path) -> None:
    world = parity_world()
    world.run(eligibility_supplied=True)
    for table in INPUT_TABLES:
        target = tmp_path / f"{table}.parquet"
        world.con.execute(f"copy {table} to '{target}' (format parquet)")
        session.read.parquet(str(target)).createOrReplaceTempView(table)

    for name in audit_module.INTERMEDIATE_MODELS + audit_module.MART_MODELS:
        query = session.sql(to_spark_sql(audit_module.model_sql(name), VALUES))
        rows = query.collect()
        # materialized like the DuckDB tables, so later models do not replan the whole chain
        session.createDataFrame(rows, query.schema).createOrReplaceTempView(name)
        duck = world.con.execute(f"select * from {name}").fetchall()
        assert len(rows) == len(duck), name

    n_rules_with_rows = 0
    for rule in load_rules():
        on_spark = as_text(session.sql(to_spark_sql(rule.sql, VALUES)).collect())
        on_duckdb = as_text(world.con.execute(bind_sql(rule.sql, VALUES)).fetchall())
        assert on_spark == on_duckdb, rule.id
        n_rules_with_rows += bool(on_duckdb)
    assert n_rules_with_rows == len(load_rules())
