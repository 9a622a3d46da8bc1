"""Finding input tables and reading them with lineage (contract: "Input")."""

from __future__ import annotations

import datetime
import decimal
import gzip
import os
from pathlib import Path

import duckdb
import pytest

from jobs.config import Config
from jobs.errors import InputError
from jobs.ingest import load
from jobs.ingest.discover import discover
from jobs.ingest.schema import TABLES
from tests.conftest import assert_one_line_error

HEADER = (
    "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,rendering_npi,"
    "diagnosis_code_1"
)


def con(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills (and keeps the CSV fast path's copies) in
    `folder`/.spill, as a run does in its own spill folder."""
    c = duckdb.connect(config={"temp_directory": str(folder / ".spill")})
    load.install_macros(c)
    load.create_support_tables(c)
    return c


def read(c, tmp_path, config=None):
    files = discover(tmp_path)
    load.load_raw(c, TABLES["medical_claim"], files["medical_claim"], config or Config())
    load.create_staged_table(c, TABLES["medical_claim"], "test-run")
    return files["medical_claim"]


def test_each_table_entry_kind_is_found(tmp_path):
    (tmp_path / "medical_claim.csv").write_text(HEADER + "\n")
    with gzip.open(tmp_path / "pharmacy_claim.csv.gz", "wt") as fh:
        fh.write("claim_id,claim_line_number,person_id,dispensing_date,ndc_code\n")
    (tmp_path / "eligibility").mkdir()
    duckdb.sql(
        "copy (select 'p1' as person_id, '2020-01-01' as enrollment_start_date) "
        f"to '{tmp_path / 'eligibility' / 'part-1.parquet'}'"
    )
    (tmp_path / "eligibility" / "README.txt").write_text("ignored")
    (tmp_path / "README.md").write_text("ignored")
    (tmp_path / "notes.csv").write_text("not a table\n")
    found = discover(tmp_path)
    assert sorted(found) == ["eligibility", "medical_claim", "pharmacy_claim"]
    assert [f.format for f in found["eligibility"]] == ["parquet"]
    assert found["pharmacy_claim"][0].format == "csv"


def test_missing_medical_claim_is_named(tmp_path):
    (tmp_path / "eligibility.csv").write_text("person_id,enrollment_start_date\n")
    with pytest.raises(InputError, match="required table medical_claim is missing"):
        discover(tmp_path)


def test_two_entries_for_one_table_is_an_error(tmp_path):
    (tmp_path / "medical_claim.csv").write_text(HEADER + "\n")
    (tmp_path / "medical_claim").mkdir()
    (tmp_path / "medical_claim" / "a.csv").write_text(HEADER + "\n")
    with pytest.raises(InputError, match="two entries"):
        discover(tmp_path)


def test_empty_table_folder_is_an_error(tmp_path):
    (tmp_path / "medical_claim").mkdir()
    (tmp_path / "medical_claim" / "README").write_text("x")
    with pytest.raises(InputError, match="holds no .csv"):
        discover(tmp_path)


def test_record_numbers_survive_broken_and_multiline_records(tmp_path):
    rows = [
        HEADER,
        '1,1,p1,2023-01-01,62321,1234567893,"M54.12"',
        "2,1,p2",  # too few fields: record 2
        '3,1,p3,2023-01-01,62321,1234567893,"M54\n12"',  # a quoted newline: one record
        "4,1,p4,2023-01-01,62321,1234567893,M5412,extra,fields",  # record 4: too many
        "5,1,p5,2023-01-01,62321,1234567893,M5412",
    ]
    (tmp_path / "medical_claim.csv").write_text("\n".join(rows) + "\n")
    c = con(tmp_path)
    files = read(c, tmp_path)
    got = c.execute("select record_number, claim_id from raw_medical_claim order by 1").fetchall()
    assert got == [(1, "1"), (3, "3"), (5, "5")]
    bad = c.execute("select record_number, error_type from csv_bad_records order by 1").fetchall()
    assert bad == [(2, "missing columns"), (4, "too many columns")]
    assert files[0].rows_read == 5


def test_only_contract_columns_are_read_and_renames_apply(tmp_path):
    (tmp_path / "medical_claim.csv").write_text(
        "CLAIM_ID,claim_line_number,patient_id,claim_start_date,hcpcs_code,rendering_npi,"
        "diagnosis_code_1,social_security_number,first_name\n"
        "1,1,p1,2023-01-01,62321,1234567893,M5412,123-45-6789,Ann\n"
    )
    cfg = Config(columns={"medical_claim": {"person_id": "patient_id"}})
    c = con(tmp_path)
    read(c, tmp_path, cfg)
    cols = [r[0] for r in c.execute("describe raw_medical_claim").fetchall()]
    assert "person_id" in cols and "claim_id" in cols
    assert not {"social_security_number", "first_name", "patient_id"} & set(cols)
    assert c.execute("select person_id from raw_medical_claim").fetchone()[0] == "p1"


def test_missing_required_column_names_file_and_column(tmp_path):
    (tmp_path / "medical_claim.csv").write_text(HEADER.replace("person_id", "patient_id") + "\n")
    with pytest.raises(InputError) as err:
        read(con(tmp_path), tmp_path)
    assert "medical_claim.csv" in str(err.value)
    assert "required column person_id is missing" in str(err.value)


def test_garbage_file_is_unreadable_not_a_traceback(tmp_path):
    (tmp_path / "medical_claim.csv").write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError, match="medical_claim.csv"):
        read(con(tmp_path), tmp_path)


def test_garbage_parquet_is_unreadable(tmp_path):
    (tmp_path / "medical_claim.parquet").write_text("this is not parquet")
    with pytest.raises(InputError, match="cannot be read as Parquet"):
        read(con(tmp_path), tmp_path)


def staged_row(tmp_path, extra_columns: str, record: str, columns: str) -> tuple:
    """Stage a one-record medical_claim.csv (HEADER + extra_columns); `columns` of stg."""
    (tmp_path / "medical_claim.csv").write_text(f"{HEADER},{extra_columns}\n{record}\n")
    c = con(tmp_path)
    read(c, tmp_path)
    return c.execute(f"select {columns} from stg_medical_claim").fetchone()


def test_normalization_of_messy_values(tmp_path):
    row = staged_row(
        tmp_path,
        "revenue_center_code,claim_type",
        "  7 ,1, p1 ,20230105, 62321 , 1234567893 , m54.12 , 420 ,Professional",
        "claim_id, person_id, claim_start_date, hcpcs_code, rendering_npi, "
        "diagnosis_code_1, revenue_center_code, claim_type, diagnosis_code_2",
    )
    assert row == (
        "7",
        "p1",
        datetime.date(2023, 1, 5),
        "62321",
        "1234567893",
        "M5412",
        "0420",
        "professional",
        None,
    )


def test_values_that_do_not_convert_keep_their_text_beside_the_typed_column(tmp_path):
    row = staged_row(
        tmp_path,
        "paid_amount,claim_line_end_date",
        "7, 1.0 ,p1,2023-02-30,62321,1234567893,M5412,$5, 12/31/2023 ",
        "claim_line_number, claim_line_number__invalid, claim_start_date, "
        "claim_start_date__invalid, paid_amount, paid_amount__invalid, claim_line_end_date, "
        "claim_line_end_date__invalid, service_date",
    )
    assert row == (1, None, None, "2023-02-30", None, "$5", datetime.date(2023, 12, 31), None, None)


def test_parquet_typed_columns_are_read_as_text_then_converted(tmp_path):
    duckdb.sql(
        "copy (select 1 as claim_id, 2 as claim_line_number, 'p' as person_id, "
        "date '2023-01-05' as claim_start_date, timestamp '2023-01-06 10:00:00' as claim_end_date, "
        "'62321' as hcpcs_code, 1234567893 as rendering_npi, 'M5412' as diagnosis_code_1, "
        "12.5 as paid_amount) "
        f"to '{tmp_path / 'medical_claim.parquet'}'"
    )
    c = con(tmp_path)
    files = read(c, tmp_path)
    row = c.execute(
        "select record_number, claim_id, claim_start_date, claim_end_date, rendering_npi, "
        "paid_amount "
        "from stg_medical_claim"
    ).fetchone()
    assert row == (
        1,
        "1",
        datetime.date(2023, 1, 5),
        datetime.date(2023, 1, 6),
        "1234567893",
        decimal.Decimal("12.50"),
    )
    assert files[0].rows_read == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda d: (d / "medical_claim.csv").symlink_to("medical_claim.csv"),  # a loop
        lambda d: (d / "medical_claim.csv").symlink_to(d / "gone.csv"),  # points nowhere
        lambda d: os.mkfifo(d / "medical_claim.csv"),  # not a regular file
    ],
    ids=["symlink-loop", "dangling-symlink", "fifo"],
)
def test_an_unreadable_table_entry_is_unusable_input(tmp_path, make):
    """Issue 16, item 7: a symlink loop used to exit 1 (an unhandled OSError)."""
    make(tmp_path)
    with pytest.raises(InputError, match="medical_claim.csv: cannot be read"):
        discover(tmp_path)


def test_an_unreadable_file_inside_a_table_folder_is_not_skipped(tmp_path):
    folder = tmp_path / "medical_claim"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + "\n")
    (folder / "b.csv").symlink_to(folder / "b.csv")
    with pytest.raises(InputError, match="b.csv: cannot be read"):
        discover(tmp_path)


def test_a_symlink_loop_exits_2_from_the_command_line(tmp_path, cli):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "medical_claim.csv").symlink_to("medical_claim.csv")
    res = cli("run", "--input", inp, "--out", tmp_path / "out")
    assert_one_line_error(res, "medical_claim.csv", "Too many levels of symbolic links")
