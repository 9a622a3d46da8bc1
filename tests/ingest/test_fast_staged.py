"""load.fast_staged converts exactly as the staging select does (issue 14).

The scan (jobs.validation.scan) evaluates row checks on values converted with the cheap
paths of `fast_staged`; a value converted differently there than in ``stg_<table>``
could hide a failing row from validation. Every converted kind is compared on a corpus
of plain, messy and broken texts, value by value.
"""

from __future__ import annotations

import itertools

import duckdb
import pytest

from jobs.ingest import load, schema

DATES = [
    "2023-01-05", "2023-1-5", "2023-02-29", "2024-02-29", "2023-13-01", "0000-01-01",
    "0001-01-01", "9999-12-31", "20230105", "00000105", "20231301", "1/5/2023", "01/05/2023",
    "12/31/1999", "2/30/2023", "1/1/0000", "13/01/2023", " 2023-01-05", "2023-01-05 ",
    "2023/01/05", "2023-01-05T10:00", "2023-01-05 10:00:00", "+2023-01-01", "99999-01-01",
    "2023-001-05", "yesterday", "", " ", "１２/01/2023", "2023-0１-05",
]  # fmt: skip
NUMBERS = [
    "0", "1", "01", "1.0", "1.", ".5", "-.5", "5.", "12.345", "-130.00", "+12", "-0", "1e5",
    "1E-3", "1,0", "1_000", "$100", "nan", "inf", "-", ".", "1.2.3", "--1", "1-2", " 12",
    "12 ", "0000000001", "000000012", "123456789", "1234567890", "9999999999",
    "123456789012345", "1234567890123456", "123456789012345.67", "-123456789012345",
    "-1234567890123456", "9999999999999999.99", "１２", "",
]  # fmt: skip


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    load.install_macros(connection)
    yield connection
    connection.close()


def _columns(kind: str) -> list[schema.Column]:
    return [c for t in schema.TABLES.values() for c in t.columns if c.kind == kind][:1]


@pytest.mark.parametrize(
    "column",
    [c for kind in schema.CONVERTED_KINDS for c in _columns(kind)]
    + [schema.MEDICAL_CLAIM.column("hcpcs_code"), schema.MEDICAL_CLAIM.column("paid_amount")],
    ids=lambda c: f"{c.kind}:{c.name}",
)
def test_fast_staged_equals_the_staging_select(con, column: schema.Column) -> None:
    values = DATES if column.kind == schema.DATE else NUMBERS
    values = [*values, None] + [a + b for a, b in itertools.product(["", " "], values[:5])]
    con.execute("create or replace temp table corpus (x varchar)")
    con.executemany("insert into corpus values (?)", [(v,) for v in values])
    typed, invalid = load.fast_staged(column, "x")
    # the staging select's own conversion of the same text (staged_sql's expressions)
    normalized = load._normalized(column, "x")
    exact = load._converted(column, normalized) if column.converted else normalized
    exact_invalid = f"case when ({exact}) is null then {normalized} end"
    if not column.converted:
        exact_invalid = "null"
    rows = con.execute(
        f"select x, {typed}, {exact}, {invalid}, {exact_invalid} from corpus"
    ).fetchall()
    differ = [r for r in rows if r[1] != r[2] or r[3] != r[4]]
    assert not differ, differ
    assert any(r[1] is not None for r in rows) and any(r[2] is None for r in rows)
