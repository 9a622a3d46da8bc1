"""The tree shows the pipeline (issue 12): one package per stage, dependencies one way."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

JOBS = REPO / "jobs"
TOP = {"__init__", "config", "errors", "faults", "log", "resources", "safecsv", "sqltext"}
# What each stage package may import besides itself and the top-level helpers above.
ALLOWED = {
    "ingest": set(),
    "validation": {"ingest"},
    "audit": set(),
    "report": {"audit"},
    "review": {"audit", "publish"},
    "publish": set(),
    "synthetic": {"ingest"},
}


def imported_packages(package: Path) -> set[str]:
    """The jobs.<name> modules or packages imported anywhere in `package`."""
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "jobs" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_stage_dependencies_point_one_way() -> None:
    packages = sorted(p.parent.name for p in JOBS.glob("*/__init__.py"))
    assert set(ALLOWED) <= set(packages)
    wrong = {}
    for name in ALLOWED:
        extra = imported_packages(JOBS / name) - {name, "__version__"} - TOP - ALLOWED[name]
        if extra:
            wrong[name] = sorted(extra)
    assert not wrong, f"stage packages importing what they must not: {wrong}"
    # no stage (Spark included) imports the command line
    for name in packages:
        assert "cli" not in imported_packages(JOBS / name), name


def test_the_check_sees_imports() -> None:
    assert {"ingest", "validation", "audit", "publish"} <= imported_packages(JOBS / "spark")
    assert "audit" in imported_packages(JOBS / "report")


def test_readme_layout_matches_the_package_tree():
    """Every subpackage of jobs/ is in the README's layout, with a docstring saying what
    lives there (issue 12), and tests/ has a folder for each stage package."""
    text = (REPO / "README.md").read_text()
    layout = text[text.index("## Layout") :]
    packages = sorted(p.parent.name for p in (REPO / "jobs").glob("*/__init__.py"))
    assert len(packages) >= 8
    for name in packages:
        assert f"jobs/{name}/" in layout, name
        doc = (REPO / "jobs" / name / "__init__.py").read_text()
        assert doc.startswith('"""') and "import" in doc.split('"""')[1], name
    for name in set(packages) - {"review"}:
        assert (REPO / "tests" / name).is_dir(), f"tests/{name}"
