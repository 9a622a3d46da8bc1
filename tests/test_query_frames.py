"""The analysts' entry point: findings and cohort tables as polars DataFrames (issue 14)."""

from __future__ import annotations

import csv

import duckdb
import polars as pl
import pytest

from jobs import pipeline
from jobs.errors import InputError
from jobs.log import Log
from jobs.query import COHORT_TABLES, AuditDatabase


@pytest.fixture(scope="module")
def tuva10_db(tmp_path_factory, tuva10):
    import io

    out = tmp_path_factory.mktemp("frames") / "out"
    result = pipeline.run(tuva10, out, log=Log("plain", io.StringIO()))
    assert result.exit_code == 0, result.message
    return out


def test_findings_are_the_exceptions_as_a_polars_frame(tuva10_db):
    with AuditDatabase(tuva10_db / "audit.duckdb") as audit:
        findings = audit.findings()
    assert isinstance(findings, pl.DataFrame)
    with open(tuva10_db / "exceptions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert findings.height == len(rows) > 0
    assert set(zip(findings["claim_id"], findings["rule_id"], strict=True)) == {
        (r["claim_id"], r["rule_id"]) for r in rows
    }
    assert findings["service_date"].dtype == pl.Date  # typed, not text


def test_cohort_tables_are_polars_frames_in_record_order(tuva10_db):
    db = tuva10_db / "audit.duckdb"
    with AuditDatabase(db) as audit:
        claims = audit.cohort()
        fills = audit.cohort("pharmacy_claim")
        rate = audit.sql("select count(*) as n from medical_claim where person_id = $p", {"p": "x"})
        with pytest.raises(ValueError, match="not a cohort table"):
            audit.cohort("findings")
        with pytest.raises(duckdb.Error):
            audit.sql("delete from medical_claim")  # read-only
    with duckdb.connect(str(db), read_only=True) as con:
        n = con.execute("select count(*) from medical_claim").fetchall()[0][0]
    assert claims.height == n and rate["n"][0] == 0
    assert claims["record_number"].to_list() == sorted(claims["record_number"].to_list())
    assert set(fills.columns) >= {"person_id", "dispensing_date", "source_file"}
    assert "practitioner" in COHORT_TABLES


def test_a_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no audit database"):
        AuditDatabase(tmp_path / "none.duckdb")
