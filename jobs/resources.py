"""Where the shipped SQL, expectation suites and report templates live.

In a source checkout they sit at the top of the repository; in an installed
wheel they are copied inside the package (see pyproject's force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Path of a shipped folder: 'sql', 'expectations' or 'reports'."""
    for base in (_PACKAGE, _PACKAGE.parent):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"claims-audit resource folder {name!r} is missing from the install")


def sql_dir() -> Path:
    return resource_dir("sql")


def expectations_dir() -> Path:
    return resource_dir("expectations")


def reports_dir() -> Path:
    return resource_dir("reports")
