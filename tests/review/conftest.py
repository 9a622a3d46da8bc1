"""A multi-night sequence from `claims-audit generate --nights 3`, run end to end by the real
command line on one audit database, with a reviewers' decisions file that changes from
night to night (issue 15)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_database, run_cli

NIGHTS = 3
LINES = 10_000
SEED = 5
# The run's date of each night (CLAIMS_AUDIT_RUN_DATE): far enough apart that night 3 holds
# findings of every age band (0-7, 8-30, 31-90, over 90 days since first seen).
RUN_DATES = {0: "2025-09-01", 1: "2025-11-15", 2: "2025-12-20", 3: "2026-01-05"}
WAIVER_EXPIRES = "2025-12-01"  # after night 1's run date, before night 2's
DECISION_COLUMNS = (
    "finding_id", "decision", "reviewer", "decided_on", "expires_on", "recovered_amount", "note",
)  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=DECISION_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows({c: r.get(c, "") for c in DECISION_COLUMNS} for r in rows)


@dataclass
class NightRun:
    night: int
    input: Path
    out: Path
    manifest: dict
    lifecycle: dict[str, dict]  # finding_id -> the finding_lifecycle row after this night
    findings: list[dict]  # exceptions.csv
    worklist: list[dict]  # worklist.csv
    decisions: list[dict]  # table decisions after this night
    history: list[dict]  # table decisions_history after this night
    rejected: list[dict]  # rejected_rows of table decisions


@dataclass
class Nights:
    data: Path
    db: Path
    decisions_file: Path
    chosen: dict[str, str]  # role -> finding_id of the decisions the test made
    runs: list[NightRun] = field(default_factory=list)
    decision_rows: dict[int, list[dict]] = field(default_factory=dict)

    def key(self, night: int, name: str) -> list[dict]:
        return read_csv(self.data / f"night-{night}" / name)

    def reversal_ids(self) -> set[str]:
        """Findings the answer keys resolve by a reversal (policy 1.1)."""
        return {
            r["finding_id"]
            for k in range(1, NIGHTS + 1)
            for r in self.key(k, "expected_lifecycle.csv")
            if r["cause"] == "reversal"
        }


def assert_findings_match_the_key(nights: Nights, night: int, findings: list[dict]) -> None:
    """The findings of a night (exceptions.csv rows) are exactly its expected_findings.csv."""
    key = {
        (r["finding_id"], r["rule_id"], r["status"])
        for r in nights.key(night, "expected_findings.csv")
    }
    got = {(f["finding_id"], f["rule_id"], f["status"]) for f in findings}
    assert got == key, night
    assert len(key) > 50


def assert_lifecycle_matches_the_key(nights: Nights, night: int, lifecycle: dict) -> None:
    """finding_lifecycle after a night is exactly its expected_lifecycle.csv (state,
    resolution, times_reopened of every finding ever seen)."""
    key = {
        r["finding_id"]: (r["state"], r["resolution"] or None, int(r["times_reopened"]))
        for r in nights.key(night, "expected_lifecycle.csv")
    }
    got = {fid: (r["state"], r["resolution"], r["times_reopened"]) for fid, r in lifecycle.items()}
    assert got == key, night


def snapshot(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:

        def rows(sql: str) -> list[dict]:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        return {
            "lifecycle": {r["finding_id"]: r for r in rows("select * from finding_lifecycle")},
            "decisions": rows("select * from decisions order by finding_id, decided_on"),
            "history": rows("select * from decisions_history order by row_key"),
            "rejected": rows(
                "select * from rejected_rows where table_name = 'decisions' order by record_number"
            ),
        }
    finally:
        con.close()


def run_night(
    data: Path, night: int, out: Path, db: Path, decisions: Path | None, *extra: str
) -> tuple:
    args = ["run", "--input", data / f"night-{night}", "--out", out, "--db", db]
    config = data / f"night-{night}" / "claims-audit.toml"
    if config.exists():
        args += ["--config", config]
    if decisions is not None:
        args += ["--decisions", decisions]
    return run_cli(*args, *extra, env={"CLAIMS_AUDIT_RUN_DATE": RUN_DATES[night]})


def _choose(data: Path) -> dict[str, str]:
    """Findings for the decisions, from the answer keys (known before any run)."""
    key = read_csv(data / f"night-{NIGHTS}" / "expected_lifecycle.csv")
    last = {r["finding_id"]: r for r in key}
    night0 = read_csv(data / "night-0" / "expected_findings.csv")
    fails_per_line: dict[tuple, int] = {}
    for r in night0:
        if r["status"] == "fail":
            line = (r["data_source"], r["claim_id"], r["claim_line_number"])
            fails_per_line[line] = fails_per_line.get(line, 0) + 1
    # history findings open through the last night, alone (fail) on their line
    steady = [
        r["finding_id"]
        for r in night0
        if r["status"] == "fail"
        and fails_per_line[(r["data_source"], r["claim_id"], r["claim_line_number"])] == 1
        and last[r["finding_id"]]["state"] == "open"
        and last[r["finding_id"]]["times_reopened"] == "0"
    ]
    redelivered = next(r["finding_id"] for r in last.values() if r["cause"] == "redelivered")
    return {
        "confirmed_reopened": redelivered,
        "not_an_error": steady[0],
        "waived_expiring": steady[1],
        "waived": steady[2],
        "education_then_confirmed": steady[3],
    }


def decisions_for(night: int, chosen: dict[str, str]) -> list[dict]:
    """The reviewers' file as it stands before `night` runs."""
    c = chosen
    good = [
        dict(finding_id=c["confirmed_reopened"], decision="confirmed", reviewer="ann",
             decided_on="2025-11-01", recovered_amount="100.00", note="recovered in part"),
        dict(finding_id=c["not_an_error"], decision="not_an_error", reviewer="bob",
             decided_on="2025-11-02", note="dx on the facility claim"),
        dict(finding_id=c["waived_expiring"], decision="waived", reviewer="cy",
             decided_on="2025-11-03", expires_on=WAIVER_EXPIRES, note="until the appeal"),
        dict(finding_id=c["education_then_confirmed"], decision="confirmed", reviewer="dee",
             decided_on="2025-10-01", note="an older decision, superseded"),
        dict(finding_id=c["education_then_confirmed"], decision="education", reviewer="dee",
             decided_on="2025-11-04", note="letter sent"),
    ]  # fmt: skip
    if night <= 2:  # night 3: the reviewers took the open waiver out of the file
        good.append(
            dict(finding_id=c["waived"], decision="waived", reviewer="cy", decided_on="2025-11-05")
        )
    if night >= 2:
        good.append(
            dict(finding_id=c["education_then_confirmed"], decision="confirmed", reviewer="eve",
                 decided_on="2025-12-10", recovered_amount="12.50", note="after the letter")
        )  # fmt: skip
    bad = [
        dict(finding_id="0123456789abcdef", decision="confirmed", reviewer="ann",
             decided_on="2025-11-01", note="unknown_finding_id"),
        dict(finding_id=c["waived"], decision="maybe", reviewer="ann", decided_on="2025-11-06",
             note="unknown_decision"),
        dict(finding_id=c["not_an_error"], decision="confirmed", reviewer="ann",
             decided_on="2025-02-30", note="invalid_date"),
        dict(finding_id=c["not_an_error"], decision="confirmed", reviewer="ann",
             decided_on="2025-11-07", recovered_amount="-5.00", note="negative_amount"),
        dict(finding_id=c["waived_expiring"], decision="education", reviewer="",
             decided_on="2025-11-08", note="missing_reviewer"),
        dict(finding_id=c["waived"], decision="education", reviewer="fay",
             decided_on="2025-11-09", note="duplicate_decision a"),
        dict(finding_id=c["waived"], decision="confirmed", reviewer="gus",
             decided_on="2025-11-09", note="duplicate_decision b"),
        dict(finding_id=c["not_an_error"], decision="education", reviewer="hal",
             decided_on="2025-11-10", recovered_amount="3.00",
             note="recovered_amount_not_confirmed"),
        dict(finding_id=c["not_an_error"], decision="waived", reviewer="hal",
             decided_on="2025-11-11", expires_on="2025-11-01", note="expires_before_decided"),
    ]  # fmt: skip
    return good + bad


@pytest.fixture(scope="session")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    root = tmp_path_factory.mktemp("nights")
    data = root / "data"
    done = run_cli("generate", "--out", data, "--lines", LINES, "--seed", SEED,
                   "--nights", NIGHTS)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = Nights(data, root / "db" / "audit.duckdb", root / "review" / "decisions.csv",
                    _choose(data))  # fmt: skip
    result.decisions_file.parent.mkdir()
    for night in range(NIGHTS + 1):
        decisions = None
        if night >= 1:
            rows = decisions_for(night, result.chosen)
            write_csv(result.decisions_file, rows)
            result.decision_rows[night] = rows
            decisions = result.decisions_file
        out = root / "out" / f"night-{night}"
        done = run_night(data, night, out, result.db, decisions)
        assert done.returncode == 0, done.stderr[-3000:]
        snap = snapshot(result.db)
        result.runs.append(
            NightRun(
                night=night,
                input=data / f"night-{night}",
                out=out,
                manifest=json.loads((out / "manifest.json").read_text()),
                lifecycle=snap["lifecycle"],
                findings=read_csv(out / "exceptions.csv"),
                worklist=read_csv(out / "worklist.csv"),
                decisions=snap["decisions"],
                history=snap["history"],
                rejected=snap["rejected"],
            )
        )
    return result


@pytest.fixture
def db_copy(nights: Nights, tmp_path: Path) -> Path:
    """The audit database after the last night (and its run journal), copied."""
    return copy_database(nights.db, tmp_path / "db")
