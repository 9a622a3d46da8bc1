"""Reviewers' decisions (issue 15): the decisions file is validated by its own suite (each bad
row rejected with its reason, nothing else lost), the latest decided_on wins, waivers
expire, decisions survive resolution and reopening, and they change review states, the
dollars at risk and the worklist exactly as the contract says."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from tests.review.conftest import (
    NIGHTS,
    RUN_DATES,
    Nights,
    read_csv,
    run_night,
    snapshot,
    write_csv,
)

pytestmark = pytest.mark.slow

# The note of each bad row names the reason it must be rejected for.
EXPECTED_REASONS = {
    "unknown_finding_id": "unknown_finding_id:finding_id",
    "unknown_decision": "unknown_decision:decision",
    "invalid_date": "invalid_date:decided_on",
    "negative_amount": "negative_amount:recovered_amount",
    "missing_reviewer": "missing_reviewer:reviewer",
    "duplicate_decision a": "duplicate_decision",
    "duplicate_decision b": "duplicate_decision",
    "recovered_amount_not_confirmed": "recovered_amount_not_confirmed:recovered_amount",
    "expires_before_decided": "expires_before_decided:expires_on",
}


def state(nights: Nights, night: int, role: str) -> str:
    return nights.runs[night].lifecycle[nights.chosen[role]]["review_state"]


@pytest.mark.parametrize("night", range(1, NIGHTS + 1))
def test_every_bad_row_is_rejected_with_its_reason_and_nothing_else_lost(
    nights: Nights, night: int
):
    run = nights.runs[night]
    written = nights.decision_rows[night]
    bad = {i + 1: r["note"] for i, r in enumerate(written) if r.get("note") in EXPECTED_REASONS}
    assert len(bad) == len(EXPECTED_REASONS)
    assert {r["record_number"]: r["reasons"] for r in run.rejected} == {
        n: EXPECTED_REASONS[note] for n, note in bad.items()
    }
    entry = run.manifest["decisions_file"]
    assert entry["rows_read"] == len(written) == entry["rows_accepted"] + entry["rows_rejected"]
    assert entry["rows_rejected"] == len(bad)
    # every good row is in the decisions of the run, exactly once
    good = sorted(
        (r["finding_id"], r["decision"], r["decided_on"])
        for r in written
        if r.get("note") not in EXPECTED_REASONS
    )
    got = sorted((d["finding_id"], d["decision"], str(d["decided_on"])) for d in run.decisions)
    assert got == good
    # the rejected rows are in rejected_rows.csv and in the report's data quality section
    csv_rows = read_csv(run.out / "rejected_rows.csv")
    csv_rows = [r for r in csv_rows if r["table_name"] == "decisions"]
    assert len(csv_rows) == len(bad)
    html = (run.out / "report.html").read_text()
    inputs = html[
        html.index('id="inputs-table"') : html.index("</table>", html.index('id="inputs-table"'))
    ]
    assert "<td>decisions</td>" in inputs and nights.decisions_file.name in inputs
    section = html[html.index('id="rejected-decisions-table"') :]
    for reason in set(EXPECTED_REASONS.values()):
        assert reason in section


def test_review_states_follow_the_current_decisions(nights: Nights):
    # night 1: each finding has its latest decision; the older 'confirmed' is superseded
    assert state(nights, 1, "confirmed_reopened") == "confirmed"
    assert state(nights, 1, "not_an_error") == "not_an_error"
    assert state(nights, 1, "waived_expiring") == "waived"
    assert state(nights, 1, "waived") == "waived"
    assert state(nights, 1, "education_then_confirmed") == "education"
    statuses = {
        (d["finding_id"], d["decision"]): d["decision_status"] for d in nights.runs[1].decisions
    }
    assert statuses[(nights.chosen["education_then_confirmed"], "confirmed")] == "superseded"
    # night 2: the waiver expired (open again); a later decision wins
    assert state(nights, 2, "waived_expiring") == "open"
    assert state(nights, 2, "education_then_confirmed") == "confirmed"
    # night 3: the reviewers took the waiver out of the file: open again
    assert state(nights, 3, "waived") == "open"


def test_a_decision_survives_resolution_and_reopening(nights: Nights):
    fid = nights.chosen["confirmed_reopened"]
    life = [nights.runs[k].lifecycle[fid] for k in (1, 2, 3)]
    assert [r["state"] for r in life] == ["open", "resolved", "open"]
    assert life[1]["resolution"] == "not_in_extract" and life[2]["times_reopened"] == 1
    assert [r["review_state"] for r in life] == ["confirmed"] * 3
    reopened = [f for f in nights.runs[3].findings if f["finding_id"] == fid]
    assert reopened and {f["review_state"] for f in reopened} == {"confirmed"}


def test_new_and_open_without_a_decision(nights: Nights):
    run = nights.runs[3]
    decided = set(nights.chosen.values())
    for f in run.findings:
        life = run.lifecycle[f["finding_id"]]
        if f["finding_id"] in decided:
            continue
        expected = "new" if life["first_seen_run_id"] == run.manifest["run_id"] else "open"
        assert f["review_state"] == expected
        assert f["first_seen_on"] == str(life["first_seen_on"])
    assert {f["review_state"] for f in run.findings} >= {"new", "open", "confirmed"}


def _line_amounts(findings: list[dict]) -> tuple[Decimal, Decimal]:
    """Dollars at risk and decided, from exceptions.csv alone (the contract's definition)."""
    lines: dict[tuple, tuple[Decimal, list[str]]] = {}
    for f in findings:
        if f["status"] != "fail":
            continue
        key = (f["data_source"], f["claim_id"], f["claim_line_number"])
        paid, states = lines.get(key, (Decimal(f["paid_amount"]), []))
        lines[key] = (paid, [*states, f["review_state"]])
    at_risk = sum(
        (p for p, s in lines.values() if not all(x in ("not_an_error", "waived") for x in s)),
        Decimal(0),
    )
    decided = sum(
        (p for p, s in lines.values() if all(x in ("not_an_error", "waived") for x in s)),
        Decimal(0),
    )
    return at_risk, decided


@pytest.mark.parametrize("night", range(NIGHTS + 1))
def test_dollars_at_risk_leave_out_decided_lines(nights: Nights, night: int):
    run = nights.runs[night]
    at_risk, decided = _line_amounts(run.findings)
    totals = run.manifest["findings"]
    assert Decimal(str(totals["dollars_at_risk"])).quantize(Decimal("0.01")) == at_risk
    assert Decimal(str(totals["dollars_decided"])).quantize(Decimal("0.01")) == decided
    html = (run.out / "report.html").read_text()
    assert f"${at_risk:,.2f}" in html
    if night == 1:  # the not_an_error line and both waived lines are out
        assert decided > 0 and totals["lines_decided"] == 3
    if night == 2:  # one waiver expired: its line is at risk again
        assert totals["lines_decided"] == 2


def test_confirmed_and_recovered_amounts(nights: Nights):
    paid = {}
    for run in nights.runs:
        for f in run.findings:
            paid[f["finding_id"]] = Decimal(f["paid_amount"])
    confirmed_roles = {
        1: ["confirmed_reopened"],
        2: ["confirmed_reopened", "education_then_confirmed"],
    }
    for night, roles in confirmed_roles.items():
        totals = nights.runs[night].manifest["findings"]
        expected = sum((paid[nights.chosen[r]] for r in roles), Decimal(0))
        assert Decimal(str(totals["confirmed_amount"])).quantize(Decimal("0.01")) == expected
        assert totals["lines_confirmed"] == len(roles)
    assert nights.runs[1].manifest["findings"]["recovered_amount"] == 100.0
    assert nights.runs[2].manifest["findings"]["recovered_amount"] == 112.5


@pytest.mark.parametrize("night", range(NIGHTS + 1))
def test_worklist_is_the_open_undecided_findings_oldest_first(nights: Nights, night: int):
    run = nights.runs[night]
    today = date.fromisoformat(RUN_DATES[night])
    queue = [f for f in run.findings if f["review_state"] in ("new", "open")]
    expected = sorted(
        queue,
        key=lambda f: (f["first_seen_on"], -Decimal(f["paid_amount"]), f["finding_id"]),
    )
    assert [w["finding_id"] for w in run.worklist] == [f["finding_id"] for f in expected]
    for w, f in zip(run.worklist, expected, strict=True):
        age = (today - date.fromisoformat(f["first_seen_on"])).days
        assert int(w["age_days"]) == age
        assert w["is_new"] == ("true" if f["review_state"] == "new" else "false")
        assert w["paid_amount"] == f["paid_amount"] and w["evidence"] == f["evidence"]
    assert any(w["provider_name"] for w in run.worklist)
    queued = {w["finding_id"] for w in run.worklist}
    if night >= 1:
        assert nights.chosen["not_an_error"] not in queued
        # the open waiver leaves the queue while it is in the file (nights 1 and 2)
        assert (nights.chosen["waived"] in queued) == (night == 3)
        # the expiring waiver is back in the queue once expired (from night 2)
        assert (nights.chosen["waived_expiring"] in queued) == (night >= 2)


def test_decisions_history_keeps_every_row_ever_read(nights: Nights):
    history = nights.runs[NIGHTS].history
    run_ids = [r.manifest["run_id"] for r in nights.runs]
    read = {
        (r["finding_id"], r["decision"], r["decided_on"], r.get("note") or None)
        for rows in nights.decision_rows.values()
        for r in rows
    }
    kept = {
        (
            h["finding_id"] if h["rejected_reasons"] is None else _original(h, "finding_id"),
            h["decision"] if h["rejected_reasons"] is None else _original(h, "decision"),
            str(h["decided_on"]) if h["rejected_reasons"] is None else _original(h, "decided_on"),
            h["note"],
        )
        for h in history
    }
    assert kept == read
    waived = next(
        h
        for h in history
        if h["finding_id"] == nights.chosen["waived"] and h["rejected_reasons"] is None
    )
    assert (waived["first_read_run_id"], waived["last_read_run_id"]) == (run_ids[1], run_ids[2])
    later = next(h for h in history if h["reviewer"] == "eve")
    assert later["first_read_run_id"] == run_ids[2] and later["last_read_run_id"] == run_ids[3]


def _original(row: dict, column: str) -> str:
    return json.loads(row["original_values"])[column] or ""


def test_waivers_hold_through_their_expiry_date(nights: Nights, db_copy, tmp_path):
    """A waiver is valid through expires_on (the run's date equal to it: still waived), and
    open again the day after."""
    night = NIGHTS
    day_before = date.fromisoformat(RUN_DATES[night]) - timedelta(days=1)
    rows = [
        dict(finding_id=nights.chosen["not_an_error"], decision="waived", reviewer="x",
             decided_on="2025-12-01", expires_on=RUN_DATES[night]),
        dict(finding_id=nights.chosen["waived"], decision="waived", reviewer="x",
             decided_on="2025-12-01", expires_on=day_before.isoformat()),
    ]  # fmt: skip
    path = tmp_path / "decisions.csv"
    write_csv(path, rows)
    done = run_night(nights.data, night, tmp_path / "out", db_copy, path)
    assert done.returncode == 0, done.stderr[-2000:]
    life = snapshot(db_copy)["lifecycle"]
    assert life[nights.chosen["not_an_error"]]["review_state"] == "waived"
    assert life[nights.chosen["waived"]]["review_state"] == "open"


def test_the_configuration_names_the_decisions_file(nights: Nights, db_copy, tmp_path):
    """[review] decisions (relative to the configuration file) is read like --decisions, and
    --decisions wins over it."""
    folder = tmp_path / "review"
    folder.mkdir()
    shutil.copy(nights.decisions_file, folder / "decisions.csv")
    config = folder / "audit.toml"
    config.write_text('[review]\ndecisions = "decisions.csv"\n')
    done = run_night(nights.data, NIGHTS, tmp_path / "out", db_copy, None, "--config", config)
    assert done.returncode == 0, done.stderr[-2000:]
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        manifest = con.execute(
            "select manifest->>'decisions_file' from run_history order by run_seq desc limit 1"
        ).fetchone()[0]
    finally:
        con.close()
    assert str(folder / "decisions.csv") in manifest
    other = tmp_path / "other.csv"
    write_csv(other, [])
    done = run_night(nights.data, NIGHTS, tmp_path / "out2", db_copy, other, "--config", config)
    assert done.returncode == 0, done.stderr[-2000:]
    assert snapshot(db_copy)["decisions"] == []


def test_decisions_file_encoding_and_the_volume_check(nights: Nights, db_copy, tmp_path):
    """The decisions file is read as UTF-8 (a record with other bytes is rejected as
    malformed_record, naming [input.decisions] encoding) or in the encoding
    `[input.decisions] encoding` names; it is no extract, so a file that shrank from the
    night before (many rows to one) never trips the volume check (issue 16)."""
    row = dict(finding_id=nights.chosen["waived"], decision="education", reviewer="zoé",
               decided_on="2025-12-30", note="lettre envoyée")  # fmt: skip
    path = tmp_path / "decisions.csv"
    write_csv(path, [row])
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    assert len(read_csv(nights.decisions_file)) > 5  # the night before read many rows

    done = run_night(nights.data, NIGHTS, tmp_path / "utf8", db_copy, path)
    assert done.returncode == 0, done.stderr[-2000:]
    snap = snapshot(db_copy)
    assert snap["decisions"] == []
    assert [r["reasons"] for r in snap["rejected"]] == ["malformed_record"]
    assert "[input.decisions] encoding" in snap["rejected"][0]["details"]

    config = tmp_path / "audit.toml"
    config.write_text('[input.decisions]\nencoding = "cp1252"\n')
    done = run_night(nights.data, NIGHTS, tmp_path / "cp1252", db_copy, path, "--config", config)
    assert done.returncode == 0, done.stderr[-2000:]
    snap = snapshot(db_copy)
    assert [(d["reviewer"], d["note"]) for d in snap["decisions"]] == [("zoé", "lettre envoyée")]
    manifest = json.loads((tmp_path / "cp1252" / "manifest.json").read_text(encoding="utf-8"))
    assert "decisions" not in manifest["volume"]
    assert manifest["decisions_file"]["rows_read"] == 1
