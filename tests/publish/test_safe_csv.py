"""Formula-safe CSV (issue 13, contract "Outputs of run"): every CSV the product writes is
opened the way a spreadsheet opens it (LibreOffice Calc, headless; tests/publish/
spreadsheet.py). A claim id, a member id or a practitioner name that begins with `=`,
`+`, `-`, `@`, a tab or a carriage return reads as text with a leading `'`, never as a
formula or a number; numbers stay numbers (-12.50 is a number); Parquet keeps the values.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from jobs.safecsv import copy_csv, safe_relation
from jobs.validation import quarantine
from tests.conftest import run_cli
from tests.publish.spreadsheet import Cell, open_as_spreadsheet
from tests.report.synthetic import npi_with_check_digit

# The contract's characters, written out here (not read from the code under test).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# One hostile value per formula character: a spreadsheet would run the "=" one as a
# formula and read "+1"/"-2"-like ones as numbers.
CLAIM_IDS = [f'{c}HYPERLINK("http://x.invalid";"{i}")' for i, c in enumerate(FORMULA_STARTS)]
PERSON_IDS = [f"{c}{i}" for i, c in enumerate(FORMULA_STARTS)]
FIRST_NAMES = [f"{c}cmd|' /C calc'!A{i}" for i, c in enumerate(FORMULA_STARTS)]
NPIS = [npi_with_check_digit(f"{123450000 + i * 7:09d}") for i in range(len(FORMULA_STARTS))]
REVERSAL = "rev-1"
HEADER = [
    "claim_id", "claim_line_number", "person_id", "claim_type", "claim_start_date",
    "claim_line_start_date", "hcpcs_code", "rendering_npi", "paid_amount",
    "diagnosis_code_1", "data_source",
]  # fmt: skip


def as_read(value: str) -> str:
    """The text a protected value shows in Calc: the apostrophe, then the value (Calc
    stores a carriage return inside a cell as a line feed)."""
    return "'" + value.replace("\r", "\n")


def write_extracts(folder: Path) -> None:
    folder.mkdir()
    with open(folder / "medical_claim.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for claim_id, person, npi in zip(CLAIM_IDS, PERSON_IDS, NPIS, strict=True):
            # a cervical ESI with no history: qualifying_dx passes, other rules fail
            w.writerow([claim_id, 1, person, "professional", "2024-03-01", "2024-03-01",
                        "62321", npi, "410.00", "M54.12", "src"])  # fmt: skip
        w.writerow([REVERSAL, 1, PERSON_IDS[0], "professional", "2024-03-05", "2024-03-05",
                    "99213", NPIS[0], "-12.50", "M54.12", "src"])  # fmt: skip
    with open(folder / "practitioner.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["npi", "first_name", "last_name", "specialty"])
        for npi, first in zip(NPIS, FIRST_NAMES, strict=True):
            w.writerow([npi, first, "Doe", "Anesthesiology"])


def sheet(rows: list[list[Cell]]) -> list[dict[str, Cell]]:
    header = [c.text for c in rows[0]]
    empty = Cell("", "", None, None)
    return [dict(zip(header, r + [empty] * (len(header) - len(r)), strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A real run on hostile extracts; its CSV outputs, a `query --format csv` of the
    loaded claims and of v_exceptions, rejected_rows.csv as quarantine writes it, and a
    control file without protection, all opened in one LibreOffice session."""
    root = tmp_path_factory.mktemp("safe-csv")
    write_extracts(root / "in")
    out = root / "out"
    res = run_cli("run", "--input", root / "in", "--out", out)
    assert res.returncode == 0, res.stderr[-3000:]
    db = out / "audit.duckdb"
    queries = {
        "claims": "select claim_id, person_id, paid_amount from medical_claim order by claim_id",
        "names": "select claim_id, provider_name from v_exceptions order by claim_id, rule_id",
    }
    files = {
        "exceptions": out / "exceptions.csv",
        "worklist": out / "worklist.csv",
        "rejected_run": out / "rejected_rows.csv",
    }
    for name, sql in queries.items():
        res = run_cli("query", "--db", db, "--format", "csv", sql)
        assert res.returncode == 0, res.stderr
        files[name] = root / f"{name}.csv"
        files[name].write_text(res.stdout, encoding="utf-8")
    # rejected_rows.csv of a run and of a failed run: both written by copy_rejected
    con = duckdb.connect()
    quarantine.create_rejected_rows_table(con)
    for i, c in enumerate(FORMULA_STARTS):
        con.execute(
            "insert into rejected_rows values ('run', ?, ?, ?, ?, ?, ?)",
            [f"{c}table", f"{c}file.csv", i + 1, f"{c}reason", f"{c}details", f"{c}{{}}"],
        )
    files["rejected"] = root / "rejected.csv"
    quarantine.copy_rejected(con, files["rejected"])
    # the control: the same claims without protection, as a plain COPY writes them
    files["control"] = root / "control.csv"
    con.execute(
        "copy (select * from read_parquet(?)) to '" + str(files["control"]) + "' (header)",
        [str(out / "exceptions.parquet")],
    )
    con.close()
    read = open_as_spreadsheet(list(files.values()), root / "calc")
    return {"out": out, **{name: sheet(read[path]) for name, path in files.items()}}


def test_the_spreadsheet_runs_unprotected_cells(opened) -> None:
    """The reader is faithful: without protection, Calc makes the '=' claim id a formula."""
    cells = [r["claim_id"] for r in opened["control"]]
    assert any(c.formula and "HYPERLINK" in c.formula for c in cells), cells[:6]


def test_exceptions_csv_reads_as_text_and_numbers(opened) -> None:
    rows = opened["exceptions"]
    assert len(rows) == len(CLAIM_IDS) * 2  # conservative_care and prior_imaging each
    assert {r["claim_id"].text for r in rows} == {as_read(c) for c in CLAIM_IDS}
    assert {r["person_id"].text for r in rows} == {as_read(p) for p in PERSON_IDS}
    for r in rows:
        assert all(c.formula is None for c in r.values()), r
        assert r["claim_id"].kind == r["person_id"].kind == r["evidence"].kind == "string"
        assert (r["paid_amount"].kind, r["paid_amount"].value) == ("float", "410")
        assert r["claim_line_number"].kind == "float" and r["service_date"].kind == "date"


def test_worklist_csv_reads_as_text_and_numbers(opened) -> None:
    """worklist.csv (issue 15) goes through the same writer: every finding of this first run
    is new and undecided, so each is a row, its text protected, its numbers numbers."""
    rows = opened["worklist"]
    assert len(rows) == len(CLAIM_IDS) * 2
    assert {r["claim_id"].text for r in rows} == {as_read(c) for c in CLAIM_IDS}
    assert {r["person_id"].text for r in rows} == {as_read(p) for p in PERSON_IDS}
    names = {r["provider_name"].text for r in rows}
    for first in FIRST_NAMES:
        assert any(n.startswith(as_read(first)) for n in names), (first, names)
    for r in rows:
        assert all(c.formula is None for c in r.values()), r
        assert r["claim_id"].kind == r["person_id"].kind == r["provider_name"].kind == "string"
        assert (r["paid_amount"].kind, r["paid_amount"].value) == ("float", "410")
        assert r["queue_position"].kind == r["age_days"].kind == "float"


def test_parquet_keeps_the_values(opened) -> None:
    path = str(opened["out"] / "exceptions.parquet")
    ids = {r[0] for r in duckdb.sql(f"select claim_id from read_parquet('{path}')").fetchall()}
    assert ids == set(CLAIM_IDS)


def test_query_csv_protects_text_and_keeps_negative_amounts_numbers(opened) -> None:
    rows = opened["claims"]
    in_order = sorted([*CLAIM_IDS, REVERSAL])  # the query's order, on the values as loaded
    assert [r["claim_id"].text for r in rows] == [
        as_read(c) if c.startswith(FORMULA_STARTS) else c for c in in_order
    ]
    by_id = {r["claim_id"].text: r for r in rows}
    assert set(by_id) == {as_read(c) for c in CLAIM_IDS} | {REVERSAL}
    reversal = by_id[REVERSAL]
    assert (reversal["paid_amount"].kind, reversal["paid_amount"].value) == ("float", "-12.5")
    assert reversal["person_id"].text == as_read(PERSON_IDS[0])
    for r in rows:
        assert all(c.formula is None for c in r.values()), r
        assert r["person_id"].kind == "string"


def test_practitioner_names_read_as_text(opened) -> None:
    names = {r["provider_name"].text for r in opened["names"]}
    assert len(names) == len(FIRST_NAMES)
    for first in FIRST_NAMES:
        assert any(n.startswith(as_read(first)) for n in names), (first, names)
    assert all(r["provider_name"].kind == "string" for r in opened["names"])


def test_rejected_rows_csv_protects_every_text_column(opened) -> None:
    rows = opened["rejected"]
    assert sorted(r["record_number"].value for r in rows) == [
        str(i + 1) for i in range(len(FORMULA_STARTS))
    ]
    for r in rows:
        assert all(cell.formula is None for cell in r.values()), r
        assert r["record_number"].kind == "float"
        c = FORMULA_STARTS[int(r["record_number"].value) - 1]
        for column, value in (("table_name", "table"), ("source_file", "file.csv"),
                              ("reasons", "reason"), ("details", "details"),
                              ("original_values", "{}")):  # fmt: skip
            assert (r[column].kind, r[column].text) == ("string", as_read(c + value)), column
    assert opened["rejected_run"] == []  # the run itself rejected nothing


# ------------------------------------------------------------ the rule at its boundaries


def protected(values: list[object], sql_type: str) -> list[object]:
    """`values` of one column of `sql_type` as the CSV writers protect them."""
    con = duckdb.connect()
    con.execute(f"create table t (i integer, v {sql_type})")
    con.executemany("insert into t values (?, ?)", list(enumerate(values)))
    return [row[0] for row in safe_relation(con.sql("select v from t order by i")).fetchall()]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_each_formula_character_is_protected(start: str) -> None:
    assert protected([start, f"{start}x", f"{start}{start}"], "varchar") == [
        f"'{start}",
        f"'{start}x",
        f"'{start}{start}",
    ]


def test_other_text_and_other_types_are_left_alone(tmp_path: Path) -> None:
    text = ["x=1", " =1", "'=1", "", None, "1-2", "a\t=", "#REF!", "%", "|"]
    assert protected(text, "varchar") == text
    assert protected(["-1", '"=a"'], "json") == ["'-1", '"=a"']
    con = duckdb.connect()
    con.execute("create type kind as enum ('=a', 'b')")
    con.execute(
        "create table t as select -12.50::decimal(18, 2) as amount, -3 as n, -1.5e3 as x, "
        "date '2024-01-02' as d, '=a'::kind as k, ['=x'] as l, null::varchar as e"
    )
    path = tmp_path / "t.csv"
    assert copy_csv(con, "select * from t", path) == 1
    assert path.read_text().splitlines() == [
        "amount,n,x,d,k,l,e",
        "-12.50,-3,-1500.0,2024-01-02,'=a,['=x'],",
    ]


def test_copy_csv_orders_by_the_values_before_protection(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("create table t as select * from (values ('=b', 2), ('a', 1), ('+c', 3)) v(s, n)")
    path = tmp_path / "t.csv"
    copy_csv(con, "select s, n from t", path, order_by=("n",))
    assert [r["s"] for r in csv.DictReader(path.open())] == ["a", "'=b", "'+c"]
    copy_csv(con, "select s, n from t", path, order_by=("s",))
    assert [r["n"] for r in csv.DictReader(path.open())] == ["3", "2", "1"]  # '+' < '=' < 'a'
