"""Fixtures of the Spark tests: one local SparkSession for the whole test session.

These tests fail (never skip) when PySpark or a Java runtime is missing: CI installs
both (.ci/run). The session is small and tuned for tiny data: two local cores, two
shuffle partitions, no adaptive re-planning and no whole-stage code generation
(compiling generated code costs more than it saves on a few thousand rows); results
do not depend on these settings, only the time does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RULE_TESTS = REPO / "tests" / "audit"
for path in (str(RULE_TESTS), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

TEST_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.memory": "1g",
}

# The given/expect worlds of these rule test files are audited on both engines.
HARVESTED = (
    "tests/audit/test_rules_criteria.py",
    "tests/audit/test_rules_further_rules.py",
    "tests/audit/test_rules_history.py",
    "tests/audit/test_rules_lines.py",
    "tests/audit/test_reversals.py",
    "tests/audit/test_policy_1_1.py",
    "tests/audit/test_rules_runner.py::test_findings_and_rule_stats_tables",
)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def harvest_process(tmp_path_factory: pytest.TempPathFactory):
    """Start collecting the rule tests' worlds in a subprocess (it runs while Spark starts)."""
    target = tmp_path_factory.mktemp("harvest") / "worlds.duckdb"
    env = {
        **os.environ,
        "CLAIMS_AUDIT_HARVEST": str(target),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "harvest", "-p", "no:cacheprovider",
         "--rootdir", str(REPO), *HARVESTED],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield proc, target
    if proc.poll() is None:
        proc.kill()


@pytest.fixture(scope="session")
def harvested(harvest_process) -> Path:
    proc, target = harvest_process
    output, _ = proc.communicate(timeout=600)
    if not target.exists():
        pytest.fail(f"harvesting the rule tests' worlds failed:\n{output[-3000:]}")
    return target


@pytest.fixture(scope="session")
def spark(harvest_process):
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail("PySpark is not installed: pip install '.[spark]' (the Spark tests need it)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("no Java runtime: install openjdk-17-jre-headless (.ci/run does)")
    from jobs.spark.session import build_session

    session = build_session("local[2]", "claims-audit-tests", TEST_SETTINGS)
    yield session
    session.stop()
