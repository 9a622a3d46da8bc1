"""Fixtures for the validation tests: a DuckDB *file* with the staging macros and the
code_validity table, opened the way the loader opens it (read-write, kept open)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the package may not be installed when tests run
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def gx_ready():
    from jobs.validation import gx_duckdb

    gx_duckdb.apply_adjustments()
    return gx_duckdb


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "audit.duckdb"


@pytest.fixture
def con(db_path):
    """The loader's connection: read-write on a file, open while GX runs."""
    import duckdb

    from jobs.validation.suites import load_code_validity

    from .helpers import load_macros

    connection = duckdb.connect(str(db_path))
    load_macros(connection)
    load_code_validity(connection)
    yield connection
    connection.close()
