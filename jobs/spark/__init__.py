"""The Spark engine: the same audit, rules and outputs on a Spark cluster.

Library use (a Databricks job or notebook with its SparkSession `spark`)::

    from jobs.spark import run

    result = run(spark, "abfss://claims@lake.dfs.core.windows.net/extracts/2026-11-24",
                 "/dbfs/audits/2026-11-24", config_path="/dbfs/audits/claims-audit.toml",
                 db_path="/dbfs/audits/audit.duckdb")
    assert result.exit_code == 0, result.message

`run` returns the same RunResult as jobs.pipeline.run (the DuckDB engine).
Importing this package does not import PySpark; `run` does.

May import every stage package of the DuckDB engine (it reuses their SQL, suites and
publication) and jobs.pipeline (its job is the base class); PySpark only inside functions.

Modules: translate (DuckDB SQL -> Spark SQL, the single translation layer),
files (discovery and copies for URIs), stage (raw/staged/loaded tables),
validate (the expectation suites on Spark), audit (models and rules),
pipeline (the run), session (SparkSession helpers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.pipeline import RunResult


def run(
    spark: Any,
    input_uri: Any,
    out_dir: Any,
    config_path: Any = None,
    db_path: Any = None,
    log: Any = None,
    decisions_path: Any = None,
) -> RunResult:
    """Audit `input_uri` with the SparkSession `spark`; see jobs.spark.pipeline.run."""
    from jobs.spark.pipeline import run as _run

    return _run(
        spark,
        input_uri,
        out_dir,
        config_path=config_path,
        db_path=db_path,
        log=log,
        decisions_path=decisions_path,
    )


__all__ = ["run"]
