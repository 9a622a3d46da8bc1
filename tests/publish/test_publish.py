"""Publication: never a half-written result, one writer, readers never break the run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time

import duckdb

from tests.conftest import OUTPUTS, assert_one_line_error


def test_failed_run_leaves_database_and_outputs_untouched(tmp_path, tuva10, cli):
    out = tmp_path / "out"
    assert cli("run", "--input", tuva10, "--out", out).returncode == 0
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    db_before = (out / "audit.duckdb").read_bytes()

    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("eligibility.csv", "pharmacy_claim.csv"):
        shutil.copy(tuva10 / name, broken / name)
    text = (tuva10 / "medical_claim.csv").read_text().splitlines()
    header = text[0].replace("rendering_npi", "rendering_provider")
    (broken / "medical_claim.csv").write_text("\n".join([header, *text[1:]]) + "\n")

    res = cli("run", "--input", broken, "--out", out)
    assert_one_line_error(res, "medical_claim.csv", "rendering_npi")
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before
    assert (out / "audit.duckdb").read_bytes() == db_before
    failed = list((out / "failed").glob("*/manifest.json"))
    assert len(failed) == 1
    manifest = json.loads(failed[0].read_text())
    assert manifest["status"] == "failed" and manifest["exit_code"] == 2
    journal = [json.loads(x) for x in (out / "audit.runs.jsonl").read_text().splitlines()]
    assert [m["status"] for m in journal] == ["succeeded", "failed"]

    # the next good run records the failed one in the database's history
    assert cli("run", "--input", tuva10, "--out", out).returncode == 0
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    # in journal order even when two runs started in the same second
    runs = con.execute("select run_seq, status from v_runs").fetchall()
    assert runs == [(1, "succeeded"), (2, "failed"), (3, "succeeded")]


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    n = con.execute("select count(*) from findings").fetchone()[0]
    print("open", n, flush=True)
    time.sleep(float(sys.argv[2]))
    print("still", con.execute("select count(*) from findings").fetchone()[0], flush=True)
    """
)


def test_reader_holding_the_database_does_not_fail_the_run(tmp_path, tuva10, cli):
    out = tmp_path / "out"
    assert cli("run", "--input", tuva10, "--out", out).returncode == 0
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(out / "audit.duckdb"), "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = reader.stdout.readline().split()
        assert first[0] == "open"
        res = cli("run", "--input", tuva10, "--out", out)
        assert res.returncode == 0, res.stderr[-2000:]
        # a new reader sees the new database; the old reader still reads its snapshot
        con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
        assert con.execute("select count(*) from run_history").fetchone()[0] == 2
        con.close()
    finally:
        reader.kill()
        reader.wait()


def test_second_writer_fails_fast_with_exit_1(tmp_path, tuva10, cli):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('locked', flush=True); time.sleep(60)",
            str(out / "audit.duckdb.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.time()
        res = cli("run", "--input", tuva10, "--out", out)
        assert res.returncode == 1
        assert "locked by another claims-audit run" in res.stderr
        assert time.time() - start < 30
        assert not (out / "audit.duckdb").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_process_writing_the_database_makes_the_run_exit_1(tmp_path, tuva10, cli):
    out = tmp_path / "out"
    assert cli("run", "--input", tuva10, "--out", out).returncode == 0
    before = (out / "exceptions.csv").read_bytes()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "time.sleep(60)",
            str(out / "audit.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        res = cli("run", "--input", tuva10, "--out", out)
        assert res.returncode == 1, res.stderr[-2000:]
        assert "held by another writer" in res.stderr
        assert (out / "exceptions.csv").read_bytes() == before
    finally:
        writer.kill()
        writer.wait()
