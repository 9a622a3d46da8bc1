"""The shipped expectation suites (expectations/*.json) and jobs/suites.py."""

from __future__ import annotations

import json
import re
import string

import duckdb
import pytest

from jobs.ingest import schema
from jobs.validation import suites

TABLES = list(schema.TABLES)

EXPECTED_REASONS = {
    "medical_claim": {
        "blocking": {
            "missing_claim_id",
            "missing_claim_line_number",
            "missing_person_id",
            "invalid_claim_line_number",
            "missing_service_date",
            "invalid_service_date",
            "invalid_date",
            "malformed_hcpcs_code",
            "malformed_diagnosis_code",
            "invalid_npi",
            "invalid_amount",
            "invalid_number",
            "duplicate_key",
        },
        "warning": {
            "missing_rendering_npi",
            "dates_out_of_order",
            "amounts_inconsistent",
            "code_not_valid_on_date",
            "amount_sub_cent",  # issue 16
        },
    },
    "pharmacy_claim": {
        "blocking": {
            "missing_claim_id",
            "missing_claim_line_number",
            "missing_person_id",
            "missing_dispensing_date",
            "invalid_claim_line_number",
            "invalid_date",
            "malformed_ndc_code",
            "invalid_number",
            "invalid_npi",
            "invalid_amount",
            "duplicate_key",
        },
        "warning": {"amount_sub_cent"},  # issue 16
    },
    "eligibility": {
        "blocking": {"missing_person_id", "missing_enrollment_start_date", "invalid_date"},
        "warning": {"dates_out_of_order"},
    },
    "procedure": {
        "blocking": {
            "missing_procedure_id",
            "missing_person_id",
            "missing_procedure_date",
            "invalid_date",
            "malformed_hcpcs_code",
            "duplicate_key",
        },
        "warning": set(),
    },
    "encounter": {
        "blocking": {
            "missing_encounter_id",
            "missing_person_id",
            "missing_encounter_start_date",
            "invalid_date",
            "malformed_diagnosis_code",
            "duplicate_key",
        },
        "warning": {"dates_out_of_order"},
    },
    "condition": {
        "blocking": {
            "missing_condition_id",
            "missing_person_id",
            "missing_recorded_date",
            "invalid_date",
            "malformed_diagnosis_code",
            "duplicate_key",
        },
        "warning": set(),
    },
    "practitioner": {
        "blocking": {"missing_npi", "invalid_npi", "duplicate_key"},
        "warning": set(),
    },
}


@pytest.mark.parametrize("table", TABLES)
def test_shipped_json_is_what_the_builder_makes(table):
    assert suites.load_suite(table) == json.loads(json.dumps(suites.build_suite(table)))


def test_check_command_agrees():
    assert suites.main(["--check"]) == 0


@pytest.mark.parametrize("table", TABLES)
def test_reasons_and_levels(table):
    entries = suites.suite_entries(table)
    got = {"blocking": set(), "warning": set()}
    for e in entries:
        got[e.level].add(e.reason)
    assert got == EXPECTED_REASONS[table]


@pytest.mark.parametrize("table", TABLES)
def test_every_expectation_says_why_and_where(table):
    columns = set(schema.TABLES[table].column_names)
    seen = set()
    for raw, e in zip(
        suites.load_suite(table)["expectations"], suites.suite_entries(table), strict=True
    ):
        assert set(raw["meta"]) >= {"reason", "level", "description"}
        assert e.description.endswith(".") and len(e.description) > 20
        assert raw["severity"] == ("critical" if e.level == "blocking" else "warning")
        if e.column is not None:
            assert e.column in columns
        elif e.reason != "duplicate_key":
            pytest.fail(f"{e.reason} has no column")
        # one expectation per (reason, column): the loader can say which column failed
        assert (e.reason, e.column) not in seen
        seen.add((e.reason, e.column))


def test_one_date_check_per_date_column():
    for table in TABLES:
        dates = {c.name for c in schema.TABLES[table].columns if c.kind == schema.DATE}
        checked = {
            e.column
            for e in suites.suite_entries(table)
            if e.reason in ("invalid_date", "invalid_service_date")
        }
        assert checked == dates, table


def test_every_npi_and_diagnosis_column_is_checked():
    med = {(e.reason, e.column) for e in suites.suite_entries("medical_claim")}
    for col in schema.DIAGNOSIS_COLUMNS:
        assert ("malformed_diagnosis_code", col) in med
    for col in ("rendering_npi", "billing_npi", "facility_npi"):
        assert ("invalid_npi", col) in med


@pytest.mark.parametrize("table", TABLES)
def test_sql_is_safe_for_gx_and_sqlalchemy(table):
    for raw in suites.load_suite(table)["expectations"]:
        if raw["type"] != "unexpected_rows_expectation":
            assert raw["kwargs"]["column"]
            continue
        query = raw["kwargs"]["unexpected_rows_query"]
        fields = {f for _, f, _, _ in string.Formatter().parse(query) if f is not None}
        assert fields == {"batch"}  # every other brace is doubled
        assert not re.search(r":\w", query), "SQLAlchemy text() would read :name as a bind"
        assert "%" not in query
        # not materialized: DuckDB would copy the batch before reading it twice
        assert query.format(batch="stg_x").startswith(
            "with b as not materialized (select * from stg_x)"
        )


@pytest.mark.parametrize("table", TABLES)
def test_suites_load_in_gx(table, gx_ready):
    import great_expectations as gx

    gx.get_context(mode="ephemeral")
    suite = gx.ExpectationSuite(**suites.load_suite(table))
    assert len(suite.expectations) == len(suites.load_suite(table)["expectations"])
    assert all(e.meta["reason"] for e in suite.expectations)


def test_code_validity_csv_loads():
    con = duckdb.connect()
    suites.load_code_validity(con)
    rows = dict(
        ((code, (str(f) if f else None, str(t) if t else None)))
        for code, f, t in con.execute(
            "select code, valid_from, valid_to from code_validity"
        ).fetchall()
    )
    assert rows["62310"] == (None, "2016-12-31")
    assert rows["62318"] == (None, "2016-12-31")
    for code in ("62320", "62321", "62322", "62323", "62324", "62325", "62326", "62327"):
        assert rows[code] == ("2017-01-01", None)
    assert rows["0228T"] == rows["0229T"] == ("2011-07-01", None)
    types = dict(
        con.execute("select column_name, column_type from (describe code_validity)").fetchall()
    )
    assert types["valid_from"] == types["valid_to"] == "DATE"


@pytest.mark.parametrize(
    ("regex", "sql_type", "values"),
    [
        (schema.LINE_NUMBER_REGEX, "INTEGER", ["1", "01", "2.0", "3.", "999999999", "0001"]),
        (schema.AMOUNT_REGEX, "DECIMAL(18, 6)", ["0", "-1.5", "+2", ".5", "123456789012.999999"]),
        (schema.NUMBER_REGEX, "DOUBLE", ["1", "-1.5e3", ".5", "1E-2", "7."]),
    ],
)
def test_accepted_values_cast_cleanly(regex, sql_type, values):
    """What passes validation loads with a plain CAST (the loader's contract)."""
    con = duckdb.connect()
    probes = values + ["x", "", "1,0", "0x10", "1_000", "nan", "inf", "1e999", "9" * 20]
    for v in probes:
        ok = con.execute("select regexp_full_match(?, ?)", [v, regex[1:-1]]).fetchone()[0]
        assert ok == bool(re.fullmatch(regex[1:-1], v))
        if v in values:
            assert ok, v
        if ok:
            con.execute(f"select cast(? as {sql_type})", [v]).fetchone()


def test_unknown_table():
    with pytest.raises(KeyError):
        suites.load_suite("claims")


def test_reasons_catalog():
    all_reasons = suites.reasons()
    assert all_reasons["duplicate_key"] == "blocking"
    assert all_reasons["missing_rendering_npi"] == "warning"
    assert suites.reasons("practitioner") == {
        "missing_npi": "blocking",
        "invalid_npi": "blocking",
        "duplicate_key": "blocking",
    }
