"""End-to-end: the real `claims-audit run` on real-format extracts (issue #2)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURES, OUTPUTS, REPO, _cli_command, assert_one_line_error

CONTRACT_COLUMNS = [
    "run_id", "finding_id", "rule_id", "rule_version", "status", "severity", "data_source",
    "claim_id", "claim_line_number", "person_id", "rendering_npi", "service_date", "hcpcs_code",
    "paid_amount", "evidence", "first_seen_on", "review_state",
]  # fmt: skip


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def finding_keys(out):
    return sorted(
        (r["claim_id"], r["claim_line_number"], r["rule_id"], r["status"])
        for r in read_csv(out / "exceptions.csv")
    )


@pytest.fixture(scope="module")
def tuva10_run(tmp_path_factory, tuva10):
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("tuva10") / "out"
    result = run_cli("run", "--input", tuva10, "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_tuva10_writes_every_output(tuva10_run, tuva10):
    out, result = tuva10_run
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    assert (out / "audit.duckdb").is_file()
    assert not list(out.glob(".*tmp-*")), "temporary outputs left behind"
    assert "report.html" in result.stdout and "findings:" in result.stdout
    with open(out / "exceptions.csv", newline="") as fh:
        assert next(csv.reader(fh)) == CONTRACT_COLUMNS


def test_tuva10_manifest_counts_and_fingerprints(tuva10_run, tuva10):
    out, _ = tuva10_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["exit_code"] == 0
    by_table = {f["table"]: f for f in manifest["inputs"]}
    assert set(by_table) == {"medical_claim", "pharmacy_claim", "eligibility"}
    assert by_table["medical_claim"]["rows_read"] == 2075
    assert by_table["pharmacy_claim"]["rows_read"] == 291
    assert by_table["eligibility"]["rows_read"] == 31
    for f in manifest["inputs"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
        digest = hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()
        assert f["sha256"] == digest
    assert manifest["parameters"]["conservative_min_days"] == 42
    assert {r["id"] for r in manifest["rules"]} >= {"qualifying_dx", "conservative_care"}
    for stage in ("load", "validate", "audit", "report"):
        assert stage in manifest["stage_seconds"]
    assert manifest["value_sets"] == shipped_value_set_versions()


def shipped_value_set_versions() -> dict[str, str]:
    """{value set or ref_ table: version}, read from the files in sql/value_sets."""
    versions: dict[str, str] = {}
    for path in sorted((REPO / "sql" / "value_sets").glob("*.csv")):
        for row in read_csv(path):
            if "version" not in row:
                break
            name = path.stem if path.stem.startswith("ref_") else row["value_set"]
            assert versions.setdefault(name, row["version"]) == row["version"], name
    return versions


def _cohort_lines(tuva10: Path) -> set[tuple[str, str]]:
    """(claim_id, claim_line_number) of every line of the persons with an ESI line, read
    from the extract itself."""
    from jobs.audit.reference import read_value_sets

    codes = sorted(
        {r["code"] for r in read_value_sets() if r["value_set"] == "esi_cervical_thoracic"}
    )
    rows = duckdb.sql(
        f"""
        with lines as (
            select * from read_csv('{tuva10 / "medical_claim.csv"}', all_varchar = true)
        )
        select claim_id, cast(cast(claim_line_number as integer) as varchar) from lines
        where trim(person_id) in (
            select trim(person_id) from lines
            where upper(trim(hcpcs_code)) in (select unnest($codes))
        )
        """,
        params={"codes": codes},
    ).fetchall()
    return set(rows)


def test_tuva10_database_holds_the_audited_cohort(tuva10_run, tuva10):
    """medical_claim holds every line of the persons with an ESI line, and only those
    (issue 14; tuva-synthetic-10 rejects no row)."""
    out, _ = tuva10_run
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    kept = con.execute(
        "select claim_id, cast(claim_line_number as varchar) from medical_claim"
    ).fetchall()
    expected = _cohort_lines(tuva10)
    assert 0 < len(expected) < 2075
    assert len(kept) == len(set(kept)) and set(kept) == expected
    persons = {r[0] for r in con.execute("select distinct person_id from medical_claim").fetchall()}
    for other in ("pharmacy_claim", "eligibility"):
        rows = con.execute(f"select distinct person_id from {other}").fetchall()
        assert {r[0] for r in rows} <= persons, other
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["cohort"]["medical_claim"] == len(expected)


def test_tuva10_database_holds_loaded_tables_and_history(tuva10_run):
    out, _ = tuva10_run
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    cols = {r[0] for r in con.execute("describe eligibility").fetchall()}
    assert {"person_id", "enrollment_start_date", "source_file", "record_number", "run_id"} <= cols
    assert not {"social_security_number", "first_name", "last_name", "address", "phone"} & cols
    (n_runs,) = con.execute("select count(*) from run_history").fetchone()
    assert n_runs == 1
    lineage = con.execute(
        "select count(*) from medical_claim where source_file is null or record_number is null"
    ).fetchone()[0]
    assert lineage == 0
    assert con.execute("select count(*) from findings").fetchone()[0] == len(
        read_csv(out / "exceptions.csv")
    )


def test_tuva10_query_command_is_read_only(tuva10_run, cli):
    out, _ = tuva10_run
    db = out / "audit.duckdb"
    res = cli("query", "--db", db, "--format", "csv", "select count(*) as n from medical_claim")
    assert res.returncode == 0, res.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        (n,) = con.execute("select count(*) from medical_claim").fetchone()
    assert res.stdout.splitlines() == ["n", str(n)]
    res = cli("query", "--db", db, "--format", "json", "select 1 as a, 'x' as b")
    assert json.loads(res.stdout) == [{"a": 1, "b": "x"}]
    res = cli("query", "--db", db, "delete from medical_claim")
    assert_one_line_error(res, "query failed")
    res = cli("query", "--db", db, "select count(*) from medical_claim")
    assert str(n) in res.stdout  # not deleted


def test_rerun_gives_the_same_findings_and_keeps_history(tmp_path, tuva10, cli):
    """Only run_id differs, and review_state: a finding the first run flagged is `new` there
    and `open` in the rerun (issue 15)."""
    out = tmp_path / "out"
    first = cli("run", "--input", tuva10, "--out", out)
    assert first.returncode == 0, first.stderr[-2000:]
    drop = ("run_id", "review_state")
    rows1 = [
        {k: v for k, v in r.items() if k not in drop} for r in read_csv(out / "exceptions.csv")
    ]
    assert {r["review_state"] for r in read_csv(out / "exceptions.csv")} == {"new"}
    second = cli("run", "--input", tuva10, "--out", out)
    assert second.returncode == 0, second.stderr[-2000:]
    rows2 = [
        {k: v for k, v in r.items() if k not in drop} for r in read_csv(out / "exceptions.csv")
    ]
    assert rows1 == rows2 and rows1
    assert {r["review_state"] for r in read_csv(out / "exceptions.csv")} == {"open"}
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    runs = con.execute("select count(distinct run_id) from findings_history").fetchone()[0]
    assert runs == 2
    assert con.execute("select count(*) from run_history").fetchone()[0] == 2


def test_garbage_file_exits_2(tmp_path, cli):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "medical_claim.csv").write_bytes(bytes(range(256)) * 50)
    res = cli("run", "--input", inp, "--out", tmp_path / "out")
    assert_one_line_error(res, "medical_claim.csv")


def test_invalid_config_exits_2(tmp_path, tuva10, cli):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[parameters]\nconservative_min_days = 'six weeks'\n")
    res = cli("run", "--input", tuva10, "--out", tmp_path / "out", "--config", cfg)
    assert_one_line_error(res, "bad.toml", "conservative_min_days")


def test_missing_input_directory_exits_2(tmp_path, cli):
    res = cli("run", "--input", tmp_path / "nope", "--out", tmp_path / "out")
    assert_one_line_error(res, "not a directory")


def test_spark_master_needs_the_spark_engine(tmp_path, tuva10, cli):
    res = cli("run", "--input", tuva10, "--out", tmp_path / "out", "--spark-master", "local[2]")
    assert_one_line_error(res, "--engine spark")
    assert not (tmp_path / "out").exists()


def test_spark_engine_without_pyspark_exits_1_and_says_what_to_install(tmp_path, tuva10, cli):
    hidden = tmp_path / "site"  # a pyspark that cannot be imported, ahead of site-packages
    (hidden / "pyspark").mkdir(parents=True)
    (hidden / "pyspark" / "__init__.py").write_text("raise ImportError('no pyspark here')\n")
    res = cli(
        "run", "--engine", "spark", "--input", tuva10, "--out", tmp_path / "out",
        env={"PYTHONPATH": str(hidden)},
    )  # fmt: skip
    assert_one_line_error(res, "claims-audit[spark]", "Java", code=1)
    assert not (tmp_path / "out").exists()


def test_tuva2023_needs_a_column_mapping(tmp_path, tuva2023, cli):
    res = cli("run", "--input", tuva2023, "--out", tmp_path / "out")
    assert_one_line_error(res, "person_id", "medical_claim.csv")


def lumbar_lines(extract: Path) -> int:
    """Lines of the extract with a lumbar/sacral ESI code, counted from the CSV itself
    (codes as in reports/out_of_scope_codes.csv, normalized as the loader does)."""
    lumbar = {"62322", "62323", "62326", "62327", "64483", "64484", "0230T", "0231T",
              "62311", "62319"}  # fmt: skip
    with open(extract / "medical_claim.csv", newline="") as fh:
        codes = [
            (r["hcpcs_code"] or "").strip().upper().replace(".", "") for r in csv.DictReader(fh)
        ]
    return sum(code in lumbar for code in codes)


def test_tuva2023_runs_with_the_mapping_and_counts_its_lumbar_esi_out_of_scope(
    tmp_path, tuva2023, cli
):
    """The 2023 sample has lumbar ESIs and no cervical one (issue 13): the audit must read
    them, count every one as out of scope, and find nothing. Zero findings alone would
    pass with an audit that ignored everything."""
    out = tmp_path / "out"
    res = cli("run", "--input", tuva2023, "--out", out, "--config", FIXTURES / "tuva-2023.toml")
    assert res.returncode == 0, res.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    for f in manifest["inputs"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
    lumbar = lumbar_lines(tuva2023)
    assert lumbar == 5  # 62323 x2, 64483 x2, 64484: the sample as shipped
    html = (out / "report.html").read_text()
    shown = re.search(r'data-k="out_of_scope">([0-9,]+)<', html)
    assert shown and int(shown.group(1).replace(",", "")) == lumbar
    assert read_csv(out / "exceptions.csv") == []
    assert manifest["findings"]["total"] == 0
    assert {r["lines_checked"] for r in manifest["rules"]} == {0}
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    (esi_lines,) = con.execute("select count(*) from mart_esi_lines").fetchone()
    assert esi_lines == 0  # no cervical/thoracic ESI line at all


def test_log_json_writes_json_lines_on_stderr(tmp_path, tuva10, cli):
    res = cli("run", "--input", tuva10, "--out", tmp_path / "out", "--log-json")
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stderr.splitlines()
    assert all(line.startswith("{") for line in lines), [x for x in lines if x[:1] != "{"][:3]
    events = [json.loads(line) for line in lines]
    assert events and all({"time", "level", "message"} <= set(e) for e in events)
    stages = {e.get("stage") for e in events}
    assert {"load", "validate", "audit", "report", "publish"} <= stages
    assert "audit complete" in res.stdout


def test_a_buffered_summary_arrives_before_the_command_leaves(tmp_path, tuva10):
    """`claims-audit` leaves with os._exit once Great Expectations is loaded, skipping
    Python's teardown (jobs.cli.entry). Its summary, block-buffered when stdout is a pipe
    (PYTHONUNBUFFERED unset), must still all arrive, with the exit code."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run(
        [*_cli_command(), "run", "--input", tuva10, "--out", tmp_path / "out"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "audit complete" in proc.stdout and "report:" in proc.stdout
    assert proc.stdout.rstrip().endswith("audit.duckdb"), proc.stdout[-300:]
