"""Every rejection and warning reason fires on crafted bad rows, and only there.

One validation run per table on a small stg_<table> in a DuckDB file (with the
loader-style read-write connection open): good rows (including messy-but-valid
forms and missing optional values) must not appear in any failing-row query; each
bad row must appear in exactly the (reason, column) pairs it was crafted for; and
GX's unexpected_count must equal the row count of `unexpected_rows_sql`.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from jobs.validation import suites

from .helpers import create_stg_table, insert_rows

GOOD = frozenset()

# ---------------------------------------------------------------------------
# Crafted rows: (overrides of the table's good base row, expected {(reason, column)})
# ---------------------------------------------------------------------------


def _medical_base(n: int) -> dict:
    return {
        "claim_id": f"C{n}",
        "claim_line_number": "1",
        "person_id": "P1",
        "claim_type": "professional",
        "claim_start_date": "2023-03-01",
        "claim_end_date": "2023-03-01",
        "claim_line_start_date": "2023-03-01",
        "claim_line_end_date": "2023-03-01",
        "hcpcs_code": "62321",
        "rendering_npi": "1234567893",
        "billing_npi": "1234567893",
        "paid_amount": "100.00",
        "allowed_amount": "120.00",
        "charge_amount": "300",
        "service_unit_quantity": "1",
        "diagnosis_code_1": "M5412",
        "data_source": "test",
    }


MEDICAL_CASES = [
    # --- good rows: messy but valid, or optional values missing
    ({}, GOOD),
    ({"claim_start_date": "20230301", "claim_line_start_date": "3/1/2023"}, GOOD),
    ({"claim_line_start_date": None, "claim_line_end_date": None}, GOOD),
    ({"claim_line_number": "01"}, GOOD),
    ({"claim_line_number": "2.0"}, GOOD),
    ({"hcpcs_code": "J1030"}, GOOD),
    ({"hcpcs_code": "0228T"}, GOOD),
    ({"hcpcs_code": None}, GOOD),
    (
        {"diagnosis_code_1": "S12000A", "diagnosis_code_2": "G8929", "diagnosis_code_25": "M542"},
        GOOD,
    ),
    ({"diagnosis_code_1": None}, GOOD),
    ({"billing_npi": None, "facility_npi": None}, GOOD),
    ({"paid_amount": None, "allowed_amount": None, "charge_amount": None}, GOOD),
    ({"paid_amount": "-130.00"}, GOOD),  # a reversal: not compared
    ({"paid_amount": ".5", "allowed_amount": "+12.340", "service_unit_quantity": "1.5e1"}, GOOD),
    ({"data_source": None}, GOOD),
    ({"hcpcs_code": "62310", "claim_line_start_date": "2016-12-31"}, GOOD),
    ({"hcpcs_code": "0228T", "claim_line_start_date": "2011-07-01"}, GOOD),
    # --- blocking
    ({"claim_id": None}, {("missing_claim_id", "claim_id")}),
    ({"claim_line_number": None}, {("missing_claim_line_number", "claim_line_number")}),
    ({"person_id": None}, {("missing_person_id", "person_id")}),
    ({"claim_line_number": "0"}, {("invalid_claim_line_number", "claim_line_number")}),
    ({"claim_line_number": "1.5"}, {("invalid_claim_line_number", "claim_line_number")}),
    ({"claim_line_number": "-1"}, {("invalid_claim_line_number", "claim_line_number")}),
    ({"claim_line_number": "9999999999"}, {("invalid_claim_line_number", "claim_line_number")}),
    (
        {"claim_start_date": None, "claim_line_start_date": None},
        {("missing_service_date", "claim_start_date")},
    ),
    (
        {"claim_line_start_date": "2023-02-30"},
        {("invalid_service_date", "claim_line_start_date")},
    ),
    (
        {
            "claim_line_start_date": None,
            "claim_line_end_date": None,
            "claim_start_date": "2023-13-01",
        },
        {("invalid_service_date", "claim_start_date")},
    ),
    ({"claim_start_date": "yesterday"}, {("invalid_date", "claim_start_date")}),
    ({"claim_end_date": "2023-02-29"}, {("invalid_date", "claim_end_date")}),
    ({"claim_line_end_date": "02/30/2023"}, {("invalid_date", "claim_line_end_date")}),
    ({"hcpcs_code": "6232"}, {("malformed_hcpcs_code", "hcpcs_code")}),
    ({"hcpcs_code": "623210"}, {("malformed_hcpcs_code", "hcpcs_code")}),
    ({"hcpcs_code": "ABCDE"}, {("malformed_hcpcs_code", "hcpcs_code")}),
    ({"diagnosis_code_1": "M54-12"}, {("malformed_diagnosis_code", "diagnosis_code_1")}),
    ({"diagnosis_code_7": "M5"}, {("malformed_diagnosis_code", "diagnosis_code_7")}),
    ({"diagnosis_code_25": "12345"}, {("malformed_diagnosis_code", "diagnosis_code_25")}),
    ({"diagnosis_code_2": "M5412345"}, {("malformed_diagnosis_code", "diagnosis_code_2")}),
    ({"rendering_npi": "1234567890"}, {("invalid_npi", "rendering_npi")}),
    ({"billing_npi": "123"}, {("invalid_npi", "billing_npi")}),  # short: must not crash
    ({"facility_npi": "ABCDEFGHIJ"}, {("invalid_npi", "facility_npi")}),
    ({"paid_amount": "$100"}, {("invalid_amount", "paid_amount")}),
    ({"allowed_amount": "1,000"}, {("invalid_amount", "allowed_amount")}),
    ({"charge_amount": "nan"}, {("invalid_amount", "charge_amount")}),
    ({"service_unit_quantity": "one"}, {("invalid_number", "service_unit_quantity")}),
    # duplicates: '1' and '01' are the same line; NULL data_source is a value
    ({"claim_id": "DUP", "data_source": None}, {("duplicate_key", None)}),
    (
        {"claim_id": "DUP", "claim_line_number": "01", "data_source": None},
        {("duplicate_key", None)},
    ),
    ({"claim_id": "DUP", "data_source": "other"}, GOOD),
    ({"claim_id": "DUP", "claim_line_number": "2"}, GOOD),
    # invalid line numbers are not keys: rejected for the line number only
    (
        {"claim_id": "DUPX", "claim_line_number": "x"},
        {("invalid_claim_line_number", "claim_line_number")},
    ),
    (
        {"claim_id": "DUPX", "claim_line_number": "x"},
        {("invalid_claim_line_number", "claim_line_number")},
    ),
    # --- warnings
    ({"rendering_npi": None}, {("missing_rendering_npi", "rendering_npi")}),
    ({"claim_end_date": "2023-02-01"}, {("dates_out_of_order", "claim_end_date")}),
    ({"claim_line_end_date": "20230201"}, {("dates_out_of_order", "claim_line_end_date")}),
    ({"paid_amount": "130"}, {("amounts_inconsistent", "paid_amount")}),
    ({"allowed_amount": "400"}, {("amounts_inconsistent", "allowed_amount")}),
    # more than two decimals: kept exact and warned (issue 16)
    ({"allowed_amount": "+112.345"}, {("amount_sub_cent", "allowed_amount")}),
    ({"paid_amount": "-100.0001"}, {("amount_sub_cent", "paid_amount")}),
    (
        {"hcpcs_code": "62310", "claim_line_start_date": "2017-01-01"},
        {("code_not_valid_on_date", "hcpcs_code")},
    ),
    (
        {"hcpcs_code": "62321", "claim_line_start_date": "12/31/2016"},
        {("code_not_valid_on_date", "hcpcs_code")},
    ),
    (
        {
            "hcpcs_code": "62321",
            "claim_line_start_date": None,
            "claim_line_end_date": None,
            "claim_start_date": "2016-06-01",
            "claim_end_date": "2016-06-01",
        },
        {("code_not_valid_on_date", "hcpcs_code")},
    ),
    (
        {"hcpcs_code": "0229T", "claim_line_start_date": "2011-06-30"},
        {("code_not_valid_on_date", "hcpcs_code")},
    ),
    # --- several reasons on one row: every one is reported
    (
        {"claim_id": None, "hcpcs_code": "62-21", "rendering_npi": None},
        {
            ("missing_claim_id", "claim_id"),
            ("malformed_hcpcs_code", "hcpcs_code"),
            ("missing_rendering_npi", "rendering_npi"),
        },
    ),
]


def _pharmacy_base(n: int) -> dict:
    return {
        "claim_id": f"R{n}",
        "claim_line_number": "1",
        "person_id": "P1",
        "dispensing_date": "2023-01-15",
        "ndc_code": "00002143380",
        "days_supply": "30",
        "quantity": "30.5",
        "prescribing_provider_npi": "1234567893",
        "paid_amount": "10.00",
        "data_source": "rx",
    }


PHARMACY_CASES = [
    ({}, GOOD),
    ({"prescribing_provider_npi": None, "days_supply": None, "data_source": None}, GOOD),
    ({"claim_id": None}, {("missing_claim_id", "claim_id")}),
    ({"claim_line_number": None}, {("missing_claim_line_number", "claim_line_number")}),
    ({"person_id": None}, {("missing_person_id", "person_id")}),
    ({"dispensing_date": None}, {("missing_dispensing_date", "dispensing_date")}),
    ({"claim_line_number": "a"}, {("invalid_claim_line_number", "claim_line_number")}),
    ({"dispensing_date": "2023-02-30"}, {("invalid_date", "dispensing_date")}),
    ({"dispensing_date": "0000-01-01"}, {("invalid_date", "dispensing_date")}),
    ({"ndc_code": "0002143380"}, {("malformed_ndc_code", "ndc_code")}),
    ({"ndc_code": "0002-1433-8"}, {("malformed_ndc_code", "ndc_code")}),
    ({"days_supply": "thirty"}, {("invalid_number", "days_supply")}),
    ({"quantity": "1/2"}, {("invalid_number", "quantity")}),
    ({"paid_amount": "ten"}, {("invalid_amount", "paid_amount")}),
    ({"paid_amount": "10.005"}, {("amount_sub_cent", "paid_amount")}),
    ({"prescribing_provider_npi": "1234567894"}, {("invalid_npi", "prescribing_provider_npi")}),
    ({"claim_id": "RDUP"}, {("duplicate_key", None)}),
    ({"claim_id": "RDUP"}, {("duplicate_key", None)}),
]


def _eligibility_base(n: int) -> dict:
    return {
        "person_id": f"P{n}",
        "enrollment_start_date": "2022-01-01",
        "enrollment_end_date": "2022-12-31",
        "payer": "acme",
        "plan": "ppo",
    }


ELIGIBILITY_CASES = [
    ({}, GOOD),
    ({"enrollment_end_date": None}, GOOD),
    # two spans of one person are not duplicates
    ({"person_id": "PSAME"}, GOOD),
    (
        {"person_id": "PSAME", "enrollment_start_date": "2023-01-01", "enrollment_end_date": None},
        GOOD,
    ),
    ({"person_id": None}, {("missing_person_id", "person_id")}),
    ({"enrollment_start_date": None}, {("missing_enrollment_start_date", "enrollment_start_date")}),
    ({"enrollment_start_date": "2022-00-01"}, {("invalid_date", "enrollment_start_date")}),
    ({"enrollment_end_date": "31/12/2022"}, {("invalid_date", "enrollment_end_date")}),
    ({"enrollment_end_date": "2021-12-31"}, {("dates_out_of_order", "enrollment_end_date")}),
]


def _procedure_base(n: int) -> dict:
    return {
        "procedure_id": f"PR{n}",
        "person_id": "P1",
        "procedure_date": "2023-01-05",
        "source_code": "72141",
        "source_code_type": "hcpcs",
        "normalized_code": "72141",
        "normalized_code_type": "hcpcs",
    }


PROCEDURE_CASES = [
    ({}, GOOD),
    ({"normalized_code": "0BH17EZ", "normalized_code_type": "icd-10-pcs"}, GOOD),
    ({"source_code": "anything", "source_code_type": "snomed-ct"}, GOOD),
    ({"source_code": "ABC", "source_code_type": None, "normalized_code": None}, GOOD),
    ({"procedure_id": None}, {("missing_procedure_id", "procedure_id")}),
    ({"person_id": None}, {("missing_person_id", "person_id")}),
    ({"procedure_date": None}, {("missing_procedure_date", "procedure_date")}),
    ({"procedure_date": "2023-02-31"}, {("invalid_date", "procedure_date")}),
    ({"source_code": "7214"}, {("malformed_hcpcs_code", "source_code")}),
    (
        {"normalized_code": "72141X", "normalized_code_type": "cpt"},
        {("malformed_hcpcs_code", "normalized_code")},
    ),
    ({"procedure_id": "PRDUP"}, {("duplicate_key", "procedure_id")}),
    ({"procedure_id": "PRDUP"}, {("duplicate_key", "procedure_id")}),
]


def _encounter_base(n: int) -> dict:
    return {
        "encounter_id": f"E{n}",
        "person_id": "P1",
        "encounter_start_date": "2023-01-05",
        "encounter_end_date": "2023-01-06",
        "encounter_type": "office visit",
        "primary_diagnosis_code": "M5412",
    }


ENCOUNTER_CASES = [
    ({}, GOOD),
    ({"encounter_end_date": None, "primary_diagnosis_code": None}, GOOD),
    ({"encounter_id": None}, {("missing_encounter_id", "encounter_id")}),
    ({"person_id": None}, {("missing_person_id", "person_id")}),
    ({"encounter_start_date": None}, {("missing_encounter_start_date", "encounter_start_date")}),
    ({"encounter_start_date": "2023-1-32"}, {("invalid_date", "encounter_start_date")}),
    ({"encounter_end_date": "tomorrow"}, {("invalid_date", "encounter_end_date")}),
    (
        {"primary_diagnosis_code": "M54-12"},
        {("malformed_diagnosis_code", "primary_diagnosis_code")},
    ),
    ({"encounter_id": "EDUP"}, {("duplicate_key", "encounter_id")}),
    ({"encounter_id": "EDUP"}, {("duplicate_key", "encounter_id")}),
    ({"encounter_end_date": "2023-01-04"}, {("dates_out_of_order", "encounter_end_date")}),
]


def _condition_base(n: int) -> dict:
    return {
        "condition_id": f"CO{n}",
        "person_id": "P1",
        "recorded_date": "2023-01-05",
        "source_code": "M5412",
        "source_code_type": "icd-10-cm",
        "normalized_code": "M5412",
        "normalized_code_type": "icd-10-cm",
    }


CONDITION_CASES = [
    ({}, GOOD),
    ({"normalized_code": "195967001", "normalized_code_type": "snomed-ct"}, GOOD),
    ({"source_code": "7231", "source_code_type": "icd-9-cm"}, GOOD),
    ({"source_code": None, "source_code_type": None}, GOOD),
    ({"condition_id": None}, {("missing_condition_id", "condition_id")}),
    ({"person_id": None}, {("missing_person_id", "person_id")}),
    ({"recorded_date": None}, {("missing_recorded_date", "recorded_date")}),
    ({"recorded_date": "2023-04-31"}, {("invalid_date", "recorded_date")}),
    ({"source_code": "12345"}, {("malformed_diagnosis_code", "source_code")}),
    # the type is not trusted between -cm and -pcs
    (
        {"source_code": "M54-12", "source_code_type": "icd-10-pcs"},
        {("malformed_diagnosis_code", "source_code")},
    ),
    (
        {"normalized_code": "M5", "normalized_code_type": None},
        {("malformed_diagnosis_code", "normalized_code")},
    ),
    ({"condition_id": "CODUP"}, {("duplicate_key", "condition_id")}),
    ({"condition_id": "CODUP"}, {("duplicate_key", "condition_id")}),
]


def _practitioner_base(n: int) -> dict:
    # distinct valid NPIs: 9 digits + Luhn check digit
    return {"npi": _valid_npi(100000000 + n), "practitioner_id": f"D{n}", "specialty": "pain"}


def _valid_npi(nine: int) -> str:
    digits = [int(c) for c in f"{nine:09d}"]
    total = 24
    for i, d in enumerate(digits):
        if i % 2 == 0:
            d *= 2
            total += d // 10 + d % 10
        else:
            total += d
    return f"{nine:09d}{(10 - total % 10) % 10}"


PRACTITIONER_CASES = [
    ({}, GOOD),
    ({"practitioner_id": None, "specialty": None}, GOOD),
    ({"npi": None}, {("missing_npi", "npi")}),
    ({"npi": "1234567890"}, {("invalid_npi", "npi")}),
    ({"npi": "12345"}, {("invalid_npi", "npi")}),
    ({"npi": "1234567893"}, {("duplicate_key", "npi")}),
    ({"npi": "1234567893"}, {("duplicate_key", "npi")}),
]

TABLE_CASES = {
    "medical_claim": (_medical_base, MEDICAL_CASES),
    "pharmacy_claim": (_pharmacy_base, PHARMACY_CASES),
    "eligibility": (_eligibility_base, ELIGIBILITY_CASES),
    "procedure": (_procedure_base, PROCEDURE_CASES),
    "encounter": (_encounter_base, ENCOUNTER_CASES),
    "condition": (_condition_base, CONDITION_CASES),
    "practitioner": (_practitioner_base, PRACTITIONER_CASES),
}


@pytest.fixture(scope="module")
def validated(tmp_path_factory, gx_ready):
    """{table: (outcomes, {(reason, column): rows from unexpected_rows_sql}, expected)}"""
    import duckdb

    from .helpers import load_macros

    path = tmp_path_factory.mktemp("reasons") / "audit.duckdb"
    con = duckdb.connect(str(path))  # the loader's read-write connection, open throughout
    load_macros(con)
    suites.load_code_validity(con)
    results = {}
    for table, (base, cases) in TABLE_CASES.items():
        create_stg_table(con, table)
        rows = [{**base(n), **over} for n, (over, _) in enumerate(cases, start=1)]
        insert_rows(con, table, rows, source_file=f"{table}.csv")
        outcomes = gx_ready.validate_table(con, table)
        found: dict[tuple, set[int]] = defaultdict(set)
        counts = {}
        for o in outcomes:
            got = con.execute(o.unexpected_rows_sql).fetchall()
            assert all(f == f"{table}.csv" for f, _ in got)
            numbers = [r for _, r in got]
            assert len(numbers) == len(set(numbers)), f"{o.reason} returns a row twice"
            found[(o.reason, o.column)] |= set(numbers)
            counts[(o.reason, o.column)] = (o.unexpected_count, len(numbers))
            if o.failing_rows_table:  # the rows kept once for the examples are the same rows
                kept = con.execute(
                    f"select source_file, record_number from {o.failing_rows_table}"
                ).fetchall()
                assert sorted(kept) == sorted(got), o.reason
        gx_ready.drop_failing_rows(con, outcomes)
        assert not con.execute(
            "select table_name from duckdb_tables() where table_name like '_ca_failing%'"
        ).fetchall()
        expected: dict[tuple, set[int]] = defaultdict(set)
        for n, (_, pairs) in enumerate(cases, start=1):
            for pair in pairs:
                expected[pair].add(n)
        results[table] = (outcomes, dict(found), dict(expected), counts)
    yield results
    con.close()


@pytest.mark.parametrize("table", list(TABLE_CASES))
def test_each_reason_fires_on_exactly_its_rows(validated, table):
    outcomes, found, expected, _ = validated[table]
    suite_pairs = {(o.reason, o.column) for o in outcomes}
    unknown = set(expected) - suite_pairs
    assert not unknown, f"cases expect checks the suite does not have: {unknown}"
    for pair in suite_pairs:
        assert found.get(pair, set()) == expected.get(pair, set()), pair


@pytest.mark.parametrize("table", list(TABLE_CASES))
def test_every_reason_of_the_suite_is_exercised(validated, table):
    outcomes, _, expected, _ = validated[table]
    exercised = {reason for reason, _ in expected}
    assert {o.reason for o in outcomes} == exercised


@pytest.mark.parametrize("table", list(TABLE_CASES))
def test_gx_counts_equal_failing_row_queries(validated, table):
    outcomes, _, _, counts = validated[table]
    for o in outcomes:
        gx_count, sql_count = counts[(o.reason, o.column)]
        assert gx_count == sql_count, (o.reason, o.column)
        assert o.success == (gx_count == 0)
        assert o.element_count == len(TABLE_CASES[table][1])


def test_outcomes_carry_meta_and_examples(validated):
    outcomes, _, _, _ = validated["medical_claim"]
    by = {(o.reason, o.column): o for o in outcomes}
    hcpcs = by[("malformed_hcpcs_code", "hcpcs_code")]
    assert hcpcs.level == "blocking"
    assert hcpcs.expectation_type == "unexpected_rows_expectation"  # checked per distinct value
    # every malformed code of the cases, once each (checked per distinct value)
    assert sorted(hcpcs.unexpected_examples) == ["62-21", "6232", "623210", "ABCDE"]
    npi = by[("invalid_npi", "billing_npi")]
    assert npi.unexpected_examples == ["123"]
    dup = by[("duplicate_key", None)]
    # the staged line number: '01' and '1' are line 1
    assert sorted(dup.unexpected_examples) == ["DUP / 1 / (none)", "DUP / 1 / (none)"]
    assert by[("dates_out_of_order", "claim_end_date")].level == "warning"
    assert all(o.description for o in outcomes)


def test_row_issues_hold_exactly_the_failing_rows(tmp_path, gx_ready) -> None:
    """jobs.validation.validate records every failing row once per (reason, column), from the rows
    kept for the examples, and leaves no temporary tables behind."""
    import duckdb

    from jobs.ingest.schema import TABLES
    from jobs.validation import validate

    from .helpers import load_macros

    con = duckdb.connect(str(tmp_path / "audit.duckdb"))
    load_macros(con)
    suites.load_code_validity(con)
    validate.create_issue_tables(con)
    rows = [{**_medical_base(n), **over} for n, (over, _) in enumerate(MEDICAL_CASES, start=1)]
    create_stg_table(con, "medical_claim")
    insert_rows(con, "medical_claim", rows, source_file="m.csv")
    validate.validate(con, TABLES["medical_claim"], "run-1")
    got: dict[tuple, set[int]] = defaultdict(set)
    for reason, column, number in con.execute(
        "select reason, column_name, record_number from row_issues"
    ).fetchall():
        got[(reason, column)].add(number)
    expected: dict[tuple, set[int]] = defaultdict(set)
    for n, (_, pairs) in enumerate(MEDICAL_CASES, start=1):
        for pair in pairs:
            expected[pair].add(n)
    assert dict(got) == dict(expected)
    assert not con.execute(
        "select table_name from duckdb_tables() where table_name like '_ca_failing%'"
    ).fetchall()
    con.close()
