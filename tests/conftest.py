"""Shared fixtures: the real-format extracts in ../shared/data and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CLAIMS_AUDIT_SHARED", REPO.parent / "shared")) / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def tuva10() -> Path:
    path = SHARED_DATA / "tuva-synthetic-10"
    if not path.is_dir():
        pytest.fail(f"shared data missing: {path}")
    return path


@pytest.fixture(scope="session")
def tuva2023() -> Path:
    path = SHARED_DATA / "tuva-demo-2023"
    if not path.is_dir():
        pytest.fail(f"shared data missing: {path}")
    return path


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


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


@pytest.fixture
def cli():
    return run_cli
