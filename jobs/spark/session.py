"""The SparkSession: importing PySpark, building a local session, isolating a run.

PySpark is imported only here and only when a Spark run starts, so the DuckDB
engine never needs it (`pip install '.[spark]'` installs it).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from jobs.errors import AuditError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
# Settings of the session the command line builds (a library caller brings its own).
LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # Small inputs are common (a night's extract, the tests): start with few shuffle
    # partitions; adaptive execution coalesces or splits them from there.
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
}


def import_pyspark() -> Any:
    """Import pyspark.sql, with a one-line error when the Spark extra is missing.

    A missing engine is not the input's fault: exit code 1, like a locked database.
    """
    try:
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise AuditError(
            "the Spark engine needs PySpark and a Java runtime: pip install 'claims-audit[spark]' "
            "(and Java 17, e.g. Debian openjdk-17-jre-headless)"
        ) from None
    except SystemExit as exc:  # pragma: no cover - see jobs/validation/gx_duckdb.py
        raise RuntimeError(
            "importing pyspark exited the interpreter (pyspark's doctest check under "
            "`python -c` or stdin); run from a script file or the claims-audit command"
        ) from exc
    import pyspark

    return pyspark


def local_driver_memory() -> str:
    """Half of this machine's memory (at least 1g): a local master runs everything in the driver."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "4g"
    return f"{max(1, total // 2**31)}g"


def build_session(
    master: str = DEFAULT_MASTER,
    app_name: str = "claims-audit",
    settings: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession for the command line (`--spark-master`, default local[2]).

    Settings from spark-defaults.conf, SPARK_CONF_DIR or PYSPARK_SUBMIT_ARGS still
    apply; for a local master (driver and executors in one JVM) the driver gets
    half of this machine's memory unless `spark.driver.memory` is set there or in
    CLAIMS_AUDIT_SPARK_DRIVER_MEMORY (4g fails aggregations at 10M lines).
    """
    import_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    merged = dict(LOCAL_SETTINGS)
    if master.startswith("local"):
        memory = os.environ.get("CLAIMS_AUDIT_SPARK_DRIVER_MEMORY", local_driver_memory())
        merged.setdefault("spark.driver.memory", memory)
    merged.update(settings or {})
    for key, value in merged.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, bad master URL, ...
        text = str(exc).strip().splitlines()
        raise AuditError(
            f"cannot start Spark (master {master}): {text[0] if text else type(exc).__name__}"
        ) from None
    session.sparkContext.setLogLevel(os.environ.get("CLAIMS_AUDIT_SPARK_LOG_LEVEL", "ERROR"))
    return session


def run_session(spark: SparkSession) -> SparkSession:
    """A session of its own for one run: same cluster, separate temporary views and SQL settings.

    The run registers temporary views named like the audit's tables (medical_claim,
    int_esi_lines, ...); in its own session they cannot replace a notebook's views.
    Spark Connect sessions cannot spawn one: the caller's session is used there.
    """
    try:
        session = spark.newSession()
    except Exception:  # Spark Connect: newSession is not supported
        return spark
    # The run compares dates only; a fixed time zone keeps timestamp inputs on their date.
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


_ERROR_CLASS = re.compile(r"\[[A-Z][A-Z0-9_.]+\][^\n]*")
MEMORY_HINT = (
    "Spark ran out of memory: raise spark.executor.memory / spark.driver.memory "
    "(local master: CLAIMS_AUDIT_SPARK_DRIVER_MEMORY, default half of the machine's memory)"
)


def error_line(exc: BaseException) -> str:
    """One line for a failed Spark call: the error class and message, not Py4J's wrapper.

    Py4J's text starts with "An error occurred while calling o693.localCheckpoint."
    and buries the cause in a Java stack trace; the first Spark error class
    ("[AGGREGATE_OUT_OF_MEMORY] No enough memory for aggregation") says what happened.
    """
    text = str(exc).strip()
    lines = [line.strip().lstrip(":").strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    line = lines[0]
    if line.startswith("An error occurred while calling") and len(lines) > 1:
        found = _ERROR_CLASS.search(text)
        line = found.group(0).strip() if found else lines[1]
    if "OUT_OF_MEMORY" in text or "OutOfMemoryError" in text:
        line = f"{line} ({MEMORY_HINT})"
    return line
