"""Work follows what changed (issue 14): nightly extracts reuse what an earlier night
validated, and give exactly what a run from scratch gives.

A generated data set is split by load date (bench/nightly.py: a history, then one new
file per table each night, the earlier files shared as hard links); three nights run
against one database, each compared with a cold run of the same night on a new one.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from bench.nightly import split
from tests.conftest import run_cli

# What must be equal between a nightly run and a cold run of the same input (run ids aside,
# and the finding lifecycle's columns: a nightly run has seen the findings before).
SAME = {
    "findings": (
        "select * exclude (run_id, first_seen_on, review_state) from findings order by all"
    ),
    "rejected_rows": "select * exclude (run_id) from rejected_rows order by all",
    "row_issues": "select * from row_issues order by all",
    "validation_results": (
        "select * exclude (run_id, unexpected_examples) from validation_results order by all"
    ),
    "medical_claim": "select * exclude (run_id) from medical_claim order by all",
    "pharmacy_claim": "select * exclude (run_id) from pharmacy_claim order by all",
    "eligibility": "select * exclude (run_id) from eligibility order by all",
    "procedure": "select * exclude (run_id) from procedure order by all",
    "practitioner": "select * exclude (run_id) from practitioner order by all",
    "input_coverage": "select * from input_coverage",
    "counts": (
        "select table_name, source_file, rows_read, rows_accepted, rows_rejected, "
        "rows_with_warnings, sha256 from input_files order by all"
    ),
}


def _read(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _run(night: Path, out: Path, db: Path, *extra: str) -> dict:
    result = run_cli("run", "--input", night, "--out", out, "--db", db, *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return _manifest(out)


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> list[Path]:
    from jobs.synthetic.generator import generate

    root = tmp_path_factory.mktemp("nightly")
    generate(root / "data", lines=20_000, seed=3)
    return split(root / "data", root / "nights", nights=2, share=0.04)


@pytest.fixture(scope="module")
def nightly(nights, tmp_path_factory) -> list[tuple[Path, dict]]:
    """The three nights run in turn against one database: (out, manifest) each."""
    root = tmp_path_factory.mktemp("runs")
    db = root / "audit.duckdb"
    runs = []
    for k, night in enumerate(nights):
        out = root / f"out-{k}"
        runs.append((out, _run(night, out, db)))
        shutil.copy(db, out / "after.duckdb")  # the database as this night left it
    return runs


def test_each_night_reuses_the_earlier_files_and_validates_the_new_ones(nights, nightly):
    first = nightly[0][1]["run_id"]
    assert {f["validation"] for f in nightly[0][1]["inputs"]} == {"validated"}
    for k in (1, 2):
        manifest = nightly[k][1]
        by_name = {Path(f["path"]).name: f for f in manifest["inputs"]}
        new = {n for n in by_name if n.endswith(f"night-{k}.parquet")}
        assert len(new) == 4  # one new file per dated table
        for name, f in by_name.items():
            if name in new:
                assert (f["validation"], f["validated_by"]) == ("validated", manifest["run_id"])
                assert f["sha256_from"] == "hashed"
            else:
                assert f["validation"] == "reused", name
                # the history was validated by the first night, night 1's file by night 1
                earlier = nightly[1][1]["run_id"] if "night-1" in name else first
                assert f["validated_by"] == earlier, name
                assert f["sha256_from"] == "index", name  # a hard link of the same file


def test_a_night_gives_exactly_what_a_cold_run_gives(nights, nightly, tmp_path):
    """Reused validations, rejected rows, counts and the cohort equal a run from scratch."""
    for k in (1, 2):
        cold = tmp_path / f"cold-{k}"
        _run(nights[k], cold, cold / "audit.duckdb")
        for name, sql in SAME.items():
            got = _read(nightly[k][0] / "after.duckdb", sql)
            assert got == _read(cold / "audit.duckdb", sql), (k, name)
        assert nightly[k][1]["findings"] == _manifest(cold)["findings"]


def test_the_last_night_finds_the_answer_key(nights, nightly):
    out = nightly[-1][0]
    with open(nights[-1] / "expected_findings.csv", newline="") as fh:
        expected = {
            (r["claim_id"], r["claim_line_number"], r["rule_id"]) for r in csv.DictReader(fh)
        }
    with open(out / "exceptions.csv", newline="") as fh:
        found = {(r["claim_id"], r["claim_line_number"], r["rule_id"]) for r in csv.DictReader(fh)}
    assert found == expected and len(found) > 20


def test_a_key_shared_with_a_reused_file_rejects_both_copies(nights, nightly, tmp_path):
    """Duplicate keys span files: a new file repeating a history line's key rejects the
    history line too, although its file's validation is reused."""
    night = tmp_path / "night-3"
    shutil.copytree(nights[-1], night, copy_function=os.link)
    history = sorted((night / "medical_claim").glob("medical_claim-20*.parquet"))[-1]
    copy = night / "medical_claim" / "medical_claim-night-3.parquet"
    duckdb.execute(f"copy (select * from read_parquet('{history}') limit 1) to '{copy}'")
    db = tmp_path / "audit.duckdb"
    shutil.copy(nightly[-1][0] / "after.duckdb", db)
    manifest = _run(night, tmp_path / "out", db)
    by_name = {Path(f["path"]).name: f for f in manifest["inputs"]}
    assert by_name[history.name]["validation"] == "reused"
    rejected = _read(
        db,
        "select source_file, record_number from rejected_rows "
        "where reasons like '%duplicate_key%' "
        "and (source_file like '%/medical_claim-night-3.parquet' "
        f"or (source_file like '%/{history.name}' and record_number = 1))",
    )
    assert len(rejected) == 2
    assert (
        by_name[history.name]["rows_rejected"]
        == nightly[-1][1]["inputs"][
            [Path(f["path"]).name for f in nightly[-1][1]["inputs"]].index(history.name)
        ]["rows_rejected"]
        + 1
    )


def test_rehash_sees_a_change_that_kept_size_and_time(nights, nightly, tmp_path):
    """A file rewritten with the same size and modification time keeps its recorded
    SHA-256 (as git's index does) unless `run --rehash`; then it is validated again."""
    night = tmp_path / "in"
    shutil.copytree(nights[0], night)
    fills = night / "pharmacy_claim"
    target = fills / "fills.csv"
    duckdb.execute(f"copy (select * from read_parquet('{fills}/*.parquet')) to '{target}'")
    for path in fills.glob("*.parquet"):
        path.unlink()
    db = tmp_path / "audit.duckdb"
    first = _run(night, tmp_path / "out-0", db)
    stat = target.stat()
    text = target.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    digit = last[0]  # the last record's claim id: another digit, same size
    changed = text[: -len(last) - 1] + ("1" if digit != "1" else "2") + last[1:] + "\n"
    target.write_text(changed)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size
    again = _run(night, tmp_path / "out-1", db)
    entry = {f["path"]: f for f in again["inputs"]}[str(target)]
    assert (entry["sha256_from"], entry["validation"]) == ("index", "reused")
    rehashed = _run(night, tmp_path / "out-2", db, "--rehash")
    entries = {f["path"]: f for f in rehashed["inputs"]}
    assert {f["sha256_from"] for f in rehashed["inputs"]} == {"hashed"}
    assert entries[str(target)]["validation"] == "validated"
    before = {f["path"]: f for f in first["inputs"]}[str(target)]["sha256"]
    assert entries[str(target)]["sha256"] != before
    assert {f["validation"] for p, f in entries.items() if p != str(target)} == {"reused"}


def test_a_reader_neither_blocks_nor_breaks_a_night_and_the_database_stands_alone(nights, tmp_path):
    """An analyst holding the database open does not stop the next night; once written,
    the database needs no extract (moved away here)."""
    inputs = tmp_path / "in"
    for k in (0, 1):
        shutil.copytree(nights[k], inputs / f"night-{k}", copy_function=os.link)
    db = tmp_path / "audit.duckdb"
    _run(inputs / "night-0", tmp_path / "out-0", db)
    reader = duckdb.connect(str(db), read_only=True)
    before = reader.execute("select count(*) from medical_claim").fetchone()[0]
    try:
        manifest = _run(inputs / "night-1", tmp_path / "out-1", db)
        assert {f["validation"] for f in manifest["inputs"]} == {"validated", "reused"}
        assert reader.execute("select count(*) from medical_claim").fetchone()[0] == before
    finally:
        reader.close()
    inputs.rename(tmp_path / "moved")
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
        views = "select view_name from duckdb_views() where not internal"
        names += [r[0] for r in con.execute(views).fetchall()]
        for name in names:
            con.execute(f'select count(*) from "{name}"').fetchall()
        assert con.execute("select count(*) from medical_claim").fetchone()[0] > 0
