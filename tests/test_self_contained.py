"""A fresh clone passes its own tests: nothing in the repository points outside it.

Regression test of issue 18 (the suite read the Tuva samples from a folder beside the
repository, which exists only on the team's machines). Every text file of the
repository (code, tests, scripts, docs, CI) is read; it must not name a path that
leaves the repository: a `../` that climbs above it, an absolute path into a user's or
a team's directory, or one of the team's own documents kept beside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SKIP_DIRS = {
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist",
    "claims-audit-demo", "out",
}  # fmt: skip
SKIP_PATHS = {"bench/data", "bench/work"}
CLIMB = re.compile(r"(?:\.\./)+[\w.-]+")
ABSOLUTE = re.compile(r"(?<![\w.~-])/(?:work|home|Users|root|mnt|srv)/[\w.-]+")
# The team keeps its policy, contract, notes and shared data beside the repository.
TEAM_FILES = re.compile(
    r"\b(?:shared/(?:data|bench|notes|policy)|contract\.md|style\.md|tooling\.md|"
    r"cervical-esi\.md|DEVELOPERS\.md)\b"
)


def repository_files() -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        if any(str(rel).startswith(skip) for skip in SKIP_PATHS) or not path.is_file():
            continue
        found.append(path)
    return found


def outside_references(path: Path, text: str) -> list[str]:
    problems = []
    for match in CLIMB.finditer(text):
        target = match.group(0)
        from_root = (REPO / target).resolve()
        from_file = (path.parent / target).resolve()
        if not from_root.is_relative_to(REPO) and not from_file.is_relative_to(REPO):
            problems.append(target)
    problems += [m.group(0) for m in ABSOLUTE.finditer(text)]
    problems += [m.group(0) for m in TEAM_FILES.finditer(text)]
    return problems


def test_no_file_of_the_repository_refers_to_a_path_outside_it() -> None:
    files = repository_files()
    assert len(files) > 100  # the walk saw the tree
    found = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (a Parquet file, an image)
        if problems := outside_references(path, text):
            found[str(path.relative_to(REPO))] = sorted(set(problems))
    assert not found, f"paths outside the repository: {found}"


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The patterns are live: each kind of outside reference is caught, in-repo ones not."""
    doc = REPO / "README.md"
    # (written in pieces so that this file does not hold what it looks for)
    assert outside_references(doc, "see ../" + "shared" + "/data/tuva-synthetic-10") != []
    assert outside_references(doc, "--data-dir /" + "work/bench-data") != []
    assert outside_references(doc, "the rules implement cervical-esi" + ".md") != []
    assert outside_references(REPO / "tests" / "x.py", "../fixtures/tuva-2023.toml") == []
    assert outside_references(doc, "executable_path=/usr/bin/chromium") == []


def test_the_tuva_samples_are_in_the_repository_with_their_license() -> None:
    for name in ("tuva-synthetic-10", "tuva-demo-2023"):
        folder = REPO / "tests" / "fixtures" / name
        assert (folder / "SOURCE.md").is_file()
        for table in ("medical_claim", "pharmacy_claim", "eligibility"):
            assert (folder / f"{table}.csv").stat().st_size > 1_000
    notice = (REPO / "NOTICE").read_text(encoding="utf-8")
    assert "tuva-synthetic-10" in notice and "tuva-demo-2023" in notice
    assert "Apache License" in (REPO / "LICENSE").read_text(encoding="utf-8")
