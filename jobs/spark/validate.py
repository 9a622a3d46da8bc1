"""The expectation suites, executed on Spark; rejected rows kept and counted.

The suites are the DuckDB engine's (expectations/<table>.json, generated from the
contract by jobs.validation.suites); every expectation keeps its meta reason, level,
column and description. Great Expectations itself is not run on Spark: its Spark path
collects the failing rows' keys to the driver and takes about 12 s per million rows
(measured on this project's machine); instead each expectation type of the suites is
evaluated as GX defines it, all of one table's expectations in a single Spark job:

* ``expect_column_values_to_not_be_null``: rows where the column is NULL;
* ``expect_column_values_to_be_null``: rows where it is not (the ``__invalid``
  text of a value that did not convert);
* ``expect_column_values_to_match_regex``: non-NULL values the regex does not
  match (GX on DuckDB searches with ``~``; the suites anchor with ``^...$``, and
  ``$`` becomes ``\\z`` so a trailing line break cannot slip through Java's ``$``);
* ``unexpected_rows_expectation``: the rows its query returns; the DuckDB query
  goes through the translation layer (staging macros expanded).

An expectation type the suites start using without a Spark evaluation here stops
the run (and the tests) instead of being skipped.

A file that reuses an earlier validation (jobs.validation.reuse) is checked only by
the expectations that span files (duplicate keys). The job writes into the local audit
database, as on DuckDB: ``row_issues`` (one row per failing input row and
expectation), ``validation_results`` (jobs.validation.validate `write_results`) and
``rejected_rows`` (jobs.validation.quarantine, from the original values of this run's
rejected rows, `originals`, and the reused ones).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobs.ingest import records
from jobs.ingest.schema import Table
from jobs.spark.stage import StagedTable
from jobs.spark.translate import to_spark_sql
from jobs.sqltext import lit
from jobs.validation.gx_duckdb import EXAMPLES
from jobs.validation.suites import entry_of, load_suite, spans_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

NOT_NULL = "expect_column_values_to_not_be_null"
MATCH_REGEX = "expect_column_values_to_match_regex"
BE_NULL = "expect_column_values_to_be_null"
UNEXPECTED_ROWS = "unexpected_rows_expectation"
SUPPORTED = (NOT_NULL, BE_NULL, MATCH_REGEX, UNEXPECTED_ROWS)


class UnsupportedExpectation(RuntimeError):
    """A suite uses an expectation type the Spark engine does not evaluate."""


@dataclass
class Outcome:
    table: str
    expectation_type: str
    column: str | None
    reason: str
    level: str
    description: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_examples: list[str]


def java_regex(pattern: str) -> str:
    """A suite regex for Spark's RLIKE: a final ``$`` anchor becomes ``\\z`` (end of text)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\z"
    return pattern


def _literal(text: str) -> str:
    """A Spark SQL string literal (backslashes and quotes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def failing_rows_sql(table: Table, suite: dict[str, Any]) -> str:
    """Spark SQL returning (k, source_file, record_number, value) for every failing row of
    every expectation k of `suite` on stg_<table>, as one statement: the column checks in
    one pass over the rows, each SQL check as a branch of a UNION ALL."""
    relation = f"stg_{table.name}"
    column_checks = []
    branches = []
    for k, expectation in enumerate(suite["expectations"]):
        kind = expectation["type"]
        kwargs = expectation.get("kwargs") or {}
        if kind == NOT_NULL:
            column = f"`{kwargs['column']}`"
            column_checks.append(
                f"case when {column} is null "
                f"then named_struct('k', {k}, 'value', cast(null as string)) end"
            )
        elif kind == BE_NULL:
            column = f"`{kwargs['column']}`"
            column_checks.append(
                f"case when {column} is not null "
                f"then named_struct('k', {k}, 'value', cast({column} as string)) end"
            )
        elif kind == MATCH_REGEX:
            column = f"`{kwargs['column']}`"
            regex = _literal(java_regex(kwargs["regex"]))
            column_checks.append(
                f"case when {column} is not null and not {column} rlike {regex} "
                f"then named_struct('k', {k}, 'value', cast({column} as string)) end"
            )
        elif kind == UNEXPECTED_ROWS:
            query = kwargs["unexpected_rows_query"].format(batch=relation)
            branches.append(
                f"select {k} as k, source_file, record_number, cast(value as string) as value\n"
                f"from (\n{to_spark_sql(query)}\n) as q{k}"
            )
        else:
            raise UnsupportedExpectation(
                f"suite {table.name}: expectation type {kind} has no Spark evaluation "
                f"(supported: {', '.join(SUPPORTED)})"
            )
    if column_checks:
        checks = ",\n    ".join(column_checks)
        branches.insert(
            0,
            "select f.k, source_file, record_number, f.value\n"
            f"from {relation}\n"
            f"lateral view inline(array_compact(array(\n    {checks}\n))) f as k, value",
        )
    if not branches:
        return (
            "select cast(null as int) as k, cast(null as string) as source_file, "
            "cast(null as bigint) as record_number, cast(null as string) as value where false"
        )
    return "\nunion all\n".join(branches)


def validate_table(
    spark: SparkSession, staged: StagedTable, validated: list[str] | None = None
) -> tuple[list[Outcome], DataFrame]:
    """Run the suite of one table on the rows of the `validated` files (None: every file;
    the expectations that span files see every file); returns the outcomes (counts and
    examples of this run's rows) and its row issues (a Spark frame)."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    table = staged.table
    suite = load_suite(table.name)
    entries = [entry_of(table.name, e) for e in suite["expectations"]]
    failing = spark.sql(failing_rows_sql(table, suite))
    if validated is not None:
        spanning = [k for k, e in enumerate(suite["expectations"]) if spans_files(e)]
        files = ", ".join(lit(f) for f in validated) or "null"
        where = f"source_file in ({files})" + (
            f" or k in ({', '.join(map(str, spanning))})" if spanning else ""
        )
        failing = failing.where(where)
    failing = failing.localCheckpoint(eager=True)
    # Counts and the first five example values of every expectation, in one job.
    ordered = Window.partitionBy("k").orderBy(
        F.col("value").isNull(), "source_file", "record_number"
    )
    counts: dict[int, int] = {}
    examples: dict[int, list[str]] = {}
    for r in (
        failing.select(
            "k",
            "value",
            F.row_number().over(ordered).alias("_n"),
            F.count("*").over(Window.partitionBy("k")).alias("_total"),
        )
        .where(F.col("_n") <= EXAMPLES)
        .orderBy("k", "_n")
        .collect()
    ):
        counts[r["k"]] = int(r["_total"])
        if r["value"] is not None:
            examples.setdefault(r["k"], []).append(r["value"])
    element_count = sum(f.rows_read for f in staged.files) - staged.n_bad
    outcomes = []
    for k, entry in enumerate(entries):
        n = counts.get(k, 0)
        outcomes.append(
            Outcome(
                table=table.name,
                expectation_type=entry.expectation_type,
                column=entry.column,
                reason=entry.reason,
                level=entry.level,
                description=entry.description,
                success=n == 0,
                element_count=element_count,
                unexpected_count=n,
                unexpected_examples=examples.get(k, [])[:EXAMPLES],
            )
        )
    meta = spark.createDataFrame(
        [(k, e.reason, e.level, e.column, e.description) for k, e in enumerate(entries)],
        "k int, reason string, level string, column_name string, description string",
    )
    issues = (
        failing.join(F.broadcast(meta), "k")
        .select(
            F.lit(table.name).alias("table_name"),
            "source_file",
            "record_number",
            "reason",
            "level",
            "column_name",
            "description",
        )
        .distinct()
    )
    return outcomes, issues


def originals(spark: SparkSession, issues: DataFrame, staged: list[StagedTable]) -> DataFrame:
    """(table_name, source_file, record_number, original_values) of every row with a
    blocking issue in `issues`: its contract columns as read, as JSON (as on DuckDB)."""
    from pyspark.sql import functions as F

    blocking = (
        issues.where(F.col("level") == "blocking")
        .select("table_name", "source_file", "record_number")
        .distinct()
        .alias("i")
    )
    frames = []
    for s in staged:
        table = s.table
        values = F.to_json(
            F.struct(*[F.col(f"r.`{c}`").alias(c) for c in table.column_names]),
            {"ignoreNullFields": "false"},
        )
        raw = spark.table(f"raw_{table.name}").alias("r")
        frames.append(
            blocking.where(F.col("i.table_name") == table.name)
            .join(
                raw,
                (F.col("r.source_file") == F.col("i.source_file"))
                & (F.col("r.record_number") == F.col("i.record_number")),
            )
            .select(
                F.col("i.table_name").alias("table_name"),
                F.col("i.source_file").alias("source_file"),
                F.col("i.record_number").alias("record_number"),
                values.alias("original_values"),
            )
        )
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def bad_records(staged: StagedTable) -> list[tuple]:
    """Rows for csv_bad_records: the CSV records that could not be parsed, with their line
    numbers and field counts (the text only counts the fields; it is never kept)."""
    if not staged.n_bad:
        return []
    out = []
    for r in (
        staged.bad.where("raw_line is not null").orderBy("source_file", "record_number").collect()
    ):
        header = staged.headers.get(r["source_file"], [])
        n_fields = records.field_count(_first_record(r["raw_line"]))
        if n_fields is not None and n_fields < len(header):
            error_type = "missing columns"
        elif n_fields is not None and n_fields > len(header):
            error_type = "too many columns"
        else:
            error_type = "unquoted value"
        if n_fields is not None and n_fields != len(header):
            message = f"the record has {n_fields} fields, the header {len(header)}"
        else:
            message = "the record cannot be parsed as CSV (quoting)"
        line = int(r["record_number"]) + 1  # a reconciled file: one line per record
        out.append(
            (
                staged.table.name, r["source_file"], int(r["record_number"]), line, line,
                error_type, message, n_fields, len(header),
            )
        )  # fmt: skip
    return out + staged.careful_bad


def _first_record(raw: str | None) -> str | None:
    """Spark keeps a multi-line record's text whole; DuckDB's rejects hold the same text."""
    if raw is None:
        return None
    return re.sub(r"\r?\n$", "", raw)


def to_json_text(value: Any) -> str:
    return json.dumps(value, default=str)
