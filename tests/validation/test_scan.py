"""The scan keeps every row a check can fail, and validating what it keeps gives exactly the
row issues of validating every row (issue 14: validation without the copy).

For every table, the crafted rows of test_validation_reasons (each reason, and messy but
valid forms) are mixed with plain good rows; the suite runs once on the whole staged
table and once on what jobs.validation.scan keeps, and the row issues must be equal,
while the plain rows are not kept.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from jobs.ingest import load
from jobs.ingest.schema import TABLES
from jobs.validation import scan, suites, validate

from .helpers import create_stg_table, insert_rows, load_macros
from .test_validation_reasons import TABLE_CASES

PLAIN = 200  # plain good rows per table, numbered after the crafted ones


def _plain_row(table: str, base, n: int) -> dict:
    row = dict(base(n))
    key = {
        "medical_claim": "claim_id",
        "pharmacy_claim": "claim_id",
        "procedure": "procedure_id",
        "encounter": "encounter_id",
        "condition": "condition_id",
        "practitioner": "npi",
    }.get(table)
    if key and key != "npi":
        row[key] = f"PLAIN{n}"
    if "person_id" in row:
        row["person_id"] = f"PLAIN-P{n}"
    if table == "practitioner":
        row["npi"] = _npi(n)
    if table == "medical_claim":  # a code without validity dates (their lines are candidates)
        row["hcpcs_code"] = "99213"
    return row


def _npi(n: int) -> str:
    """A valid NPI (Luhn over 80840 + the first nine digits) for each n."""
    body = f"{100000000 + n:09d}"
    digits = [int(c) for c in "80840" + body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def _issues(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(con.execute("select * from row_issues").fetchall())


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "audit.duckdb"))
    load_macros(connection)
    suites.load_code_validity(connection)
    validate.create_issue_tables(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("table_name", list(TABLE_CASES))
def test_validating_the_kept_rows_gives_the_issues_of_every_row(con, gx_ready, table_name):
    """Regression for issue 14: the scan must never drop a row a check fails."""
    table = TABLES[table_name]
    base, cases = TABLE_CASES[table_name]
    rows = [{**base(n), **over} for n, (over, _) in enumerate(cases, start=1)]
    rows += [_plain_row(table_name, base, n) for n in range(len(rows) + 1, len(rows) + PLAIN)]
    create_stg_table(con, table_name)
    insert_rows(con, table_name, rows, source_file=f"{table_name}.csv")  # stages every row
    validate.validate(con, table, "run-1")
    everything = _issues(con)
    assert everything  # the crafted rows fail checks

    con.execute("delete from row_issues")
    con.execute("delete from validation_results")
    plan = scan.scan_plan(table)
    found = scan.pass1(con, plan, None)
    kept = scan.pass2(con, plan, found, None, "run-1", cohort=False)
    validate.validate(con, table, "run-1")
    assert _issues(con) == everything
    plain = con.execute(
        f"select count(*) from stg_{table_name} where record_number > {len(cases)}"
    ).fetchone()[0]
    assert plain == 0 and kept < len(rows), "plain good rows must not be kept"


def test_only_the_listed_files_are_checked_but_duplicates_span_every_file(con, gx_ready):
    """A reused file's rows are not validated again; a key it shares with a validated file
    is still caught in both files (issue 14)."""
    table = TABLES["medical_claim"]
    base, _ = TABLE_CASES["medical_claim"]
    create_stg_table(con, "medical_claim")
    old = [base(1), {**base(2), "rendering_npi": "1234567890"}]  # old.csv: a bad NPI
    new = [{**base(3), "claim_id": "C1"}, {**base(4), "rendering_npi": "123"}]  # dup of C1
    insert_rows(con, "medical_claim", old, source_file="old.csv")
    con.execute(
        "insert into raw_medical_claim by name select * replace ('new.csv' as source_file) "
        "from raw_medical_claim where false"
    )
    for number, row in enumerate(new, start=1):
        names = [*row, "source_file", "record_number"]
        con.execute(
            f"insert into raw_medical_claim ({', '.join(names)}) "
            f"values ({', '.join('?' for _ in names)})",
            [*row.values(), "new.csv", number],
        )
    plan = scan.scan_plan(table)
    found = scan.pass1(con, plan, ["new.csv"])
    scan.pass2(con, plan, found, ["new.csv"], "run-2", cohort=False)
    validate.validate(con, table, "run-2", ["new.csv"], results=False)
    issues = {(f, n, reason) for _, f, n, reason, *_ in _issues(con)}
    assert ("new.csv", 2, "invalid_npi") in issues
    assert ("old.csv", 2, "invalid_npi") not in issues  # old.csv is not validated again
    assert {("old.csv", 1, "duplicate_key"), ("new.csv", 1, "duplicate_key")} <= issues


def test_a_value_check_on_an_identifier_must_be_a_missing_check():
    suite = suites.build_suite("medical_claim")
    for e in suite["expectations"]:
        if e["meta"]["reason"] == "missing_claim_id":
            e["meta"]["prefilter"] = {"values": ["claim_id"], "bad": "length(claim_id) > 9"}
    with pytest.raises(ValueError, match="identifier claim_id"):
        scan.scan_plan(TABLES["medical_claim"], suite)


def test_every_expectation_declares_how_its_rows_are_found():
    for name in TABLES:
        plan = scan.scan_plan(TABLES[name])
        assert plan.values or plan.rows or plan.missing_ids, name
    suite = suites.build_suite("pharmacy_claim")
    del suite["expectations"][0]["meta"]["prefilter"]
    with pytest.raises(ValueError, match="declares no prefilter"):
        scan.scan_plan(TABLES["pharmacy_claim"], suite)


def test_staged_sql_reads_another_source():
    sql = load.staged_sql(TABLES["eligibility"], "r", source="(select 1) as s", passthrough=("x",))
    assert "from (select 1) as s" in sql and sql.count('"x"') == 2


DATES = [
    "2023-01-05", "2023-1-5", "2024-02-29", "20230105", "1/5/2023", "01/05/2023",
    "12/31/1999", " 2023-01-05", "2023-01-05 ", " 20230105 ", " 1/5/2023", "9999-12-31",
    "0001-01-01", "2023-02-29", "2023-13-01", "0000-01-01", "00000105", "1/1/0000",
    "2023/01/05", "2023-01-05T10:00", "yesterday", "", " ", None,
]  # fmt: skip


def test_the_loose_date_is_the_staged_date_of_every_valid_text(con):
    """ca_loose_date (the scan's row checks, the coverage of accepted rows) gives the date
    ca_parse_date gives whenever ca_parse_date accepts the text (issue 14)."""
    rows = con.execute(
        "select x, ca_parse_date(nullif(trim(x), '')), ca_loose_date(x) "
        "from (select unnest($d) as x)",
        {"d": DATES},
    ).fetchall()
    valid = [(x, exact, loose) for x, exact, loose in rows if exact is not None]
    assert len(valid) >= 12
    assert all(exact == loose for _, exact, loose in valid), valid


def test_coverage_counts_exactly_the_accepted_lines(con, gx_ready):
    """input_coverage (the report's data coverage) equals the staged values of every
    accepted medical-claim line, though the scan keeps only some rows."""
    from jobs.validation import quarantine

    table = TABLES["medical_claim"]
    base, cases = TABLE_CASES["medical_claim"]
    rows = [{**base(n), **over} for n, (over, _) in enumerate(cases, start=1)]
    # the earliest date in M/D/YYYY, the latest in YYYYMMDD: every layout decides a number
    layouts = ["2021-3-4", "20301231", "1/2/1990", " 2021-03-07 ", "2021-03-08"]
    rows += [
        {**_plain_row("medical_claim", base, n), "claim_line_start_date": None,
         "claim_start_date": layouts[n % 5], "hcpcs_code": ("62323", "99213")[n % 2]}
        for n in range(len(rows) + 1, len(rows) + 40)
    ]  # fmt: skip
    # rejected lines (no claim_id) that would move every number if they were counted: the
    # earliest and the latest service date, out of scope with a paid amount; one shares
    # its date texts and its paid amount with accepted lines, so only its own count goes
    rows += [
        {**_plain_row("medical_claim", base, n), "claim_id": None, "hcpcs_code": "62323",
         "claim_line_start_date": None, "claim_start_date": start, "paid_amount": paid}
        for n, start, paid in [(len(rows) + 1, "1/1/1970", "5000.25"),
                               (len(rows) + 2, "20991231", "7000"),
                               (len(rows) + 3, layouts[1], rows[-1]["paid_amount"])]
    ]  # fmt: skip
    create_stg_table(con, "medical_claim")
    insert_rows(con, "medical_claim", rows)  # stg_medical_claim: every row, staged
    con.execute("create table everything as select * from stg_medical_claim")
    plan = scan.scan_plan(table)
    found = scan.pass1(con, plan, None)
    scan.pass2(con, plan, found, None, "run-1", cohort=False)
    validate.validate(con, table, "run-1")
    load.create_support_tables(con)  # csv_bad_records (none here)
    quarantine.build_rejections(con, [table], "run-1")
    scan.write_coverage(con, True, ["62323"])
    expected = con.execute(
        """
        select count(*), min(service_date), max(service_date),
               count(*) filter (where hcpcs_code = '62323'),
               sum(paid_amount) filter (where hcpcs_code = '62323')
        from everything as e
        where not exists (select 1 from rejected_keys as k
                          where k.source_file = e.source_file and k.record_number = e.record_number)
        """
    ).fetchall()
    assert con.execute("select * from input_coverage").fetchall() == expected
    assert expected[0][3] > 0 and expected[0][1] is not None
    # the rejected lines were left out (else 1970 and 2099 would be the first and last)
    assert date(1970, 1, 1) < expected[0][1] and expected[0][2] < date(2099, 12, 31)
