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
from pathlib import Path

import duckdb
import pytest

from jobs.audit.reference import ESI_VALUE_SET, read_value_sets
from jobs.validation import increment
from tests.conftest import copy_database, run_cli

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


def file_flags(db: Path, column: str) -> dict[str, bool | None]:
    """input_files.`column` of each medical_claim file of `db`, by file name."""
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(
            con.execute(
                f"select regexp_extract(source_file, '[^/]+$'), {column} from input_files "
                "where table_name = 'medical_claim'"
            ).fetchall()
        )


def run(folder: Path, out: Path, db: Path) -> dict:
    done = run_cli("run", "--input", folder, "--out", out, "--db", db)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "manifest.json").read_text())


def night_equals_cold(folder: Path, db: Path, out: Path, cold_db: Path | None = None) -> dict:
    """Run the night of `folder` on `db` and (unless `cold_db` holds one already) a cold run
    of the same files: the two databases must hold the same. Returns the night's manifest."""
    manifest = run(folder, out / "out-night", db)
    assert "increment" in manifest
    same_as_cold(folder, db, out, cold_db)
    return manifest


def same_as_cold(folder: Path, db: Path, out: Path, cold_db: Path | None = None) -> None:
    """`db`, after a night of `folder`, holds what a cold run of `folder` gives (`cold_db`,
    or one run now under `out`)."""
    if cold_db is None:
        cold_db = out / "cold" / "audit.duckdb"
        run(folder, out / "out-cold", cold_db)
    night, cold = snapshot(db), snapshot(cold_db)
    for name in night:
        assert night[name] == cold[name], name


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
    db = copy_database(nights["db"], tmp_path / "db")  # for this test's own next night
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
    trimmed = file_flags(db, "key_ids_trimmed")
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


@pytest.mark.parametrize(
    "dropped", [("key_ids_trimmed",), ("key_ids_trimmed", "person_ids_trimmed")]
)
def test_a_database_from_before_key_ids_trimmed_is_still_reused(
    nights: dict, tmp_path: Path, dropped: tuple[str, ...]
):
    """A previous database whose input_files has no key_ids_trimmed (written before it was
    kept), or neither it nor person_ids_trimmed, still lends its validations: the night
    reuses the history, scans it the careful way, equals the cold run, and records the
    history files' key ids as not known (their person ids it learns: a person enters)."""
    db = tmp_path / "db" / "audit.duckdb"
    run(nights["history"], tmp_path / "out-0", db)
    with duckdb.connect(str(db)) as con:
        for column in dropped:
            con.execute(f"alter table input_files drop column {column}")
    manifest = night_equals_cold(nights["tonight"], db, tmp_path, nights["cold_db"])
    assert {i["validation"] for i in manifest["inputs"]} == {"validated", "reused"}
    with duckdb.connect(str(db), read_only=True) as con:
        known = con.execute(
            "select validation, key_ids_trimmed, person_ids_trimmed from input_files "
            "where table_name = 'medical_claim' group by all order by all"
        ).fetchall()
    assert known == [("reused", None, True), ("validated", True, None)]


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
    db = copy_database(nights["db"], tmp_path / "db")  # for this test's own next night
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


def test_an_entering_persons_history_rows_come_from_csv_and_parquet(nights: dict, tmp_path: Path):
    """The rows of a person entering the cohort are read again from the history files they
    are in: a Parquet file's by their row numbers (increment.stage_old_rows hands those
    to the reader), a CSV file's by its record numbers. A history split into a CSV file
    and a Parquet file, with the person's rows in both: after the night the cohort holds
    every one of them, from both files, and the night equals a cold run."""
    medical = f"read_parquet('{nights['history']}/medical_claim/*.parquet')"
    codes = "(" + ", ".join(f"'{c}'" for c in ESI) + ")"
    history, tonight = tmp_path / "history", tmp_path / "tonight"
    for folder in (history, tonight):
        for table in TABLES:
            (folder / table).mkdir(parents=True)
            if table != "medical_claim":
                for f in (nights["history"] / table).iterdir():
                    os.link(f, folder / table / f.name)
    with duckdb.connect() as con:
        con.execute(f"create table m as select * from {medical}")
        person, first_claim = con.execute(
            f"select person_id, min(claim_id) from m group by person_id "
            f"having count(*) filter (where hcpcs_code in {codes}) = 0 "
            "and count(distinct claim_id) >= 2 order by person_id limit 1"
        ).fetchone()
        rows = con.execute("select count(*) from m where person_id = ?", [person]).fetchone()[0]
        # records up to the person's first claim in CSV, the rest in Parquet
        split = f"claim_id <= '{first_claim}'"
        con.execute(
            f"copy (select * from m where {split} order by claim_id, claim_line_number) "
            f"to '{history}/medical_claim/a-history.csv' (header)"
        )
        con.execute(
            f"copy (select * from m where not ({split}) order by claim_id, claim_line_number) "
            f"to '{history}/medical_claim/b-history.parquet'"
        )
        con.execute(
            f"copy (select * replace ('NEW-ESI-2' as claim_id, '{person}' as person_id) from m "
            f"where hcpcs_code in {codes} order by claim_id, claim_line_number limit 1) "
            f"to '{tonight}/medical_claim/zz-tonight.parquet'"
        )
    for f in (history / "medical_claim").iterdir():
        os.link(f, tonight / "medical_claim" / f.name)
    db = tmp_path / "db" / "audit.duckdb"
    run(history, tmp_path / "out-0", db)
    manifest = night_equals_cold(tonight, db, tmp_path)
    assert manifest["increment"]["history_rows_staged"] >= rows
    with duckdb.connect(str(db), read_only=True) as con:
        kept = dict(
            con.execute(
                "select regexp_extract(source_file, '[^/]+$'), count(*) from medical_claim "
                "where person_id = ? group by all",
                [person],
            ).fetchall()
        )
    assert kept.pop("zz-tonight.parquet") == 1
    assert set(kept) == {"a-history.csv", "b-history.parquet"}, kept
    assert sum(kept.values()) == rows


def _events(stderr: str, message: str) -> list[dict]:
    """The `--log-json` events of a run with `message`."""
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [e for e in events if e["message"] == message]


def test_person_ids_are_checked_once_and_a_padded_one_is_still_found(nights: dict, tmp_path: Path):
    """A night looks the persons entering the cohort up by their person_id as read in the
    history files whose person ids are all their own trimmed text; it learns that of
    each history file the first time it needs it (input_files.person_ids_trimmed) and
    carries it to later nights. A history file holding the entering person's id with
    blanks around it is searched the careful way: the row is still found, on both nights
    both equal a cold run, and only the files not known yet are checked."""
    medical = f"read_parquet('{nights['history']}/medical_claim/*.parquet')"
    codes = "(" + ", ".join(f"'{c}'" for c in ESI) + ")"
    history, night_a, night_b = tmp_path / "history", tmp_path / "a", tmp_path / "b"
    for folder in (history, night_a, night_b):
        link_history(nights["history"], folder)
    with duckdb.connect() as con:
        con.execute(f"create table m as select * from {medical}")
        p, q_ = (
            r[0]
            for r in con.execute(
                f"select person_id from m group by person_id "
                f"having count(*) filter (where hcpcs_code in {codes}) = 0 "
                "order by person_id limit 2"
            ).fetchall()
        )
        con.execute(
            f"copy (select * replace ('PADDED-P' as claim_id, '  {p} ' as person_id) from m "
            f"where hcpcs_code not in {codes} order by claim_id, claim_line_number limit 1) "
            f"to '{history}/medical_claim/c-padded.parquet'"
        )
        for person, folder in ((p, night_a), (q_, night_b)):
            con.execute(
                f"copy (select * replace ('NEW-ESI-{person}' as claim_id, '{person}' as "
                f"person_id) from m where hcpcs_code in {codes} "
                f"order by claim_id, claim_line_number limit 1) "
                f"to '{folder}/medical_claim/zz-{folder.name}.parquet'"
            )
    for folder in (night_a, night_b):
        os.link(history / "medical_claim" / "c-padded.parquet",
                folder / "medical_claim" / "c-padded.parquet")  # fmt: skip
    os.link(night_a / "medical_claim" / "zz-a.parquet", night_b / "medical_claim" / "zz-a.parquet")
    db = tmp_path / "db" / "audit.duckdb"
    run(history, tmp_path / "out-0", db)

    def night(folder: Path) -> tuple[dict, dict]:
        done = run_cli("run", "--input", folder, "--out", tmp_path / f"out-{folder.name}",
                       "--db", db, "--log-json")  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        checked = {
            e["message"].rsplit(" ", 1)[1]: e["files"]
            for e in _events(done.stderr, "checked the person ids of medical_claim")
        }
        return checked, file_flags(db, "person_ids_trimmed")

    checked, known = night(night_a)
    assert checked == {"medical_claim": len(known) - 1}  # every history file, not tonight's
    assert known.pop("c-padded.parquet") is False and known.pop("zz-a.parquet") is None
    assert known and all(known.values()), known
    with duckdb.connect(str(db), read_only=True) as con:
        padded = con.execute(
            "select person_id from medical_claim where claim_id = 'PADDED-P'"
        ).fetchall()
    assert padded == [(p,)]  # the padded row of the entering person is in the cohort
    same_as_cold(night_a, db, tmp_path / "cold-a")

    checked, known = night(night_b)
    assert checked == {"medical_claim": 1}  # last night's new file only
    assert known["zz-a.parquet"] is True and known["c-padded.parquet"] is False
    same_as_cold(night_b, db, tmp_path / "cold-b")


def test_dynamic_filters_are_raised_for_few_keys_and_restored():
    """`increment.dynamic_filters` raises DuckDB's dynamic filter threshold to the keys'
    count within its block, up to DYNAMIC_FILTER_LIMIT (beyond it such a filter costs
    more than it saves: the setting is left alone), and restores it after, also when the
    block fails."""
    setting = "select current_setting('dynamic_or_filter_threshold')"
    with duckdb.connect() as con:
        before = con.execute(setting).fetchall()[0][0]
        with increment.dynamic_filters(con, 5_233):
            assert con.execute(setting).fetchall()[0][0] == 5_233
        with increment.dynamic_filters(con, increment.DYNAMIC_FILTER_LIMIT + 1):
            assert con.execute(setting).fetchall()[0][0] == before
        with pytest.raises(duckdb.Error), increment.dynamic_filters(con, 100):
            con.execute("select * from no_such_table")
        assert con.execute(setting).fetchall()[0][0] == before
