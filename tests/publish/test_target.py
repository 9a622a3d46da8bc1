"""The database a run publishes to is checked before any work (issue 16, items 1 and 8):
a `--db` that is not a claims-audit database, or lies inside the input directory, is
unusable input (exit 2) and never touched; a `--db` another process holds for writing
fails the run at once (exit 1), not after all the work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from jobs.errors import ForeignDatabaseError, LockedError
from jobs.publish.target import check_database
from tests.conftest import assert_one_line_error


def untouched(path: Path):
    """A check that `path` is byte-identical and has the same mtime as now."""
    data, mtime = path.read_bytes(), os.stat(path).st_mtime_ns
    return lambda: path.read_bytes() == data and os.stat(path).st_mtime_ns == mtime


def nothing_beside(path: Path) -> bool:
    return sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_text_file_as_db_exits_2_and_is_never_touched(tmp_path, tuva10, cli):
    """Issue 16, item 1: --db notes.txt used to be replaced by the run's database."""
    notes = tmp_path / "keep" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("minutes of the claims committee\n")
    same = untouched(notes)
    res = cli("run", "--input", tuva10, "--out", tmp_path / "out", "--db", notes)
    assert_one_line_error(res, str(notes), "not a DuckDB database")
    assert same() and nothing_beside(notes)  # no lock, journal or build file beside it
    manifest = next((tmp_path / "out" / "failed").glob("*/manifest.json"))
    assert '"exit_code": 2' in manifest.read_text()


def test_a_db_inside_the_input_directory_exits_2(tmp_path, tuva10, cli):
    inp = tmp_path / "in"
    shutil.copytree(tuva10, inp)
    claims = inp / "medical_claim.csv"
    same = untouched(claims)
    listing = sorted(p.name for p in inp.iterdir())
    res = cli("run", "--input", inp, "--out", tmp_path / "out", "--db", claims)
    assert_one_line_error(res, "inside the input directory")
    res = cli("run", "--input", inp, "--out", tmp_path / "out", "--db", inp / "new.duckdb")
    assert_one_line_error(res, "inside the input directory")
    assert same() and sorted(p.name for p in inp.iterdir()) == listing


def test_a_duckdb_file_without_the_audit_tables_is_not_ours(tmp_path):
    other = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table claims (id integer)")
    con.close()
    same = untouched(other)
    with pytest.raises(ForeignDatabaseError, match="not a claims-audit one .*run_history"):
        check_database(other, tmp_path / "in")
    assert same()


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),  # an empty file
        lambda p: p.mkdir(),  # a folder
        lambda p: p.symlink_to(p.parent / "elsewhere.duckdb"),  # a link (dangling)
        lambda p: p.write_bytes(b"x" * 8 + b"DUCK" + b"\0" * 100),  # DuckDB's magic, broken
    ],
    ids=["empty", "folder", "symlink", "corrupt"],
)
def test_other_existing_paths_are_refused(tmp_path, make):
    target = tmp_path / "audit.duckdb"
    make(target)
    with pytest.raises(ForeignDatabaseError):
        check_database(target, None)


def test_a_missing_db_and_an_audit_database_are_accepted(tmp_path):
    check_database(tmp_path / "new" / "audit.duckdb", tmp_path / "in")
    ours = tmp_path / "audit.duckdb"
    con = duckdb.connect(str(ours))
    con.execute("create table run_history (run_id varchar)")
    con.execute("create table findings (rule_id varchar)")
    con.close()
    same = untouched(ours)
    check_database(ours, tmp_path / "in")
    assert same()


WRITER = (
    "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); "
    "c.execute('create table if not exists run_history (run_id varchar)'); "
    "c.execute('create table if not exists findings (rule_id varchar)'); "
    "print('open', flush=True); time.sleep(120)"
)


def test_a_process_holding_the_db_read_write_fails_the_run_before_any_work(tmp_path, tuva10, cli):
    """Issue 16, item 8: the run used to load, validate and audit, then fail at the end."""
    db = tmp_path / "audit.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(LockedError, match="held by another writer"):
            check_database(db, None)
        start = time.monotonic()
        res = cli("run", "--input", tuva10, "--out", tmp_path / "out", "--db", db, "--log-json")
        took = time.monotonic() - start
        assert_one_line_error(res, "held by another writer", code=1)
        assert '"stage": "load"' not in res.stderr  # stopped before loading anything
        assert took < 30
    finally:
        writer.kill()
        writer.wait()
