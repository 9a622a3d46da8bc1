"""A failed Spark call ends the run with one line that says what happened."""

from __future__ import annotations

from jobs.spark.session import MEMORY_HINT, error_line

# The text of a Py4JJavaError as a 10M-line local run with 4g printed it (shortened).
PY4J_OOM = """An error occurred while calling o693.localCheckpoint.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 1 in stage 29.0 failed 1 times, most recent failure: Lost task 1.0 in stage 29.0 (TID 43) (host executor driver): org.apache.spark.memory.SparkOutOfMemoryError: [AGGREGATE_OUT_OF_MEMORY] No enough memory for aggregation SQLSTATE: 82001
\tat org.apache.spark.sql.errors.QueryExecutionErrors$.aggregateOutOfMemoryError(QueryExecutionErrors.scala:1215)
"""  # noqa: E501


class Py4JLike(Exception):
    pass


def test_out_of_memory_names_the_error_class_and_the_setting_to_raise() -> None:
    line = error_line(Py4JLike(PY4J_OOM))
    assert "\n" not in line
    assert line.startswith("[AGGREGATE_OUT_OF_MEMORY] No enough memory for aggregation")
    assert MEMORY_HINT in line
    assert "o693" not in line


def test_other_errors_keep_their_first_line() -> None:
    assert error_line(ValueError("bad master URL\nmore")) == "bad master URL"
    wrapped = "An error occurred while calling o12.sql.\n: java.io.FileNotFoundException: x\n"
    assert error_line(Py4JLike(wrapped)) == "java.io.FileNotFoundException: x"
    assert error_line(RuntimeError()) == "RuntimeError"
