"""Shared fixtures: the real-format Tuva extracts in tests/fixtures and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The Tuva Project's synthetic claims (Apache-2.0; see each folder's SOURCE.md and NOTICE).
TUVA_SYNTHETIC_10 = FIXTURES / "tuva-synthetic-10"
TUVA_DEMO_2023 = FIXTURES / "tuva-demo-2023"
# The output files of a successful run (contract: "Outputs of run").
OUTPUTS = [
    "exceptions.csv",
    "exceptions.parquet",
    "worklist.csv",
    "rejected_rows.csv",
    "report.html",
    "manifest.json",
]


@pytest.fixture(scope="session")
def tuva10() -> Path:
    return TUVA_SYNTHETIC_10


@pytest.fixture(scope="session")
def tuva2023() -> Path:
    return TUVA_DEMO_2023


# ------------------------------------------------------------ no silent skips
# .ci/run sets CLAIMS_AUDIT_NO_SKIP=1: there every test must run, so a skipped test (a
# missing browser, package or fixture) fails with its reason instead of hiding what it
# guards, and a module skipped whole fails the run. Elsewhere a skip stays a skip, which
# `pytest -rs` lists with its reason (issue 13).
NO_SKIP = "CLAIMS_AUDIT_NO_SKIP"
_skipped_modules: list[str] = []


def _no_skips() -> bool:
    return os.environ.get(NO_SKIP) == "1"


def _reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _no_skips() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where no test may skip ({NO_SKIP}=1): {_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _no_skips():
        _skipped_modules.append(f"{report.nodeid}: {_reason(report)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped_modules and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped_modules:
        terminalreporter.section(f"modules skipped where no test may skip ({NO_SKIP}=1)")
        for line in _skipped_modules:
            terminalreporter.line(line)


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def copy_database(db: Path, folder: Path) -> Path:
    """A copy of the audit database `db` and the files beside it that share its name (its
    run journal, member key), into `folder` (created); returns the copy's path."""
    folder.mkdir(parents=True)
    for path in db.parent.glob(f"{db.stem}.*"):
        if path.is_file():
            shutil.copy2(path, folder / path.name)
    return folder / db.name


def _cli_command() -> list[str]:
    script = Path(sys.executable).parent / "claims-audit"
    if script.exists():
        return [str(script)]
    found = shutil.which("claims-audit")
    return [found] if found else [sys.executable, "-m", "jobs.cli"]


def run_cli(*args: str | Path, timeout: float = 600, env: dict | None = None) -> Completed:
    """Run the real `claims-audit` command line in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [*_cli_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(result, *needles, code=2):
    assert result.returncode == code, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    message = [line for line in result.stderr.splitlines() if line.startswith("claims-audit:")]
    assert len(message) == 1, result.stderr
    for needle in needles:
        assert needle in message[0], message[0]


@pytest.fixture
def cli():
    return run_cli
