"""The CSV fast path (issue 14: "CSV at 10M: at least 300,000 lines per second").

DuckDB's reader writes the good records, in file order, to a Parquet copy in the run's
spill folder, and ``raw_<table>_<i>`` is a view that numbers them; the records DuckDB
skips are put back by their positions. These tests hold it to issue 16's guarantees:
exact record numbers, every malformed record rejected alone with its line, rows read =
accepted + rejected, a fall back to the careful reader that leaves nothing behind.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from jobs.config import Config
from jobs.errors import InputError
from jobs.ingest import load, records
from jobs.ingest.discover import discover
from jobs.ingest.schema import TABLES

HEADER = (
    "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,rendering_npi,"
    "diagnosis_code_1,ssn"
)


def line(i: int) -> str:
    return f"{i},1,p{i},2023-01-01,62321,1234567893,M5412,123-45-{i % 10000:04d}"


def connect(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(config={"temp_directory": str(tmp_path / "spill"), "threads": 2})
    load.install_macros(c)
    load.create_support_tables(c)
    return c


def read(c, folder: Path):
    files = discover(folder)
    load.load_raw(c, TABLES["medical_claim"], files["medical_claim"], Config())
    return files["medical_claim"][0]


def numbered(c) -> list[tuple[int, int]]:
    """(claim_id, record_number) of every raw row, by record number."""
    rows = c.execute("select claim_id, record_number from raw_medical_claim order by 2")
    return [(int(claim), number) for claim, number in rows.fetchall()]


def bad(c) -> list[tuple]:
    return c.execute(
        "select record_number, first_line, last_line, error_type, fields_in_record "
        "from csv_bad_records order by 1"
    ).fetchall()


def no_careful_reader(monkeypatch) -> None:
    def careful(*args, **kwargs):
        raise AssertionError("the careful reader ran on a file that reconciles")

    monkeypatch.setattr(records, "read_careful", careful)


@pytest.mark.parametrize("bucket_bits", [16, 2, 0])
def test_records_with_too_few_or_too_many_fields_are_rejected_alone_in_the_middle(
    tmp_path, monkeypatch, bucket_bits
):
    """Issue 14 / 16: the fast path numbers every good record exactly around malformed
    ones, however they cluster (two in a row, one first, one last), and whichever
    bucket of the numbering (`load.SHIFT_BUCKET_BITS`) each falls in or next to."""
    monkeypatch.setattr(load, "SHIFT_BUCKET_BITS", bucket_bits)
    n = 40
    rows = [line(i) for i in range(1, n + 1)]
    broken = {1: "1,1,p1", 7: line(7) + ",extra", 8: "8,1", 20: "20", n: line(n) + ",x,y"}
    for i, text in broken.items():
        rows[i - 1] = text
    (tmp_path / "medical_claim.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    no_careful_reader(monkeypatch)
    c = connect(tmp_path)
    assert read(c, tmp_path).rows_read == n
    assert numbered(c) == [(i, i) for i in range(1, n + 1) if i not in broken]
    assert bad(c) == [
        (1, 2, 2, "missing columns", 3),
        (7, 8, 8, "too many columns", 9),
        (8, 9, 9, "missing columns", 2),
        (20, 21, 21, "missing columns", 1),
        (n, n + 1, n + 1, "too many columns", 10),
    ]


def test_record_numbers_hold_across_row_groups_and_threads(tmp_path, monkeypatch):
    """Enough records for several Parquet row groups and both reader threads: every
    good record keeps its position in the file, with malformed ones spread through."""
    n = 300_000
    broken = {2, 122_881, 122_882, 200_000, n}
    with open(tmp_path / "medical_claim.csv", "w") as fh:
        fh.write(HEADER + "\n")
        for i in range(1, n + 1):
            fh.write(("1,2" if i in broken else line(i)) + "\n")
    no_careful_reader(monkeypatch)
    c = connect(tmp_path)
    assert read(c, tmp_path).rows_read == n
    wrong = c.execute(
        "select count(*), count(*) filter (where cast(claim_id as bigint) <> record_number) "
        "from raw_medical_claim"
    ).fetchone()
    assert wrong == (n - len(broken), 0)
    assert [r[0] for r in bad(c)] == sorted(broken)


def test_a_gzip_file_takes_the_fast_path(tmp_path, monkeypatch):
    rows = [line(i) for i in range(1, 31)]
    rows[11] = "12,1,p12"
    with gzip.open(tmp_path / "medical_claim.csv.gz", "wt") as fh:
        fh.write("\n".join([HEADER, *rows]) + "\n")
    no_careful_reader(monkeypatch)
    c = connect(tmp_path)
    assert read(c, tmp_path).rows_read == 30
    assert numbered(c) == [(i, i) for i in range(1, 31) if i != 12]
    assert bad(c) == [(12, 13, 13, "missing columns", 3)]


def test_only_the_contract_columns_reach_the_copy(tmp_path):
    """The copy is a file on disk: the SSN column must not be in it."""
    (tmp_path / "medical_claim.csv").write_text("\n".join([HEADER, line(1), line(2)]) + "\n")
    c = connect(tmp_path)
    read(c, tmp_path)
    (copy,) = (tmp_path / "spill").glob("*.parquet")
    columns = [r[0] for r in c.execute(f"describe select * from read_parquet('{copy}')").fetchall()]
    assert "ssn" not in columns and "claim_id" in columns
    assert b"123-45" not in copy.read_bytes()


def test_a_file_that_does_not_reconcile_falls_back_and_leaves_no_copy(tmp_path):
    """The fast path's result is dropped (its copy and its rejects) when the records do
    not match the lines; the careful reader's result stands alone."""
    rows = [line(i) for i in range(1, 11)]
    rows[3] = '4,1,p4,"2023-01-01,62321,1234567893,M5412,123-45-0004'  # a quote never closed
    (tmp_path / "medical_claim.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    c = connect(tmp_path)
    assert read(c, tmp_path).rows_read == 10
    assert numbered(c) == [(i, i) for i in range(1, 11) if i != 4]
    assert [r[:4] for r in bad(c)] == [(4, 5, 5, "unclosed quote")]
    assert list((tmp_path / "spill").glob("*.parquet")) == []


def test_drop_raw_removes_the_copies(tmp_path):
    (tmp_path / "medical_claim.csv").write_text("\n".join([HEADER, line(1)]) + "\n")
    c = connect(tmp_path)
    read(c, tmp_path)
    assert len(list((tmp_path / "spill").glob("*.parquet"))) == 1
    load.drop_raw(c, TABLES["medical_claim"])
    assert list((tmp_path / "spill").glob("*.parquet")) == []
    names = c.execute("select table_name from duckdb_tables() union all select view_name "
                      "from duckdb_views() where not internal").fetchall()  # fmt: skip
    assert not [n for (n,) in names if n.startswith("raw_")]


def test_a_header_only_file_reads_no_rows(tmp_path, monkeypatch):
    (tmp_path / "medical_claim.csv").write_text(HEADER + "\n")
    no_careful_reader(monkeypatch)
    c = connect(tmp_path)
    assert read(c, tmp_path).rows_read == 0
    assert numbered(c) == []


@pytest.mark.parametrize("spill", ["a file", "a folder"])
def test_a_spill_folder_that_cannot_hold_the_copy_is_the_machines_fault(tmp_path, spill):
    """Not the input's: no InputError, which would exit 2 and tell a scheduler to fix the
    data (issue 16, item 3)."""
    (tmp_path / "medical_claim.csv").write_text("\n".join([HEADER, line(1)]) + "\n")
    c = connect(tmp_path)
    if spill == "a file":  # the spill folder's place is taken by a file
        (tmp_path / "spill").write_text("not a folder")
    else:  # the copy's place is taken by a folder
        (tmp_path / "spill" / "raw_medical_claim_0.csv.parquet").mkdir(parents=True)
    with pytest.raises(Exception) as info:
        read(c, tmp_path)
    assert not isinstance(info.value, InputError)
    assert "spill" in str(info.value)
