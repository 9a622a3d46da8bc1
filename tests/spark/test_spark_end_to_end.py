"""`claims-audit run --engine spark` gives the DuckDB engine's audit: same findings, same
rejected rows, same counts, same outputs.

Two inputs: tests/fixtures/tuva-synthetic-10 (real Tuva CSV layout) and a generated set
where every rule fires (20,000 lines, seed 7, Parquet) to which a folder of extra files
is added: the generated medical_claim Parquet and a CSV holding a quoted line break,
malformed values, a one-digit month, a float line number, a record with too few and
one with too many fields, and a copy of a Parquet row's key (a duplicate across files).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from parity import assert_same_audit, manifest

from jobs import pipeline
from jobs.log import Log

pytestmark = pytest.mark.spark


def quiet() -> Log:
    return Log("plain", io.StringIO())


# ------------------------------------------------------------------ tuva-synthetic-10


@pytest.fixture(scope="module")
def tuva_runs(spark, tuva10: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module):
    """The DuckDB engine, then the Spark engine through the command line, on one database."""
    from jobs import cli
    from jobs.spark import session as session_module

    root = tmp_path_factory.mktemp("tuva10")
    db = root / "audit.duckdb"
    duck = pipeline.run(tuva10, root / "duckdb", db, log=quiet())
    assert duck.exit_code == 0, duck.message
    duck_db = root / "duckdb-audit.duckdb"
    shutil.copy(db, duck_db)
    # The command line's builder finds the tests' running session; keep its settings.
    monkeypatch_module.setattr(session_module, "LOCAL_SETTINGS", {})
    code = cli.main(
        ["run", "--engine", "spark", "--input", str(tuva10), "--out", str(root / "spark"),
         "--db", str(db), "--log-json"]
    )  # fmt: skip
    assert code == 0
    return root / "duckdb", root / "spark", duck_db, db


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_tuva10_same_audit_on_both_engines(tuva_runs) -> None:
    duck_out, spark_out, duck_db, spark_db = tuva_runs
    assert_same_audit(duck_out, spark_out, duck_db, spark_db)


def test_tuva10_spark_run_keeps_the_history_and_compares_with_the_previous_run(tuva_runs) -> None:
    duck_out, spark_out, _, db = tuva_runs
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("select run_id, status from run_history order by run_seq").fetchall()
    history = con.execute(
        "select run_id, count(*) from findings_history group by run_id order by run_id"
    ).fetchall()
    con.close()
    first, second = manifest(duck_out)["run_id"], manifest(spark_out)["run_id"]
    assert [r[0] for r in runs][-2:] == [first, second]
    assert {r[0] for r in history} == {first, second}
    assert history[0][1] == history[1][1] > 0
    assert "report.html" in {p.name for p in spark_out.iterdir()}
    html = (spark_out / "report.html").read_text(encoding="utf-8")
    assert first in html  # the report names the run it compares against


def test_tuva10_spark_manifest_names_engine_and_fingerprints(tuva_runs) -> None:
    _, spark_out, _, _ = tuva_runs
    m = manifest(spark_out)
    assert m["engine"] == "spark" and m["status"] == "succeeded" and m["exit_code"] == 0
    assert m["fingerprint_method"] == "size+mtime"
    assert m["spark"]["version"]
    for f in m["inputs"]:
        assert f["sha256"] is None and f["bytes"] > 0 and f["modified"]
        assert f["fingerprint"] == f"size={f['bytes']};mtime={f['modified']}"
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]


# ------------------------------------------------------------------ generated, every rule fires


def _extra_csv(parquet: Path, target: Path) -> None:
    con = duckdb.connect()
    cur = con.execute(f"select * from '{parquet}' order by claim_id, claim_line_number limit 30")
    columns = [d[0] for d in cur.description]
    rows = cur.fetchall()
    col = columns.index
    with target.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for i, r in enumerate(rows):
            r = list(r)
            r[col("claim_id")] = f"CSV{i:03d}"
            edits = {
                3: ("claim_type", "profes\nsional"),  # a quoted line break
                5: ("hcpcs_code", " 6232 "),  # malformed
                7: ("claim_line_start_date", "2/5/2024"),  # one-digit month and day
                8: ("claim_line_start_date", "2024-2-30"),  # not a calendar date
                9: ("claim_line_number", "3.0"),  # a float export
                10: ("rendering_npi", "12345"),
                11: ("paid_amount", "1e3"),
                12: ("diagnosis_code_2", "m54.12"),
            }
            if i in edits:
                r[col(edits[i][0])] = edits[i][1]
            w.writerow(r)
            if i == 15:
                f.write("CSVBROKEN,1,p-broken,123-45-6789\n")  # too few fields
            if i == 20:
                w.writerow([*r, "extra"])  # too many fields
        w.writerow(rows[0])  # the key of a Parquet row: a duplicate across files


@pytest.fixture(scope="module")
def generated_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from jobs.synthetic.generator import generate

    source = tmp_path_factory.mktemp("generated")
    generate(source, lines=20_000, seed=7, fmt="parquet")
    root = tmp_path_factory.mktemp("every-rule")
    (root / "medical_claim").mkdir()
    shutil.copy(source / "medical_claim.parquet", root / "medical_claim" / "part-0.parquet")
    _extra_csv(source / "medical_claim.parquet", root / "medical_claim" / "part-1.csv")
    for name in ("pharmacy_claim", "eligibility", "procedure", "practitioner"):
        shutil.copy(source / f"{name}.parquet", root / f"{name}.parquet")
    return root


@pytest.fixture(scope="module")
def generated_runs(spark, generated_input: Path, tmp_path_factory: pytest.TempPathFactory):
    from jobs.spark import run as spark_run

    root = tmp_path_factory.mktemp("every-rule-out")
    duck = pipeline.run(generated_input, root / "duckdb", log=quiet())
    assert duck.exit_code == 0, duck.message
    # A caller's own temporary view named like an audit table must survive the run.
    spark.createDataFrame([("mine",)], "marker string").createOrReplaceTempView("medical_claim")
    result = spark_run(spark, str(generated_input), root / "spark", log=quiet())
    assert result.exit_code == 0, result.message
    return root / "duckdb", root / "spark", result


def test_generated_same_audit_on_both_engines(generated_runs) -> None:
    duck_out, spark_out, _ = generated_runs
    assert_same_audit(duck_out, spark_out, duck_out / "audit.duckdb", spark_out / "audit.duckdb")


def test_generated_every_rule_fires_and_bad_records_are_rejected(generated_runs) -> None:
    _, spark_out, result = generated_runs
    by_rule = {r["id"]: r["findings"] for r in result.manifest["rules"]}
    assert len(by_rule) == 9 and all(by_rule.values()), by_rule
    con = duckdb.connect(str(spark_out / "audit.duckdb"), read_only=True)
    reasons = dict(
        con.execute(
            "select reasons, count(*) from rejected_rows where source_file like '%.csv' group by 1"
        ).fetchall()
    )
    malformed = con.execute(
        "select record_number, details from rejected_rows where reasons = 'malformed_record' "
        "order by 1"
    ).fetchall()
    con.close()
    # record 4 spans two lines (a quoted line break): record n > 4 is on line n + 2
    assert malformed == [
        (17, "the CSV record (line 19) could not be parsed: the record has 4 fields, the "
             f"header {len(_header(spark_out))}"),
        (23, "the CSV record (line 25) could not be parsed: the record has "
             f"{len(_header(spark_out)) + 1} fields, the header {len(_header(spark_out))}"),
    ]  # fmt: skip
    assert "duplicate_key" in reasons and "malformed_hcpcs_code:hcpcs_code" in reasons


def _header(spark_out: Path) -> list[str]:
    m = manifest(spark_out)
    path = next(Path(f["path"]) for f in m["inputs"] if f["path"].endswith(".csv"))
    with path.open(newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def test_generated_rows_read_equal_accepted_plus_rejected_per_file(generated_runs) -> None:
    _, spark_out, _ = generated_runs
    m = manifest(spark_out)
    assert {f["format"] for f in m["inputs"]} == {"parquet", "csv"}
    for f in m["inputs"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"], f["path"]
    csv_file = next(f for f in m["inputs"] if f["format"] == "csv")
    assert csv_file["rows_read"] == 33  # 30 rows, 2 malformed records, 1 duplicate


def test_library_run_leaves_the_callers_views_alone(spark, generated_runs) -> None:
    assert spark.table("medical_claim").columns == ["marker"]


def test_the_cohort_and_report_data_reach_the_driver(generated_runs) -> None:
    """The published database of a Spark run holds the audited cohort as the DuckDB
    engine's does (issue 14; the parity tests compare the rows), not every input row."""
    _, spark_out, _ = generated_runs
    con = duckdb.connect(str(spark_out / "audit.duckdb"), read_only=True)
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    kept = con.execute("select count(*) from medical_claim").fetchone()[0]
    con.close()
    assert {"findings", "findings_history", "run_history", "rule_stats", "mart_esi_lines",
            "validation_results", "rejected_rows", "row_issues", "practitioner",
            "medical_claim", "input_files", "input_coverage"} <= tables  # fmt: skip
    manifest = json.loads((spark_out / "manifest.json").read_text())
    assert manifest["engine"] == "spark"
    read = sum(f["rows_accepted"] for f in manifest["inputs"] if f["table"] == "medical_claim")
    assert 0 < kept < read


def test_tuva10_spark_reuses_the_validation_of_the_duckdb_run(tuva_runs) -> None:
    """Same file (path, size, modification time), table, mapping and validation version:
    the Spark run takes the DuckDB run's validation over (issue 14)."""
    duck_out, spark_out, _, _ = tuva_runs
    first = manifest(duck_out)["run_id"]
    entries = manifest(spark_out)["inputs"]
    assert {(f["validation"], f["validated_by"]) for f in entries} == {("reused", first)}
    assert {f["sha256"] for f in entries} == {None}


def test_a_spark_night_reuses_the_earlier_nights_and_equals_a_duckdb_night(
    spark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Night 0 on DuckDB, night 1 on Spark against the same database: the history is
    reused, the new files validated, and the audit equals the DuckDB engine's night 1."""
    from bench.nightly import split
    from jobs.spark import run as spark_run
    from jobs.synthetic.generator import generate

    root = tmp_path_factory.mktemp("spark-nights")
    generate(root / "data", lines=10_000, seed=5)
    nights = split(root / "data", root / "nights", nights=1, share=0.05)
    duck_db, spark_db = root / "duck.duckdb", root / "spark.duckdb"
    for k, night in enumerate(nights):
        result = pipeline.run(night, root / f"duck-{k}", duck_db, log=quiet())
        assert result.exit_code == 0, result.message
    assert pipeline.run(nights[0], root / "first", spark_db, log=quiet()).exit_code == 0
    result = spark_run(
        spark, str(nights[1]), str(root / "spark-1"), db_path=str(spark_db), log=quiet()
    )
    assert result.exit_code == 0, result.message
    validation = {
        (Path(f["path"]).name.endswith("night-1.parquet"), f["validation"])
        for f in result.manifest["inputs"]
    }
    assert validation == {(True, "validated"), (False, "reused")}
    assert_same_audit(root / "duck-1", root / "spark-1", duck_db, spark_db)
