"""Rule and model SQL stays in the subset that also runs on Spark.

Every file of sql/intermediate, sql/rules and sql/marts is bound with literal
parameters, translated by sqlglot (duckdb -> spark) and checked for constructs known
to break or to answer differently on Spark. sqlglot never reports them, so the checks
read the DuckDB text and AST. test_spark_parity.py is the stronger check: it runs every
model and rule on a local Spark session and compares the rows with DuckDB's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from jobs.audit import params as audit_params
from jobs.audit.catalog import bind_sql, to_spark_sql
from jobs.resources import sql_dir

VALUES = {**audit_params.DEFAULTS, "eligibility_supplied": True, "run_id": "run-1"}
SQL_FILES = [
    *sorted((sql_dir() / "intermediate").glob("*.sql")),
    *sorted((sql_dir() / "rules").glob("*.sql")),
    *sorted((sql_dir() / "marts").glob("mart_*.sql")),
]

# (pattern on the DuckDB text without comments and string literals, why it is refused)
FORBIDDEN = [
    (r"\basof\b", "ASOF JOIN does not exist on Spark"),
    (r"\bregexp_full_match\s*\(", "regexp_full_match breaks on Spark"),
    (
        r"\b(quantile_cont|percentile_cont|median)\s*\(",
        "quantiles break or become approximate on Spark",
    ),
    (r"\bunion\s+by\s+name\b", "UNION BY NAME breaks on Spark"),
    (r"\bcolumns\s*\(", "COLUMNS(*) breaks on Spark"),
    (r"\*\s*(replace|exclude|rename)\b", "SELECT * REPLACE/EXCLUDE breaks on Spark"),
    (r"\bdate_add\s*\(", "date_add(d, INTERVAL ...) breaks on Spark"),
    (r"\b(dayofweek|isodow|dow)\b", "day-of-week numbering differs on Spark"),
    (
        r"\b(list|array_agg|string_agg|group_concat|listagg)\s*\(",
        "ordered aggregates answer differently on Spark",
    ),
    (r"\blist_[a-z_]+\s*\(", "DuckDB list functions"),
    (r"\[[^\]]*:[^\]]*\]", "string/list slices break on Spark"),
    (r"\bca_[a-z0-9_]+\s*\(", "staging macros are DuckDB-only"),
    (r"::", "use cast(... as ...)"),
    (r"\binterval\s+'", "write interval n day (or interval ($param) day)"),
]


def strip_comments_and_strings(sql: str) -> str:
    sql = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def portability_problems(sql: str) -> list[str]:
    """Why this DuckDB SQL would not run (or not answer the same) on Spark; empty when fine."""
    problems = []
    without_comments = re.sub(r"--[^\n]*", "", sql).lower()
    if re.search(r"\bdate_diff\s*\(\s*(?!'day')", without_comments):
        problems.append("only day-level date_diff answers the same on Spark")
    text = strip_comments_and_strings(bind_sql(sql, VALUES)).lower()
    for pattern, why in FORBIDDEN:
        if re.search(pattern, text):
            problems.append(why)
    tree = sqlglot.parse_one(bind_sql(sql, VALUES), read="duckdb")
    for node in tree.find_all(exp.Sub):
        right = node.expression
        if not (
            isinstance(right, exp.Interval)
            or (isinstance(right, exp.Literal) and not right.is_string)
        ):
            problems.append(
                f"subtraction {node.sql()}: date - date is an interval on Spark; use date_diff"
            )
    spark = to_spark_sql(sql, VALUES)
    if re.search(r"INTERVAL\s*\(", spark):
        problems.append("parenthesized INTERVAL reaches Spark")
    sqlglot.parse_one(spark, read="spark")  # the translation must at least parse as Spark SQL
    return problems


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sql_is_portable_to_spark(path: Path) -> None:
    assert portability_problems(path.read_text()) == []


@pytest.mark.parametrize(
    "bad_sql",
    [
        "select a.d - b.d as n from a, b",
        "select * replace (1 as x) from t",
        "select * from a asof join b on a.t >= b.t",
        "select date_add(d, interval 3 day) from t",
        "select date_diff('month', a, b) from t",
        "select string_agg(x, ',' order by x) from t",
        "select regexp_full_match(x, 'a') from t",
        "select x[1:2] from t",
        "select ca_parse_date(x) from t",
        "select x::date from t",
    ],
)
def test_checker_catches_known_breakers(bad_sql: str) -> None:
    assert portability_problems(bad_sql)


def test_bound_interval_reaches_spark_as_a_literal() -> None:
    sql = "select cast(d - interval ($imaging_lookback_days) day as date) from t"
    assert "INTERVAL '730' DAY" in to_spark_sql(sql, VALUES)
