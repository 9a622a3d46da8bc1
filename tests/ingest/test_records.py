"""Rows read are the file's real data records, however it is broken (issue 16, item 2).

A quote opened and never closed made the CSV reader swallow the rest of the file; two
stray quotes made it merge the records between them into one that parsed. The job
counts the file's physical lines itself and reconciles; a file that does not reconcile
is read by the careful reader, which rejects the broken record (its record number and
physical lines, never its text) and resumes with the next one.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jobs.config import Config
from jobs.errors import InputError
from jobs.ingest import load, records
from jobs.ingest.discover import discover
from jobs.ingest.schema import TABLES
from tests.conftest import assert_one_line_error

HEADER = (
    "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,rendering_npi,"
    "diagnosis_code_1,social_security_number"
)
N = 192


def line(i: int) -> str:
    return f"{i},1,p{i},2023-01-01,62321,1234567893,M5412,123-45-{i:04d}"


def write(folder: Path, lines: list[str], name: str = "medical_claim.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def con(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills (and keeps the CSV fast path's copies) in
    `folder`/.spill, as a run does in its own spill folder."""
    c = duckdb.connect(config={"temp_directory": str(folder / ".spill")})
    load.install_macros(c)
    load.create_support_tables(c)
    return c


def read(c, folder: Path, config: Config | None = None):
    files = discover(folder)
    load.load_raw(c, TABLES["medical_claim"], files["medical_claim"], config or Config())
    return files["medical_claim"][0]


def claim_ids(c) -> list[int]:
    got = c.execute("select claim_id from raw_medical_claim").fetchall()
    return sorted(int(r[0]) for r in got)


def bad(c) -> list[tuple]:
    return c.execute(
        "select record_number, first_line, last_line, error_type from csv_bad_records order by 1"
    ).fetchall()


def test_a_quote_never_closed_rejects_one_record_and_reading_resumes(tmp_path):
    """The issue's case: record 100 of 192 opens a quote it never closes."""
    rows = [line(i) for i in range(1, N + 1)]
    rows[99] = '100,1,p100,"2023-01-01,62321,1234567893,M5412,123-45-0100'
    write(tmp_path, rows)
    c = con(tmp_path)
    source = read(c, tmp_path)
    assert source.rows_read == N
    assert claim_ids(c) == [i for i in range(1, N + 1) if i != 100]
    assert bad(c) == [(100, 101, 101, "unclosed quote")]
    numbers = c.execute("select claim_id, record_number from raw_medical_claim").fetchall()
    assert all(int(claim) == number for claim, number in numbers)  # lineage kept


def test_two_stray_quotes_cannot_merge_the_records_between_them(tmp_path):
    """DuckDB parses records 4..7 as one good record here: 3 records would vanish."""
    rows = [line(i) for i in range(1, 11)]
    rows[3] = '4,1,p4,"2023-01-01,62321,1234567893,M5412,123-45-0004'
    rows[6] = '7,1,p7,2023-01-01",62321,1234567893,M5412,123-45-0007'
    write(tmp_path, rows)
    c = con(tmp_path)
    assert read(c, tmp_path).rows_read == 10
    assert bad(c) == [(4, 5, 5, "unclosed quote")]
    assert claim_ids(c) == [1, 2, 3, 5, 6, 7, 8, 9, 10]


def test_the_open_quote_in_the_last_field_is_stray_too(tmp_path):
    rows = [line(i) for i in range(1, 11)]
    rows[4] = rows[4].replace(",123-45", ',"123-45')
    write(tmp_path, rows)
    c = con(tmp_path)
    assert read(c, tmp_path).rows_read == 10
    assert bad(c) == [(5, 6, 6, "unclosed quote")]


def test_real_multi_line_values_and_blank_lines_keep_their_records(tmp_path):
    rows = [line(i) for i in range(1, 7)]
    rows[1] = '2,1,p2,2023-01-01,62321,1234567893,"M54\n12",123-45-0002'  # lines 3-4
    rows[3] = '4,1,p4,2023-01-01,62321,1234567893,"M5412","a ""quoted""\r\nnote"'
    rows.insert(5, "")  # a blank line: not a record
    write(tmp_path, rows)
    c = con(tmp_path)
    assert read(c, tmp_path).rows_read == 6
    assert claim_ids(c) == [1, 2, 3, 4, 5, 6]
    assert bad(c) == []
    got = c.execute("select diagnosis_code_1 from raw_medical_claim where claim_id = '2'")
    assert got.fetchone()[0] == "M54\n12"
    numbers = c.execute("select claim_id, record_number from raw_medical_claim").fetchall()
    assert all(int(claim) == number for claim, number in numbers)


def test_a_broken_record_keeps_its_place_never_its_text(tmp_path):
    """The swallowed text held the SSN column, which used to reach rejected_rows."""
    rows = [line(i) for i in range(1, 11)]
    rows[2] = '3,1,"p3,2023-01-01,62321,1234567893,M5412,123-45-0003'
    rows[6] = "7,1,p7,123-45-0007"  # too few fields
    write(tmp_path, rows)
    c = con(tmp_path)
    read(c, tmp_path)
    from jobs.validation import quarantine

    quarantine.create_rejected_rows_table(c)
    quarantine.insert_malformed_records(c, "r1")
    got = c.execute(
        "select record_number, details, original_values from rejected_rows order by 1"
    ).fetchall()
    assert [r[0] for r in got] == [3, 7]
    assert "(line 4)" in got[0][1] and "never closed" in got[0][1]
    assert json.loads(got[1][2]) == {
        "lines": "8",
        "error": "missing columns",
        "fields_in_record": 4,
        "fields_in_header": 8,
    }
    for _, details, values in got:
        assert "123-45" not in details + values and "p3" not in values and "p7" not in values


def test_a_clean_file_takes_the_fast_path_only(tmp_path, monkeypatch):
    """No Python per-line loop for a file whose records reconcile with its lines."""
    write(tmp_path, [line(i) for i in range(1, 501)] + ["501,1,p501"])  # one ragged record

    def careful(*args, **kwargs):
        raise AssertionError("the careful reader ran on a file that reconciles")

    monkeypatch.setattr(records, "read_careful", careful)
    c = con(tmp_path)
    assert read(c, tmp_path).rows_read == 501
    assert bad(c) == [(501, 502, 502, "missing columns")]


def test_gzip_files_are_counted_and_read_carefully_too(tmp_path):
    rows = [line(i) for i in range(1, 21)]
    rows[9] = '10,1,p10,"2023-01-01,62321,1234567893,M5412,123-45-0010'
    with gzip.open(tmp_path / "medical_claim.csv.gz", "wt") as fh:
        fh.write("\n".join([HEADER, *rows]))  # no final line break
    c = con(tmp_path)
    assert read(c, tmp_path).rows_read == 20
    assert bad(c) == [(10, 11, 11, "unclosed quote")]


def test_count_lines_and_split_record():
    assert records.split_record('a, "b,c" ,"d""e",,"",x"y') == (
        records.OK,
        ["a", "b,c", 'd"e', "", "", 'x"y'],
    )
    assert records.split_record('a,"b')[0] == records.OPEN
    assert records.split_record('a,"b"c')[0] == records.UNQUOTED
    assert records.LineCount(lines=11, decodable=True).reconciles(10)
    assert not records.LineCount(lines=11, decodable=True).reconciles(9)
    assert not records.LineCount(lines=11, decodable=False).reconciles(10)


def test_count_lines_sees_undecodable_bytes_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "BLOCK", 7)
    path = tmp_path / "x.csv"
    path.write_bytes("héllo\nwörld\n".encode())  # multi-byte characters cut by blocks
    assert records.count_lines(path) == records.LineCount(lines=2, decodable=True)
    path.write_bytes(b"a,b\nc,\xff\nd")
    assert records.count_lines(path) == records.LineCount(lines=3, decodable=False)


# ---------------------------------------------------------------- encodings


PRACTITIONER = "npi,first_name,last_name\n"


def practitioner(tmp_path: Path, body: bytes) -> Path:
    (tmp_path / "medical_claim.csv").write_text(HEADER + "\n" + line(1) + "\n")
    path = tmp_path / "practitioner.csv"
    path.write_bytes(PRACTITIONER.encode() + body)
    return path


def read_practitioner(c, tmp_path: Path, config: Config):
    files = discover(tmp_path)
    load.load_raw(c, TABLES["practitioner"], files["practitioner"], config)
    return files["practitioner"][0]


CP1252 = "1234567893,José,Nuñez\n1245319599,Zoë,O’Brien\n1679576722,Ann,Lee\n".encode("cp1252")


def test_a_cp1252_file_is_decoded_when_the_configuration_names_it(tmp_path):
    practitioner(tmp_path, CP1252)
    c = con(tmp_path)
    cfg = Config(encodings={"practitioner": "cp1252"})
    assert read_practitioner(c, tmp_path, cfg).rows_read == 3
    names = c.execute("select first_name, last_name from raw_practitioner order by 1").fetchall()
    assert names == [("Ann", "Lee"), ("José", "Nuñez"), ("Zoë", "O’Brien")]
    assert bad(c) == []


def test_undecodable_bytes_reject_their_record_and_name_the_setting(tmp_path):
    practitioner(tmp_path, CP1252)
    c = con(tmp_path)
    assert read_practitioner(c, tmp_path, Config()).rows_read == 3
    assert bad(c) == [(1, 2, 2, "invalid encoding"), (2, 3, 3, "invalid encoding")]
    (message,) = {r[0] for r in c.execute("select error_message from csv_bad_records").fetchall()}
    assert "bytes that are not valid utf-8" in message
    assert '[input.practitioner] encoding = "cp1252"' in message
    assert c.execute("select first_name from raw_practitioner").fetchall() == [("Ann",)]


def test_an_undecodable_header_is_unusable_input_naming_the_setting(tmp_path):
    (tmp_path / "medical_claim.csv").write_bytes(HEADER.encode() + b",r\xe9f\n" + b"1\n")
    with pytest.raises(InputError, match=r"header is not valid utf-8.*\[input.medical_claim\]"):
        read(con(tmp_path), tmp_path)


# ---------------------------------------------------------------- amounts


def test_an_amount_with_more_than_two_decimals_is_kept_exact_and_warned(tmp_path):
    """Issue 16: 150.129 used to be rounded silently; the contract keeps it exact and warns
    (only an amount with more than six decimals is rounded: to the millionth)."""
    (tmp_path / "medical_claim.csv").write_text(
        HEADER
        + ",paid_amount\n"
        + line(1)
        + ",150.129\n"
        + line(2)
        + ",150.120\n"
        + line(3)
        + ",-0.0000015\n"
    )
    c = con(tmp_path)
    read(c, tmp_path)
    load.create_staged_table(c, TABLES["medical_claim"], "r1")
    got = c.execute(
        "select claim_id, paid_amount, paid_amount__invalid from stg_medical_claim order by 1"
    ).fetchall()
    assert got == [
        ("1", Decimal("150.129"), "150.129"),
        ("2", Decimal("150.12"), None),
        ("3", Decimal("-0.000002"), "-0.0000015"),
    ]
    from jobs.validation.suites import suite_entries

    (entry,) = [e for e in suite_entries("medical_claim") if e.column == "paid_amount"
                and e.reason == "amount_sub_cent"]  # fmt: skip
    assert entry.level == "warning"


def test_the_broken_quote_file_loses_no_finding_end_to_end(tmp_path, tuva10, cli):
    """Issue 16, item 2 end to end: a stray quote in one record of the real Tuva sample
    rejects that record only; the findings are those of the file without it, and its
    member SSN column reaches neither rejected_rows.csv nor the database."""
    with open(tuva10 / "medical_claim.csv", newline="") as fh:
        table = list(csv.reader(fh))
    header, body = table[0] + ["social_security_number"], table[1:]
    body = [r + [f"999-00-{i:04d}"] for i, r in enumerate(body)]

    def write_input(folder: Path, rows: list[list[str]], broken: str | None = None) -> None:
        folder.mkdir()
        for name in ("eligibility.csv", "pharmacy_claim.csv"):
            (folder / name).write_bytes((tuva10 / name).read_bytes())
        with open(folder / "medical_claim.csv", "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            for i, r in enumerate(rows):
                if broken is not None and i == 99:
                    fh.write(broken + "\n")
                else:
                    w.writerow(r)

    stray = ",".join(body[99][:3]) + ',"' + ",".join(body[99][3:])  # quote never closed
    write_input(tmp_path / "broken", body, broken=stray)
    write_input(tmp_path / "without", body[:99] + body[100:])
    runs = {}
    for name in ("broken", "without"):
        res = cli("run", "--input", tmp_path / name, "--out", tmp_path / f"out-{name}")
        assert res.returncode == 0, res.stderr[-2000:]
        runs[name] = tmp_path / f"out-{name}"
    manifest = json.loads((runs["broken"] / "manifest.json").read_text())
    med = next(f for f in manifest["inputs"] if f["table"] == "medical_claim")
    assert (med["rows_read"], med["rows_rejected"]) == (len(body), 1)

    def findings(out: Path) -> list[tuple]:
        with open(out / "exceptions.csv", newline="") as fh:
            return sorted(
                (r["claim_id"], r["claim_line_number"], r["rule_id"], r["status"])
                for r in csv.DictReader(fh)
            )

    assert findings(runs["broken"]) == findings(runs["without"])
    rejected = (runs["broken"] / "rejected_rows.csv").read_text()
    assert "malformed_record" in rejected and "999-00-" not in rejected
    # the report's data coverage counts lines: the record that did not parse was none
    coverage = {}
    for name, out in runs.items():
        with duckdb.connect(str(out / "audit.duckdb"), read_only=True) as one:
            coverage[name] = one.execute("select * from input_coverage").fetchall()
    assert coverage["broken"] == coverage["without"]
    db = duckdb.connect(str(runs["broken"] / "audit.duckdb"), read_only=True)
    tables = [r[0] for r in db.execute("select table_name from duckdb_tables()").fetchall()]
    for t in tables:
        text = db.execute(f'select count(*) from "{t}" where cast(columns(*) as varchar) '
                          "like '%999-00-%'").fetchone()  # fmt: skip
        assert text == (0,), t


def npi(i: int) -> str:
    """A valid NPI (Luhn check digit over 80840 + the first nine digits)."""
    base = f"1{i:08d}"
    digits = [int(c) for c in "80840" + base]
    total = 0
    for k, d in enumerate(reversed(digits)):
        d = d * 2 if k % 2 == 0 else d
        total += d // 10 + d % 10
    return base + str((10 - total % 10) % 10)


def test_a_cp1252_practitioner_file_stops_the_night_until_its_encoding_is_named(
    tmp_path, tuva10, cli
):
    """The issue's night: three accented names in a 40-row practitioner file (7.5%)."""
    inp = tmp_path / "in"
    shutil.copytree(tuva10, inp)
    names = [("Ann", "Lee")] * 37 + [("José", "Nuñez"), ("Zoë", "Brontë"), ("Renée", "Côté")]
    body = "".join(f"{npi(i)},{first},{last}\n" for i, (first, last) in enumerate(names))
    (inp / "practitioner.csv").write_bytes((PRACTITIONER + body).encode("cp1252"))
    res = cli("run", "--input", inp, "--out", tmp_path / "out")
    assert_one_line_error(res, "practitioner: 3 of 40 rows rejected", "[input.practitioner]")

    config = tmp_path / "claims-audit.toml"
    config.write_text('[input.practitioner]\nencoding = "cp1252"\n')
    res = cli("run", "--input", inp, "--out", tmp_path / "out", "--config", config)
    assert res.returncode == 0, res.stderr[-2000:]
    db = duckdb.connect(str(tmp_path / "out" / "audit.duckdb"), read_only=True)
    got = db.execute("select last_name from practitioner where first_name <> 'Ann'").fetchall()
    assert sorted(r[0] for r in got) == ["Brontë", "Côté", "Nuñez"]
