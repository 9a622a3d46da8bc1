"""Findings across nights (issue 15): three generated nights, run end to end on one
database, give exactly their answer keys: the findings of each night, and each finding's
state, resolution and reopenings; finding ids are the contract's; a failed run changes
nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.conftest import assert_one_line_error
from tests.review.conftest import (
    NIGHTS,
    Nights,
    assert_findings_match_the_key,
    assert_lifecycle_matches_the_key,
    run_night,
    snapshot,
)

pytestmark = pytest.mark.slow


def contract_finding_id(data_source: str | None, claim_id: str, line: int, rule_id: str) -> str:
    """The contract's definition, written here from its text (not the product's code)."""
    text = "\x1f".join([data_source or "", claim_id or "", str(line), rule_id])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_finding_id_is_the_contracts_pinned_values():
    """A few ids computed by hand once (hashlib), pinned: the definition may not drift."""
    assert contract_finding_id("acme commercial", "185440094657", 1, "conservative_care") == (
        "29bf3700f9610555"
    )
    assert contract_finding_id(None, "C1", 7, "qualifying_dx") == contract_finding_id(
        "", "C1", 7, "qualifying_dx"
    )
    # the product's SQL gives the same ids, a missing data source as empty text
    from jobs.review.lifecycle import finding_id_sql

    con = duckdb.connect()
    rows = con.execute(
        "select " + finding_id_sql("t") + " from (values "
        "('acme commercial', '185440094657', 1, 'conservative_care'), "
        "(null, 'C1', 7, 'qualifying_dx'), ('x', '0042', 12, 'guidance_unbundled')"
        ") as t (data_source, claim_id, claim_line_number, rule_id)"
    ).fetchall()
    assert [r[0] for r in rows] == [
        "29bf3700f9610555",
        contract_finding_id(None, "C1", 7, "qualifying_dx"),
        contract_finding_id("x", "0042", 12, "guidance_unbundled"),
    ]


def test_exceptions_carry_the_contracts_finding_id(nights: Nights):
    for run in nights.runs:
        assert run.findings
        for f in run.findings:
            assert f["finding_id"] == contract_finding_id(
                f["data_source"], f["claim_id"], int(f["claim_line_number"]), f["rule_id"]
            )


@pytest.mark.parametrize("night", range(NIGHTS + 1))
def test_findings_equal_the_answer_key(nights: Nights, night: int):
    assert_findings_match_the_key(nights, night, nights.runs[night].findings)


@pytest.mark.parametrize("night", range(1, NIGHTS + 1))
def test_lifecycle_equals_the_answer_key(nights: Nights, night: int):
    assert_lifecycle_matches_the_key(nights, night, nights.runs[night].lifecycle)


def test_the_keys_hold_every_kind_of_change(nights: Nights):
    """The sequence exercises what issue 15 asks for: late evidence (passes_now), a
    reversal (not_audited_now), a line that disappears (not_in_extract), a parameter
    change (rule_changed, on night 2; night 3 runs with the defaults and they come back)
    and findings that come back (times_reopened)."""
    last = nights.key(NIGHTS, "expected_lifecycle.csv")
    seen = {
        (r["resolution"], r["cause"])
        for night in range(1, NIGHTS + 1)
        for r in nights.key(night, "expected_lifecycle.csv")
        if r["state"] == "resolved"
    }
    assert {
        ("passes_now", "late_evidence"),
        ("not_audited_now", "reversal"),
        ("not_in_extract", "withdrawn"),
        ("rule_changed", "parameter"),
    } <= seen
    reopened = {r["cause"] for r in last if r["state"] == "open" and r["times_reopened"] == "1"}
    assert {"redelivered", "parameter"} <= reopened
    assert (nights.data / "night-2" / "claims-audit.toml").is_file()


def test_a_reversal_resolves_its_line_not_audited_now(nights: Nights):
    """Issue 15 with policy 1.1 (issue 13): a night's reversal cancels a flagged line, whose
    findings resolve as not_audited_now, exactly as the answer keys say."""
    ids = nights.reversal_ids()
    assert ids
    for night in range(1, NIGHTS + 1):
        key = {
            r["finding_id"]: (r["state"], r["resolution"] or None)
            for r in nights.key(night, "expected_lifecycle.csv")
            if r["finding_id"] in ids
        }
        got = {
            fid: (r["state"], r["resolution"])
            for fid, r in nights.runs[night].lifecycle.items()
            if fid in key
        }
        assert got == key


def test_first_seen_and_reopened_follow_the_runs(nights: Nights):
    """first_seen_on is the date of the run that first flagged a finding; a reopened one
    keeps it; resolved_on is the date of the run that resolved it."""
    last = nights.runs[NIGHTS].lifecycle
    key = nights.key(NIGHTS, "expected_lifecycle.csv")
    first_night = {r["finding_id"]: int(r["first_night"]) for r in key}
    run_ids = [r.manifest["run_id"] for r in nights.runs]
    for fid, row in last.items():
        assert row["first_seen_run_id"] == run_ids[first_night[fid]], fid
        assert str(row["first_seen_on"]) == nights.runs[first_night[fid]].manifest["run_date"]
        if row["state"] == "resolved":
            assert row["resolved_run_id"] in run_ids[1:]
            assert row["resolution"] is not None
        else:
            assert row["last_seen_run_id"] == run_ids[-1]
            assert row["resolved_on"] is None and row["resolution"] is None


def test_findings_history_keeps_each_runs_rows(nights: Nights):
    con = duckdb.connect(str(nights.db), read_only=True)
    try:
        counts = dict(
            con.execute("select run_id, count(*) from findings_history group by run_id").fetchall()
        )
    finally:
        con.close()
    assert counts == {r.manifest["run_id"]: len(r.findings) for r in nights.runs}


def test_a_failed_run_changes_nothing(nights: Nights, db_copy, tmp_path):
    """A run that fails after the lifecycle was built (its decisions file lacks a required
    column) leaves the lifecycle, decisions and findings history as they were (issue 15)."""
    before = snapshot(db_copy)
    bad = tmp_path / "decisions.csv"
    bad.write_text("finding_id,decision,decided_on\nabc,confirmed,2026-01-01\n")
    done = run_night(nights.data, NIGHTS, tmp_path / "out", db_copy, bad)
    assert_one_line_error(done, "reviewer")
    assert snapshot(db_copy) == before
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        statuses = [
            r[0] for r in con.execute("select status from run_history order by run_seq").fetchall()
        ]
    finally:
        con.close()
    assert statuses == ["succeeded"] * (NIGHTS + 1)  # the published database is the last good one
    journal = (db_copy.parent / "audit.runs.jsonl").read_text()
    assert journal.count('"status": "failed"') == 1


def test_a_missing_decisions_file_is_exit_2(nights: Nights, db_copy, tmp_path):
    before = snapshot(db_copy)
    done = run_night(nights.data, NIGHTS, tmp_path / "out", db_copy, tmp_path / "nope.csv")
    assert_one_line_error(done, "decisions file", "nope.csv", "not found")
    assert snapshot(db_copy) == before


def test_a_database_from_before_the_lifecycle_starts_it_from_the_history(nights: Nights, db_copy):
    """The first run on a database of an earlier version (no finding_lifecycle) takes the
    previous run's findings as open, first seen at their earliest run in findings_history."""
    con = duckdb.connect(str(db_copy))
    try:
        con.execute("drop table finding_lifecycle")
        con.execute("drop table decisions_history")
        con.execute("alter table findings_history drop column finding_id")
        previous = {
            r[0]: r[1]
            for r in con.execute(
                "select f.finding_id, min(h.run_id) from findings as f join findings_history as h "
                "on h.rule_id = f.rule_id and h.claim_id = f.claim_id "
                "and h.claim_line_number = f.claim_line_number group by 1"
            ).fetchall()
        }
    finally:
        con.close()
    done = run_night(nights.data, NIGHTS, db_copy.parent / "out", db_copy, None)
    assert done.returncode == 0, done.stderr[-2000:]
    life = snapshot(db_copy)["lifecycle"]
    assert previous and set(previous) <= set(life)
    for fid, first_run in previous.items():
        assert life[fid]["state"] == "open" and life[fid]["first_seen_run_id"] == first_run
        assert life[fid]["review_state"] == "open"


def test_nights_reuse_the_shared_files_and_still_equal_their_keys(nights: Nights):
    """Issue 14 on `generate --nights 3` (issue 15's sequence, one database): every night
    equals its answer key, and from night 1 on a file shared with the night before (a hard
    link, same bytes) is `reused` from the run that validated it, never validated again;
    a new or re-issued file (the withdrawn claims' medical_claim file) is `validated`."""
    validated_by: dict[str, str] = {}  # sha256 -> run that validated a file with it
    for night in range(NIGHTS + 1):
        run = nights.runs[night]
        assert_findings_match_the_key(nights, night, run.findings)
        run_id = run.manifest["run_id"]
        previous = (
            {
                str(Path(f["path"]).relative_to(nights.runs[night - 1].input)): f["sha256"]
                for f in nights.runs[night - 1].manifest["inputs"]
            }
            if night
            else {}
        )
        reused = 0
        for f in run.manifest["inputs"]:
            name = str(Path(f["path"]).relative_to(run.input))
            if previous.get(name) == f["sha256"]:
                assert (f["validation"], f["validated_by"]) == (
                    "reused",
                    validated_by[f["sha256"]],
                ), (night, name)
                assert f["sha256_from"] == "index", (night, name)  # a hard link: not hashed
                reused += 1
            else:
                assert (f["validation"], f["validated_by"]) == ("validated", run_id), (night, name)
                assert f["sha256_from"] == "hashed", (night, name)
                validated_by[f["sha256"]] = run_id
        assert reused == (len(previous) - (night >= 2) if night else 0), night
