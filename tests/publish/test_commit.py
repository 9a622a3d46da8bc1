"""Publishing is one step (issue 16): the database, the outputs and the run history always
describe the same run. A run killed (SIGKILL, through the fault-injection hook
CLAIMS_AUDIT_FAULT, not timing) at every instant of its publication leaves the previous
run whole before its commit point, and is finished by the next run after it; a killed
run is recorded as `killed` and its files are removed."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import signal
from pathlib import Path

import duckdb
import pytest

from jobs.log import Log
from jobs.publish import journal, recovery
from jobs.publish.lock import RunInfo, lock_path, writer_lock
from jobs.publish.outputs import OUTPUT_NAMES
from tests.conftest import run_cli

# Every instant of publication, in order (jobs/faults.py); the commit is the journal line.
WINDOWS = [
    "outputs-written",
    "publish:before-commit",
    "publish:committed",
    "publish:database",
    "publish:exceptions.csv",
    "publish:rejected_rows.csv",
    "publish:report.html",
    "publish:manifest.json",
    "publish:done",
]
BEFORE_COMMIT = {"outputs-written", "publish:before-commit"}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, tuva10) -> Path:
    """A published run: out/ with every output, audit.duckdb and its journal beside."""
    root = tmp_path_factory.mktemp("baseline")
    res = run_cli("run", "--input", tuva10, "--out", root / "out", "--db", root / "audit.duckdb")
    assert res.returncode == 0, res.stderr[-2000:]
    return root


def copy_of(baseline: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "site"
    shutil.copytree(baseline, root)
    return root / "out", root / "audit.duckdb"


def snapshot(out: Path, db: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in OUTPUT_NAMES}
    files["db"] = db.read_bytes()
    files["journal"] = journal.history_path(db).read_bytes()
    return files


def run_ids(out: Path, db: Path) -> dict[str, object]:
    """The run each piece of the published state describes."""
    con = duckdb.connect(str(db), read_only=True)
    (db_run,) = con.execute(
        "select run_id from run_history where status = 'succeeded' order by run_seq desc limit 1"
    ).fetchone()
    parquet = con.execute(f"select distinct run_id from '{out / 'exceptions.parquet'}'")
    parquet = {r[0] for r in parquet.fetchall()}
    con.close()
    with open(out / "exceptions.csv", newline="") as fh:
        exceptions = {r["run_id"] for r in csv.DictReader(fh)}
    report = re.search(r"<title>[^<]* run ([^<]+)</title>", (out / "report.html").read_text())
    return {
        "database": db_run,
        "journal": journal.last_succeeded(db)["run_id"],
        "manifest.json": json.loads((out / "manifest.json").read_text())["run_id"],
        "exceptions.csv": exceptions,
        "exceptions.parquet": parquet,
        "report.html": report.group(1),
    }


def litter(out: Path, db: Path) -> list[str]:
    found = [p.name for p in out.glob(".*tmp-*")]
    found += [p.name for p in db.parent.glob(f".{db.name}.*")]
    return sorted(found)


def recover_as_next_run(out: Path, db: Path) -> list[str]:
    """What the next run does first: take the lock, finish or clean up the dead run."""
    info = RunInfo("20991231T000000Z-000000", "", str(db), str(out), "")
    with writer_lock(db) as lock:
        killed = recovery.recover(db, lock.previous, info.run_id, out, Log("plain", io.StringIO()))
        lock.claim(info)
        return killed


@pytest.mark.parametrize("window", WINDOWS)
def test_a_run_killed_while_publishing_leaves_one_consistent_run(
    window, baseline, tmp_path, tuva10
):
    out, db = copy_of(baseline, tmp_path)
    before = snapshot(out, db)
    old_run = journal.last_succeeded(db)["run_id"]

    res = run_cli(
        "run", "--input", tuva10, "--out", out, "--db", db,
        env={"CLAIMS_AUDIT_FAULT": f"{window}:kill"},
    )  # fmt: skip
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    dead = RunInfo.from_text(lock_path(db).read_text())
    assert dead is not None and dead.run_id != old_run  # the lock names the dead run

    if window in BEFORE_COMMIT:
        # nothing published: the previous run's database, outputs and history, whole
        assert snapshot(out, db) == before
        assert litter(out, db), "the killed run left its files"
    killed = recover_as_next_run(out, db)

    expected = old_run if window in BEFORE_COMMIT else dead.run_id
    ids = run_ids(out, db)
    assert ids == {
        "database": expected,
        "journal": expected,
        "manifest.json": expected,
        "exceptions.csv": {expected},
        "exceptions.parquet": {expected},
        "report.html": expected,
    }, window
    assert litter(out, db) == [], window
    statuses = journal.statuses(db)
    if window in BEFORE_COMMIT:
        assert killed == [dead.run_id] and statuses[dead.run_id] == "killed"
        assert snapshot(out, db) | {"journal": b""} == before | {"journal": b""}
    else:
        assert killed == [] and statuses[dead.run_id] == "succeeded"
    # one record per run, never a succeeded run also recorded as failed or killed
    runs = [m["run_id"] for m in journal.read_history(db)]
    assert len(runs) == len(set(runs)) == 2


def test_the_next_run_records_a_killed_run_and_removes_its_files(baseline, tmp_path, tuva10):
    """Issue 16, item 5: temporary outputs, the database build and the spill directory of
    a killed run are removed by the next run, which records it as `killed` in run_history."""
    out, db = copy_of(baseline, tmp_path)
    res = run_cli(
        "run", "--input", tuva10, "--out", out, "--db", db,
        env={"CLAIMS_AUDIT_FAULT": "outputs-written:kill"},
    )  # fmt: skip
    assert res.returncode == -signal.SIGKILL
    dead = RunInfo.from_text(lock_path(db).read_text())
    spill = Path(dead.spill_dir)
    assert spill.name == f".audit.duckdb.spill-{dead.run_id}"
    spill.mkdir(exist_ok=True)  # as DuckDB leaves it when the run spilled
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    left = litter(out, db)
    assert f".exceptions.csv.tmp-{dead.run_id}" in left
    assert f".report.html.tmp-{dead.run_id}" in left
    assert f".audit.duckdb.building-{dead.run_id}" in left

    res = run_cli("run", "--input", tuva10, "--out", out, "--db", db)
    assert res.returncode == 0, res.stderr[-2000:]
    assert litter(out, db) == []
    assert lock_path(db).read_text() == ""  # a run that recorded its end leaves no name
    con = duckdb.connect(str(db), read_only=True)
    history = con.execute("select run_id, status from run_history order by run_seq").fetchall()
    con.close()
    assert [s for _, s in history] == ["succeeded", "killed", "succeeded"]
    assert history[1][0] == dead.run_id
    record = [m for m in journal.read_history(db) if m["run_id"] == dead.run_id][0]
    assert record["found_by"] == history[2][0] and record["started_at"] == dead.started_at


def test_sigterm_before_the_commit_fails_the_run_cleanly_and_after_it_is_ignored(
    baseline, tmp_path, tuva10
):
    out, db = copy_of(baseline, tmp_path)
    before = snapshot(out, db)
    res = run_cli(
        "run", "--input", tuva10, "--out", out, "--db", db,
        env={"CLAIMS_AUDIT_FAULT": "publish:before-commit:term"},
    )  # fmt: skip
    assert res.returncode == 1 and "stopped by signal 15" in res.stderr
    assert litter(out, db) == []
    assert {k: v for k, v in snapshot(out, db).items() if k != "journal"} == {
        k: v for k, v in before.items() if k != "journal"
    }
    assert [m["status"] for m in journal.read_history(db)] == ["succeeded", "failed"]

    res = run_cli(
        "run", "--input", tuva10, "--out", out, "--db", db,
        env={"CLAIMS_AUDIT_FAULT": "publish:committed:term"},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    last = journal.read_history(db)[-1]
    assert last["status"] == "succeeded" and run_ids(out, db)["manifest.json"] == last["run_id"]


def test_build_files_of_unknown_runs_are_recorded_killed_and_removed(tmp_path):
    """A dead run the lock file does not name (the lock file lost, an older version) is
    still found by its build file and temporary outputs."""
    out, db = tmp_path / "out", tmp_path / "audit.duckdb"
    out.mkdir()
    dead = "20260101T000000Z-abcdef"
    for path in (
        tmp_path / f".audit.duckdb.building-{dead}",
        tmp_path / f".audit.duckdb.building-{dead}.wal",
        out / f".exceptions.csv.tmp-{dead}",
        out / f".report.html.tmp-{dead}",
    ):
        path.write_bytes(b"partial")
    (tmp_path / f".audit.duckdb.spill-{dead}").mkdir()
    (out / "notes.tmp-keep").write_text("not ours")  # not an output name: left alone
    killed = recover_as_next_run(out, db)
    assert killed == [dead] and journal.statuses(db) == {dead: "killed"}
    assert litter(out, db) == [] and (out / "notes.tmp-keep").exists()
    assert recover_as_next_run(out, db) == []  # once recorded, never again
