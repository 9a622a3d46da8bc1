"""The audit on Spark: the same reference data, models and rule files as jobs.audit.runner.

Value sets, reference tables and the NDC crosswalk are read by jobs.audit.runner's own
readers (same validation, same normalization) and registered as Spark tables.
Every model of jobs.audit.runner.INTERMEDIATE_MODELS and MART_MODELS, then every rule of
sql/rules, is translated by jobs.spark.translate with the run's parameters as
typed literals. Models are materialized one by one (``localCheckpoint``: kept on
the executors, lineage cut, so later models plan against a table, as on DuckDB);
the rules run as one Spark job (a UNION ALL of the rule queries, each stamped
with its order, version and run id) whose rows, the findings, are collected.

Collected to the driver: the findings, mart_rule_coverage (one row per rule) and
mart_esi_lines (one row per ESI line, what the report reads).
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING

from jobs.audit import reference
from jobs.audit import runner as duck_audit
from jobs.audit.catalog import Rule, load_rules
from jobs.spark.stage import materialize
from jobs.spark.translate import to_spark_sql

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

    from jobs.log import Log

# The DuckDB types of the findings, as Spark types (jobs.audit.runner.FINDINGS_COLUMNS).
_SPARK_TYPE = {
    "varchar": "string",
    "integer": "int",
    "bigint": "bigint",
    "date": "date",
    "decimal(18, 2)": "decimal(18,2)",
}


def _string_frame(spark: SparkSession, columns: tuple[str, ...] | list[str], rows: list[dict]):
    schema = ", ".join(f"`{c}` string" for c in columns)
    return spark.createDataFrame([tuple(r.get(c) for c in columns) for r in rows], schema)


def register_reference_data(spark: SparkSession, ndc_crosswalk: Path | None = None) -> None:
    """value_sets, ref_* and ndc_crosswalk as Spark tables (all text, as on DuckDB)."""
    from pathlib import Path

    _string_frame(
        spark, reference.VALUE_SET_COLUMNS, reference.read_value_sets()
    ).createOrReplaceTempView("value_sets")
    for path in reference.reference_files():
        columns, rows = reference.read_csv(path, ())
        _string_frame(
            spark, columns, [{k: v or None for k, v in r.items()} for _, r in rows]
        ).createOrReplaceTempView(path.stem)
    crosswalk = ndc_crosswalk or reference.value_sets_dir() / reference.STARTER_CROSSWALK
    _string_frame(
        spark, reference.CROSSWALK_COLUMNS, reference.read_ndc_crosswalk(Path(crosswalk))
    ).createOrReplaceTempView("ndc_crosswalk")


def build_models(
    spark: SparkSession, values: dict[str, object], log: Log | None = None
) -> dict[str, DataFrame]:
    """Materialize every intermediate model and mart of jobs.audit.runner, in order, as Spark
    tables."""
    built = {}
    for name in duck_audit.INTERMEDIATE_MODELS + duck_audit.MART_MODELS:
        with log.stage(f"audit:{name}") if log else contextlib.nullcontext():
            df = materialize(spark.sql(to_spark_sql(duck_audit.model_sql(name), values)))
        df.createOrReplaceTempView(name)
        built[name] = df
    return built


def rule_sql(rule: Rule, order: int, values: dict[str, object]) -> str:
    """One rule's findings, stamped as jobs.audit.runner stamps them, in Spark SQL."""
    stamped = f"""
select
    {order} as rule_order, $ca_run_id as run_id, r.rule_id, $ca_rule_version as rule_version,
    r.status, r.severity, r.data_source, r.claim_id, r.claim_line_number, r.person_id,
    r.rendering_npi, r.service_date, r.hcpcs_code, r.paid_amount, r.evidence
from (
{rule.sql}
) as r
"""
    return to_spark_sql(
        stamped, {**values, "ca_run_id": values["run_id"], "ca_rule_version": rule.version}
    )


def findings_frame(spark: SparkSession, values: dict[str, object]) -> tuple[list[Rule], DataFrame]:
    """Every rule's findings as one Spark frame (rule_order first, then the findings columns)."""
    from pyspark.sql import functions as F

    rules = load_rules()
    frames = []
    for order, rule in enumerate(rules):
        try:
            frame = spark.sql(rule_sql(rule, order, values))
        except Exception as exc:
            raise RuntimeError(f"rule {rule.id} does not run on Spark: {exc}") from exc
        frames.append(
            frame.select(
                F.col("rule_order").cast("int"),
                *[
                    F.col(name).cast(_SPARK_TYPE[sql_type])
                    for name, sql_type in duck_audit.FINDINGS_COLUMNS
                ],
            )
        )
    return rules, functools.reduce(lambda a, b: a.unionByName(b), frames)


def _store(con, name: str, frame: DataFrame, columns_ddl: str | None = None) -> int:
    """Collect a (small) Spark frame into a DuckDB table; returns its row count."""
    data = frame.toArrow()
    view = f"_claims_audit_arrow_{name}"
    con.register(view, data)
    try:
        if columns_ddl:
            con.execute(f"create or replace table {name} ({columns_ddl})")
            con.execute(f"insert into {name} select * from {view}")
        else:
            con.execute(f"create or replace table {name} as select * from {view}")
    finally:
        con.unregister(view)
    return data.num_rows


def run_audit(
    spark: SparkSession,
    con,
    params: dict,
    run_id: str,
    *,
    eligibility_supplied: bool,
    ndc_crosswalk: Path | None = None,
    log: Log | None = None,
) -> list[duck_audit.RuleStats]:
    """Audit the loaded Spark tables; write findings, rule_stats and the marts into `con`.

    The DuckDB side mirrors jobs.audit.runner.run_audit: the same tables, column types,
    row order, header check and statistics.
    """
    values = duck_audit.audit_values(params, run_id, eligibility_supplied)
    reference.load_reference_data(con, ndc_crosswalk)
    register_reference_data(spark, ndc_crosswalk)
    build_models(spark, values, log)
    rules, findings = findings_frame(spark, values)

    ddl = duck_audit._columns_ddl(duck_audit.FINDINGS_COLUMNS)
    with log.stage("audit:rules") if log else contextlib.nullcontext():
        _store(con, "_claims_audit_findings", findings, f"rule_order integer, {ddl}")
    for order, rule in enumerate(rules):
        duck_audit.check_rule_rows(con, rule, order)
    for name in duck_audit.MART_MODELS:
        _store(con, name, spark.table(name))
    return duck_audit.store_findings(con, rules, run_id)
