"""A night that adds files to the previous run's (issue 14, "Work follows what changed";
jobs.validation.increment) reads of the history only the rows tonight can change, and
gives exactly the database a cold run of the same files gives: the cohort, row issues,
rejected rows, validation results, coverage and findings.

Tonight's new medical file is written by the test from the generated history: an ESI
line for a person who had none (their history rows enter the cohort), new copies of the
keys of history rows (a cohort person's, another person's, and a key the history already
holds twice, and a key a history row holds with blanks around its claim id), and a new
line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from jobs.audit.reference import ESI_VALUE_SET, read_value_sets
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

TABLES = ("medical_claim", "pharmacy_claim", "eligibility", "procedure", "practitioner")
PADDED = "PAD-1"
ESI = sorted({r["code"] for r in read_value_sets() if r["value_set"] == ESI_VALUE_SET})


def link_history(history: Path, tonight: Path) -> None:
    """Tonight's folder: each history file hard-linked (the same file, as nightly folders
    share the earlier nights' files)."""
    for table in TABLES:
        (tonight / table).mkdir(parents=True)
        for f in (history / table).iterdir():
            os.link(f, tonight / table / f.name)


def snapshot(db: Path) -> dict[str, list]:
    """What the night's database holds, run ids (and what depends on the run's history:
    examples, first seen, review state) left out."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in (*TABLES, "input_coverage"):
            names = [r[0] for r in con.execute(f"describe {t}").fetchall() if r[0] != "run_id"]
            out[t] = con.execute(f"select {', '.join(names)} from {t} order by all").fetchall()
        out["row_issues"] = con.execute("select * from row_issues order by all").fetchall()
        out["rejected_rows"] = con.execute(
            "select * exclude (run_id) from rejected_rows order by all"
        ).fetchall()
        out["validation_results"] = con.execute(
            "select * exclude (run_id, unexpected_examples) from validation_results order by all"
        ).fetchall()
        out["findings"] = con.execute(
            "select * exclude (run_id, first_seen_on, review_state) from findings order by all"
        ).fetchall()
        return out
    finally:
        con.close()


def copy_last_night(nights: dict, tmp_path: Path) -> Path:
    """A copy of the fixture's night database (with its run journal and member key) under
    `tmp_path`, for a test's own next night; returns its path."""
    db = tmp_path / "db" / "audit.duckdb"
    db.parent.mkdir()
    for path in nights["db"].parent.glob("audit.*"):
        if path.is_file():
            shutil.copy2(path, db.parent / path.name)
    return db


def run(folder: Path, out: Path, db: Path) -> dict:
    done = run_cli("run", "--input", folder, "--out", out, "--db", db)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "manifest.json").read_text())


def night_equals_cold(folder: Path, db: Path, out: Path, cold_db: Path | None = None) -> dict:
    """Run the night of `folder` on `db` and (unless `cold_db` holds one already) a cold run
    of the same files: the two databases must hold the same. Returns the night's manifest."""
    manifest = run(folder, out / "out-night", db)
    assert "increment" in manifest
    if cold_db is None:
        cold_db = out / "cold" / "audit.duckdb"
        run(folder, out / "out-cold", cold_db)
    night, cold = snapshot(db), snapshot(cold_db)
    for name in night:
        assert night[name] == cold[name], name
    return manifest


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("increment")
    done = run_cli("generate", "--out", root / "data", "--lines", 6000, "--seed", 11,
                   "--nights", 1)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    history = root / "data" / "night-0"
    tonight = root / "tonight"
    medical = f"read_parquet('{history}/medical_claim/*.parquet')"
    con = duckdb.connect()
    con.execute(f"create table m as select * from {medical}")
    codes = "(" + ", ".join(f"'{c}'" for c in ESI) + ")"
    # a history row whose claim id has blanks around it: the same key as tonight's 'PAD-1'
    con.execute(
        f"copy (select * replace ('  {PADDED} ' as claim_id, '1' as claim_line_number) from m "
        f"where hcpcs_code not in {codes} order by claim_id, claim_line_number limit 1) "
        f"to '{history}/medical_claim/zz-padded.parquet'"
    )
    link_history(history, tonight)
    entering = con.execute(
        f"select person_id from m group by person_id "
        f"having count(*) filter (where hcpcs_code in {codes}) = 0 and count(*) >= 2 "
        "order by person_id limit 1"
    ).fetchone()[0]
    cohort_row = f"person_id in (select person_id from m where hcpcs_code in {codes})"
    twice = "(claim_id, claim_line_number) in (select claim_id, claim_line_number from m " \
        "group by all having count(*) > 1)"  # fmt: skip
    con.execute(
        f"""
        create table tonight as
        (select * replace ('NEW-ESI-1' as claim_id, '{entering}' as person_id) from m
         where hcpcs_code in {codes} order by claim_id, claim_line_number limit 1)
        union all
        (select * from m where {cohort_row} and hcpcs_code not in {codes}
         order by claim_id, claim_line_number limit 1)
        union all
        (select * from m where not {cohort_row} and person_id <> '{entering}'
         order by claim_id, claim_line_number limit 1)
        union all
        (select * from m where {twice} order by claim_id, claim_line_number limit 1)
        union all
        (select * replace ('{PADDED}' as claim_id) from
         read_parquet('{history}/medical_claim/zz-padded.parquet'))
        union all
        (select * replace ('NEW-PLAIN-1' as claim_id) from m
         order by claim_id, claim_line_number limit 1)
        """
    )
    con.execute(f"copy tonight to '{tonight}/medical_claim/zz-tonight.parquet'")
    keys = con.execute("select claim_id, claim_line_number from tonight").fetchall()
    history_rows = con.execute(f"select count(*) from m where person_id = '{entering}'").fetchone()[
        0
    ]
    con.close()

    db = root / "db" / "audit.duckdb"
    run(history, root / "out-0", db)
    manifest = run(tonight, root / "out-1", db)
    cold_db = root / "cold" / "audit.duckdb"
    cold = run(tonight, root / "out-cold", cold_db)
    return dict(
        root=root, history=history, tonight=tonight, db=db, cold_db=cold_db,
        manifest=manifest, cold=cold, entering=entering, keys=keys,
        history_rows=history_rows,
    )  # fmt: skip


def test_the_night_reads_only_what_changed(nights: dict):
    m = nights["manifest"]
    assert "increment" in m and "increment" not in nights["cold"]
    by_state = {(i["table"], i["validation"]) for i in m["inputs"]}
    assert ("medical_claim", "validated") in by_state and ("medical_claim", "reused") in by_state
    # the entering person's history rows and the history copies of tonight's keys
    assert m["increment"]["history_rows_staged"] >= nights["history_rows"] + 4


def test_a_history_key_with_blanks_is_the_same_key_as_tonights(nights: dict):
    """The history scan's cheap test on the claim id's raw text must not miss a history
    row whose claim id differs from tonight's only by blanks around it."""
    con = duckdb.connect(str(nights["db"]), read_only=True)
    rejected = con.execute(
        "select source_file like '%zz-padded%', reasons from rejected_rows "
        "where original_values::json->>'claim_id' like ? order by 1",
        [f"%{PADDED}%"],
    ).fetchall()
    con.close()
    assert [(padded, "duplicate_key" in reasons) for padded, reasons in rejected] == [
        (False, True),
        (True, True),
    ]


def test_the_night_gives_the_cold_runs_database(nights: dict):
    night, cold = snapshot(nights["db"]), snapshot(nights["cold_db"])
    for name in night:
        assert night[name] == cold[name], name


def test_what_the_night_changed_in_the_history(nights: dict):
    con = duckdb.connect(str(nights["db"]), read_only=True)
    try:
        kept = con.execute(
            "select count(*) from medical_claim where person_id = ? and source_file not like "
            "'%zz-tonight.parquet'",
            [nights["entering"]],
        ).fetchone()[0]
        assert kept == nights["history_rows"]  # every history row of the entering person
        for claim_id, line in nights["keys"][1:4]:
            copies = con.execute(
                "select count(*), count(*) filter (where source_file like '%zz-tonight%') "
                "from rejected_rows where table_name = 'medical_claim' "
                "and reasons like '%duplicate_key%' "
                "and json_extract_string(original_values, '$.claim_id') = ? "
                "and json_extract_string(original_values, '$.claim_line_number') = ?",
                [claim_id, str(line)],
            ).fetchone()
            assert copies[0] >= 2 and copies[1] == 1, (claim_id, line, copies)
    finally:
        con.close()


def test_a_changed_file_is_decided_again(nights: dict, tmp_path: Path):
    """Last night's file rewritten without its copies of history keys (claims withdrawn):
    the history rows they had made duplicates are decided again, without the withdrawn
    copies, and the night still equals a cold run of the same files."""
    folder = tmp_path / "changed"
    link_history(nights["history"], folder)
    tonight = nights["tonight"] / "medical_claim" / "zz-tonight.parquet"
    con = duckdb.connect()
    con.execute(
        f"copy (select * from read_parquet('{tonight}') where claim_id like 'NEW-%') "
        f"to '{folder}/medical_claim/zz-tonight.parquet'"
    )
    con.close()
    db = copy_last_night(nights, tmp_path)
    night_equals_cold(folder, db, tmp_path)
    # the cohort person's line whose only copy was withdrawn is accepted again
    claim_id, line = nights["keys"][1]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert (
            con.execute(
                "select count(*) from medical_claim where claim_id = ? and claim_line_number = ?",
                [claim_id, line],
            ).fetchone()[0]
            == 1
        )
    finally:
        con.close()


def test_a_night_without_entering_persons_looks_up_trimmed_ids(nights: dict, tmp_path: Path):
    """With no person entering the cohort, the history files whose key ids are all their own
    trimmed text (input_files.key_ids_trimmed, found by the first run's scan) are searched
    by joining their ids as read; the padded file, whose id has blanks around it, is
    scanned the careful way. The night still equals a cold run, and the padded key is
    still tonight's key."""
    folder = tmp_path / "tonight"
    link_history(nights["history"], folder)
    con = duckdb.connect()
    con.execute(
        f"copy (select * from read_parquet('{nights['tonight']}/medical_claim/zz-tonight.parquet') "
        "where claim_id <> 'NEW-ESI-1') "
        f"to '{folder}/medical_claim/zz-tonight.parquet'"
    )
    con.close()
    db = tmp_path / "db" / "audit.duckdb"
    run(nights["history"], tmp_path / "out-0", db)
    with duckdb.connect(str(db), read_only=True) as first:
        trimmed = dict(
            first.execute(
                "select regexp_extract(source_file, '[^/]+$'), key_ids_trimmed from input_files "
                "where table_name = 'medical_claim'"
            ).fetchall()
        )
    assert trimmed.pop("zz-padded.parquet") is False
    assert trimmed and all(trimmed.values()), trimmed
    night_equals_cold(folder, db, tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        padded = con.execute(
            "select count(*) from rejected_rows where reasons like '%duplicate_key%' "
            "and trim(json_extract_string(original_values, '$.claim_id')) = ?",
            [PADDED],
        ).fetchone()[0]
    assert padded == 2


def test_a_database_from_before_key_ids_trimmed_is_still_reused(nights: dict, tmp_path: Path):
    """A previous database whose input_files has no key_ids_trimmed (written before it was
    kept) still lends its validations: the night reuses the history, scans it the careful
    way, equals the cold run, and records the history files' key ids as not known."""
    db = tmp_path / "db" / "audit.duckdb"
    run(nights["history"], tmp_path / "out-0", db)
    with duckdb.connect(str(db)) as con:
        con.execute("alter table input_files drop column key_ids_trimmed")
    manifest = night_equals_cold(nights["tonight"], db, tmp_path, nights["cold_db"])
    assert {i["validation"] for i in manifest["inputs"]} == {"validated", "reused"}
    with duckdb.connect(str(db), read_only=True) as con:
        known = con.execute(
            "select validation, key_ids_trimmed from input_files "
            "where table_name = 'medical_claim' group by all order by all"
        ).fetchall()
    assert known == [("reused", None), ("validated", True)]


def test_a_new_practitioner_file_meets_the_carried_ones(nights: dict, tmp_path: Path):
    """practitioner is carried from the previous database on a night (kept whole, not staged
    again). A new practitioner file with a history NPI and a new one: the history copy of
    that NPI is found and both copies are rejected as duplicates, the new NPI is kept,
    and the night still equals a cold run of the same files."""
    folder = tmp_path / "tonight"
    link_history(nights["history"], folder)
    os.link(
        nights["tonight"] / "medical_claim" / "zz-tonight.parquet",
        folder / "medical_claim" / "zz-tonight.parquet",
    )
    history = f"read_parquet('{nights['history']}/practitioner/*.parquet')"
    with duckdb.connect() as con:
        npi = con.execute(f"select min(npi) from {history}").fetchone()[0]
        con.execute(
            f"copy (select * from {history} where npi = '{npi}' union all "
            f"select * replace ('9999999995' as npi) from {history} where npi = '{npi}') "
            f"to '{folder}/practitioner/zz-new.parquet'"
        )
    db = copy_last_night(nights, tmp_path)
    manifest = night_equals_cold(folder, db, tmp_path)
    practitioner = {i["path"].rsplit("/", 1)[1]: i for i in manifest["inputs"]
                    if i["table"] == "practitioner"}  # fmt: skip
    assert {name: i["validation"] for name, i in practitioner.items()} == {
        **{name: "reused" for name in practitioner if name != "zz-new.parquet"},
        "zz-new.parquet": "validated",
    }
    with duckdb.connect(str(db), read_only=True) as con:
        rejected = con.execute(
            "select source_file like '%zz-new%' from rejected_rows "
            "where table_name = 'practitioner' and reasons like '%duplicate_key%' "
            "and json_extract_string(original_values, '$.npi') = ? order by 1",
            [npi],
        ).fetchall()
        kept = con.execute(
            "select npi from practitioner where npi in (?, '9999999995') order by npi", [npi]
        ).fetchall()
    assert rejected == [(False,), (True,)]
    assert kept == [("9999999995",)]
