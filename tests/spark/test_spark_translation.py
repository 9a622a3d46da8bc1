"""The translation layer (jobs.spark.translate): every SQL file carries over to Spark.

* Every model, rule, staging statement and expectation-suite check translates, and
  Spark accepts the result: parsed and analyzed (names, functions, types) on empty
  tables of the loaded schema. A rule file using a construct that breaks on Spark
  (ASOF JOIN, `SELECT * REPLACE`, `date - date` compared with a number, DuckDB list
  functions, ...) fails here.
* The staging macros and conversions give the same values on both engines for the
  messy values real extracts hold (run on both).

Constructs that run on Spark but answer differently (month date_diff, ordered
list(), day-of-week numbering) are refused by tests/audit/test_portability.py and
caught by the parity tests.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from jobs.audit import params as audit_params
from jobs.audit import runner as duck_audit
from jobs.audit.catalog import load_rules
from jobs.ingest import load, schema
from jobs.spark.translate import (
    TranslationError,
    spark_expression,
    strptime_to_spark,
    to_spark_sql,
)
from jobs.validation import suites
from jobs.validation.suites import load_suite

pytestmark = pytest.mark.spark

VALUES = {**audit_params.DEFAULTS, "eligibility_supplied": True, "run_id": "run-1"}


# ------------------------------------------------------------------ the rewrites (no Spark)


def test_parameters_become_typed_literals_and_intervals_lose_their_parentheses() -> None:
    sql = to_spark_sql(
        "select d - interval ($imaging_lookback_days) day, $imaging_accepts_emg, $run_id from t",
        VALUES,
    )
    assert "INTERVAL '730' DAY" in sql and "FALSE" in sql and "'run-1'" in sql
    with pytest.raises(KeyError, match=r"\$conservative_min_days"):
        to_spark_sql("select $conservative_min_days", {})


def test_regexp_full_match_is_anchored() -> None:
    assert spark_expression("regexp_full_match(x, '[0-9]{3}')") == "x RLIKE '^(?:[0-9]{3})$'"


def test_strptime_formats() -> None:
    assert strptime_to_spark("%Y-%m-%d") == "yyyy-M-d"
    assert strptime_to_spark("%Y%m%d") == "yyyyMMdd"
    assert strptime_to_spark("%m/%d/%Y") == "M/d/yyyy"
    with pytest.raises(TranslationError):
        strptime_to_spark("%j")


def test_macros_are_expanded_inline() -> None:
    expression = spark_expression("ca_parse_date(claim_start_date)")
    assert "ca_parse_date" not in expression.lower()
    assert "TRY_TO_TIMESTAMP" in expression and "claim_start_date" in expression
    with pytest.raises(TranslationError, match="ca_ndc11"):
        spark_expression("ca_ndc11(a, b)")


def test_integer_casts_round_like_duckdb() -> None:
    assert spark_expression("try_cast(x as integer)") == (
        "TRY_CAST(ROUND(TRY_CAST(x AS DECIMAL(38, 9))) AS INT)"
    )
    assert spark_expression("cast(n as bigint)") == "CAST(ROUND(n) AS BIGINT)"
    assert spark_expression("cast(count(*) as bigint)") == "CAST(COUNT(*) AS BIGINT)"
    assert spark_expression("cast(substr(n, 1, 1) as integer)") == "CAST(SUBSTRING(n, 1, 1) AS INT)"


def test_count_distinct_of_a_tuple_counts_rows_with_nulls() -> None:
    assert spark_expression("count(distinct (a, b))") == "COUNT(DISTINCT STRUCT(a, b))"


def test_duckdb_cte_materialization_hints_are_dropped() -> None:
    sql = (
        "with b as not materialized (select 1 as x), c as materialized (select 2 as y) "
        "select x from b"
    )
    assert to_spark_sql(sql, pretty=False) == (
        "WITH b AS (SELECT 1 AS x), c AS (SELECT 2 AS y) SELECT x FROM b"
    )


def _sql_files() -> list[tuple[str, str]]:
    files = [(f"model {n}", duck_audit.model_sql(n)) for n in duck_audit.INTERMEDIATE_MODELS]
    files += [(f"mart {n}", duck_audit.model_sql(n)) for n in duck_audit.MART_MODELS]
    files += [(f"rule {r.id}", r.sql) for r in load_rules()]
    return files


@pytest.mark.parametrize(("name", "sql"), _sql_files(), ids=lambda v: v if " " in v else "")
def test_every_model_and_rule_translates_to_spark_sql(name: str, sql: str) -> None:
    import sqlglot

    translated = to_spark_sql(sql, VALUES)
    sqlglot.parse_one(translated, read="spark")
    for duckdb_only in ("regexp_full_match", "try_strptime", "list_", "ca_"):
        assert duckdb_only not in translated.lower(), (name, duckdb_only)


# ------------------------------------------------------------------ Spark accepts every file


def _register_empty_inputs(spark) -> None:
    from jobs.spark import stage
    from jobs.spark.audit import register_reference_data

    for table in schema.TABLES.values():
        raw = ", ".join(["source_file string", "record_number bigint"] +
                        [f"`{c}` string" for c in table.column_names])  # fmt: skip
        spark.createDataFrame([], raw).createOrReplaceTempView(f"raw_{table.name}")
        spark.sql(stage.staged_sql(table, "run-1")).createOrReplaceTempView(f"stg_{table.name}")
        stage.register_repeated_keys(spark, table)
        stage.create_empty_view(spark, table)
    spark.createDataFrame(
        [], "table_name string, source_file string, record_number bigint"
    ).createOrReplaceTempView("rejected_keys")
    spark.createDataFrame(
        [], "code string, valid_from date, valid_to date, note string"
    ).createOrReplaceTempView(suites.CODE_VALIDITY_TABLE)
    register_reference_data(spark)


def spark_problem(spark, sql: str, params: dict | None = None) -> str | None:
    """Why `sql` (DuckDB) does not carry over to Spark, or None (translated, parsed, analyzed)."""
    try:
        spark.sql(to_spark_sql(sql, params or VALUES))
    except TranslationError as exc:
        return f"translation: {exc}"
    except Exception as exc:  # ParseException, AnalysisException
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return None


@pytest.fixture(scope="module")
def analysis_session(spark):
    from jobs.spark.session import run_session

    session = run_session(spark)
    _register_empty_inputs(session)
    return session


def test_every_model_and_rule_is_accepted_by_spark(analysis_session) -> None:
    from jobs.spark.audit import rule_sql

    spark = analysis_session
    problems = {}
    for name in duck_audit.INTERMEDIATE_MODELS + duck_audit.MART_MODELS:
        problem = spark_problem(spark, duck_audit.model_sql(name))
        if problem:
            problems[name] = problem
        else:  # analyzed, not run: later models resolve against an empty table of its schema
            analyzed = spark.sql(to_spark_sql(duck_audit.model_sql(name), VALUES))
            spark.createDataFrame([], analyzed.schema).createOrReplaceTempView(name)
    for order, rule in enumerate(load_rules()):
        try:
            spark.sql(rule_sql(rule, order, VALUES))
        except Exception as exc:
            problems[rule.id] = str(exc).strip().splitlines()[0]
    assert problems == {}


def test_every_staging_statement_and_suite_check_is_accepted_by_spark(analysis_session) -> None:
    from jobs.spark import stage
    from jobs.spark.validate import failing_rows_sql

    spark = analysis_session
    for table in schema.TABLES.values():
        spark.sql(stage.staged_sql(table, "run-1"))
        spark.sql(stage.loaded_sql(table))
        spark.sql(failing_rows_sql(table, load_suite(table.name)))


@pytest.mark.parametrize(
    "breaker",
    [
        "select a.claim_id from int_esi_lines a asof join int_esi_lines b "
        "on a.service_date >= b.service_date",
        "select * replace (1 as claim_id) from int_esi_lines",
        "select claim_id from int_esi_lines where service_date - service_date > 42",
        "select date_add(service_date, interval 3 day) from int_esi_lines",
        "select columns('claim_.*') from int_esi_lines",
        "select claim_id from int_esi_lines union by name select claim_id from int_esi_lines",
        "select claim_id[1:2] from int_esi_lines",
        "select strptime(claim_id, '%j') from int_esi_lines",
    ],
)
def test_constructs_that_break_on_spark_are_caught(analysis_session, breaker: str) -> None:
    assert spark_problem(analysis_session, breaker) is not None


# ------------------------------------------------------------------ same values on both engines

MESSY = [
    None, "", "  ", "2023-02-05", "2023-2-5", " 2023-01-31 ", "20230230", "20231105",
    "02/30/2023", "2/5/2023", "12/31/2023", "2024-13-01", "2024-02-29", "2023-02-29",
    "0000-01-01", "2023-01-01\n", "1234567893", "1234567890", "12345", "123456789a",
    "0009-31-47", "00093-147-01", "00093147-01", "0009-3147-01", "00093-1470-1",
    "00093147010", "3.0", "03", "3.5", "2.5", "-1", "1e3", "-2.50", ".5", "+5", " 7 ",
    "m54.12", "M54.12", "g89.12 ", "99213", "9921", "J1040", "0228t", "1", "50", "rt",
    "professional", "Profes\nsional", "O'Neil", "ÄB", "12,50", "１２",
]  # fmt: skip


def _value_expressions() -> list[str]:
    """DuckDB expressions over the text column v: every normalization and conversion."""
    out = [
        "ca_parse_date(v)",
        "ca_npi_is_valid(v)",
        "case when regexp_full_match(v, '[0-9]{10}') then ca_npi_is_valid(v) end",
        "ca_ndc11(v)",
    ]
    for kind in sorted({c.kind for t in schema.TABLES.values() for c in t.columns}):
        column = schema.Column("v", kind)
        out.append(load._normalize(column).rsplit(" as ", 1)[0])
        if column.converted:
            # Gated by its kind's pattern, so Spark's casts never see text DuckDB's would
            # refuse ('１２': Spark reads any Unicode digit, DuckDB only ASCII).
            out.append(load._converted(column))
    for regex in (suites.HCPCS_REGEX, suites.ICD10CM_REGEX, suites.NDC11_REGEX,
                  schema.LINE_NUMBER_REGEX, schema.AMOUNT_REGEX, schema.NUMBER_REGEX):  # fmt: skip
        out.append(f"regexp_full_match(v, '{regex[1:-1]}')")
    return out


def test_staging_macros_and_conversions_give_the_same_values(spark) -> None:
    from jobs.spark.session import run_session

    expressions = _value_expressions()
    con = duckdb.connect(":memory:")
    load.install_macros(con)
    con.execute("create table t (i integer, v varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(MESSY)))
    select = ", ".join(f"{e} as e{i}" for i, e in enumerate(expressions))
    expected = con.execute(f"select i, {select} from t order by i").fetchall()

    session = run_session(spark)
    session.createDataFrame(list(enumerate(MESSY)), "i int, v string").createOrReplaceTempView("t")
    got = [
        tuple(r)
        for r in session.sql(to_spark_sql(f"select i, {select} from t order by i")).collect()
    ]
    mismatches = [
        (MESSY[e[0]], expressions[k], e[k + 1], g[k + 1])
        for e, g in zip(expected, got, strict=True)
        for k in range(len(expressions))
        if _same(e[k + 1]) != _same(g[k + 1])
    ]
    assert mismatches == [], "\n".join(map(repr, mismatches))


def _same(value: object) -> object:
    """Values as Python compares them (Decimal, date, float, bool, str)."""
    return value


def test_suite_checks_use_only_supported_expectation_types() -> None:
    from jobs.spark.validate import SUPPORTED

    for table in schema.TABLES:
        kinds = {e["type"] for e in load_suite(table)["expectations"]}
        assert kinds <= set(SUPPORTED), (table, kinds - set(SUPPORTED))


def test_unsupported_expectation_type_stops_the_run() -> None:
    from jobs.spark.validate import UnsupportedExpectation, failing_rows_sql

    suite = {"expectations": [{"type": "expect_column_values_to_be_unique",
                               "kwargs": {"column": "npi"}, "meta": {}}]}  # fmt: skip
    with pytest.raises(UnsupportedExpectation):
        failing_rows_sql(schema.TABLES["practitioner"], suite)
    assert json.dumps(suite)  # the suite itself is untouched
