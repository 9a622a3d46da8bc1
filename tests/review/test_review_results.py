"""Reviewed sample files (issue 17): a bad file exits 2 naming every problem row and
writes nothing; a good one, as a spreadsheet saves it, gives the estimate."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from jobs.review.sample import draw_sample
from tests.conftest import assert_one_line_error

sys.path.insert(0, str(Path(__file__).resolve().parent))
from review_db import Line, build, spread  # noqa: E402


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> tuple[Path, Path, str]:
    """A database with a drawn sample of 12 lines, and its sample file. The two lines
    whose keys look like formulas are the highest payments: a stratum taken whole."""
    folder = tmp_path_factory.mktemp("drawn")
    lines = spread(30, 90, 700) + [Line("=2+3", "5000.00"), Line("-7", "4900.00", data_source="@x")]
    db = build(folder / "audit.duckdb", lines)
    result = draw_sample(db, 12, folder / "sample.csv", strata=3, seed=11)
    return db, folder / "sample.csv", result.sample_id


@pytest.fixture
def world(drawn, tmp_path) -> tuple[Path, list[dict[str, str]], str, list[str]]:
    db, sample_csv, sample_id = drawn
    shutil.copy(db, tmp_path / "audit.duckdb")
    with open(sample_csv, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:  # a reviewer's file: half of each payment found overpaid
        row["overpayment_amount"] = f"{float(row['paid_amount']) / 2:.2f}"
        row["reviewer"] = "rn1"
    return tmp_path / "audit.duckdb", rows, sample_id, fields


def write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def estimate_cli(cli, db: Path, sample_id: str, results: Path, out: Path):
    return cli("estimate", "--db", db, "--sample", sample_id, "--results", results, "--out", out)


def assert_nothing_written(db: Path, before: bytes, out: Path) -> None:
    assert db.read_bytes() == before
    assert not out.exists() or not any(out.iterdir())
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from review_estimates").fetchone()[0] == 0
    con.close()
    assert not list(db.parent.glob(".*building*")) and not list(db.parent.glob(".*tmp-*"))


def claim(row: dict[str, str]) -> str:
    return f"claim {row['claim_id'].lstrip(chr(39))} line {row['claim_line_number']}"


def cent_more(row: dict[str, str]) -> str:
    return f"{float(row['paid_amount'].lstrip(chr(39))) + 0.01:.2f}"


BAD = {
    "missing line": lambda rows: (rows[:3] + rows[4:], ["{c3}", "(sample item 4) is missing"]),
    "duplicate": lambda rows: (rows + [dict(rows[1])], ["row 14: {c1}", "repeats row 3"]),
    "above paid": lambda rows: (
        [*rows[:5], {**rows[5], "overpayment_amount": cent_more(rows[5])}, *rows[6:]],
        ["row 7: overpayment_amount", "is above the line's paid amount " + rows[5]["paid_amount"]],
    ),
    "negative": lambda rows: (
        [{**rows[0], "overpayment_amount": "-5"}, *rows[1:]],
        ["row 2: overpayment_amount -5 is negative"],
    ),
    "text": lambda rows: (
        [*rows[:2], {**rows[2], "overpayment_amount": "none found"}, *rows[3:]],
        ["row 4: overpayment_amount 'none found' is not a number"],
    ),
    "european decimal": lambda rows: (
        [*rows[:2], {**rows[2], "overpayment_amount": "12,50"}, *rows[3:]],
        ["row 4: overpayment_amount '12,50' is not a number"],
    ),
    "empty amount": lambda rows: (
        [*rows[:8], {**rows[8], "overpayment_amount": ""}, *rows[9:]],
        ["row 10: overpayment_amount is empty"],
    ),
    "unknown line": lambda rows: (
        [*rows[:6], {**rows[6], "claim_id": "c9999"}, *rows[7:]],
        ["row 8: claim c9999 line 1 (plan a) is not a line of sample", "{c6}"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_reviewed_file_exits_2_naming_the_rows(world, tmp_path, cli, case):
    db, rows, sample_id, fields = world
    before = db.read_bytes()
    bad_rows, needles = BAD[case](rows)
    results = write(tmp_path / "reviewed.csv", fields, bad_rows)
    res = estimate_cli(cli, db, sample_id, results, tmp_path / "est")
    named = {f"{{c{i}}}": claim(row) for i, row in enumerate(rows)}
    for key, value in named.items():
        needles = [n.replace(key, value) for n in needles]
    assert_one_line_error(res, "reviewed.csv", "nothing written", *needles)
    assert_nothing_written(db, before, tmp_path / "est")


def test_every_problem_is_named_in_one_line(world, tmp_path, cli):
    db, rows, sample_id, fields = world
    before = db.read_bytes()
    rows[0]["overpayment_amount"] = "abc"
    rows[1]["overpayment_amount"] = "-1"
    bad = [*rows[:10], rows[0]]  # rows 11 and 12 missing, row 0 repeated
    res = estimate_cli(cli, db, sample_id, write(tmp_path / "r.csv", fields, bad), tmp_path / "o")
    assert_one_line_error(res, "5 problem(s)", "row 2:", "row 3:", "row 12:", "sample item 11")
    assert_nothing_written(db, before, tmp_path / "o")


def test_missing_columns_unknown_sample_and_missing_file_exit_2(world, tmp_path, cli):
    db, rows, sample_id, fields = world
    res = estimate_cli(
        cli, db, sample_id, write(tmp_path / "r.csv", fields[:-3], [
            {k: v for k, v in r.items() if k in fields[:-3]} for r in rows
        ]), tmp_path / "o",
    )  # fmt: skip
    assert_one_line_error(res, "no column overpayment_amount")
    good = write(tmp_path / "good.csv", fields, rows)
    assert_one_line_error(estimate_cli(cli, db, "sample-nope", good, tmp_path / "o"), "no sample")
    assert_one_line_error(
        estimate_cli(cli, db, sample_id, tmp_path / "absent.csv", tmp_path / "o"), "no results"
    )
    other = [{**r, "sample_id": "sample-other"} for r in rows]
    res = estimate_cli(cli, db, sample_id, write(tmp_path / "o.csv", fields, other), tmp_path / "o")
    assert_one_line_error(res, "sample_id 'sample-other' is not " + sample_id)


def test_a_spreadsheet_saved_file_is_read(world, tmp_path, cli):
    """Excel saves UTF-8 with a byte-order mark, may drop the formula guard's ' from the
    keys, adds blank rows, and keeps the columns in any order: all fine. The estimate is
    written once and never overwritten."""
    db, rows, sample_id, fields = world
    for row in rows:
        row["claim_id"] = row["claim_id"].removeprefix("'")
        row["data_source"] = row["data_source"].removeprefix("'")
    rows[0]["overpayment_amount"] = "0"
    rows[1]["overpayment_amount"] = rows[1]["paid_amount"]  # the whole payment
    path = tmp_path / "saved.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(reversed(fields)))
        writer.writeheader()
        writer.writerows(rows)
        fh.write(",,,,\r\n")
    res = estimate_cli(cli, db, sample_id, path, tmp_path / "est")
    assert res.returncode == 0, res.stderr
    assert "at least $" in res.stdout
    assert (tmp_path / "est" / "estimate.json").is_file()
    again = estimate_cli(cli, db, sample_id, path, tmp_path / "est")
    assert_one_line_error(again, "already exists")


def test_the_formula_guard_round_trips(drawn):
    """The sample file protects keys that look like formulas; they still match."""
    _, sample_csv, _ = drawn
    with open(sample_csv, newline="") as fh:
        ids = {r["claim_id"]: r["data_source"] for r in csv.DictReader(fh)}
    assert ids["'=2+3"] == "plan a" and ids["'-7"] == "'@x"
    assert sorted(c for c in ids if c.startswith("'")) == ["'-7", "'=2+3"]
