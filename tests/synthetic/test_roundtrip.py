"""The generator round trip (issue #3): on generated data the findings equal the
planted answer key exactly (precision and recall 1.0), and the rejected rows
equal the planted invalid rows."""

from __future__ import annotations

import csv
import json

import pytest

from jobs.synthetic.generator import generate
from jobs.synthetic.scenarios import ESI_CODES, RULES
from tests.conftest import run_cli

RULE_IDS = set(RULES)


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def keys(path):
    return {(r["claim_id"], r["claim_line_number"], r["rule_id"], r["status"]) for r in rows(path)}


@pytest.fixture(scope="module", params=["parquet", "csv"])
def generated_run(request, tmp_path_factory):
    fmt = request.param
    root = tmp_path_factory.mktemp(f"roundtrip-{fmt}")
    lines = 50_000 if fmt == "parquet" else 20_000
    generate(root / "in", lines, seed=11, fmt=fmt)
    res = run_cli("run", "--input", root / "in", "--out", root / "out")
    assert res.returncode == 0, res.stderr[-3000:]
    return root / "in", root / "out"


def test_findings_equal_the_answer_key(generated_run):
    data, out = generated_run
    expected = keys(data / "expected_findings.csv")
    found = keys(out / "exceptions.csv")
    true_positives = expected & found
    precision = len(true_positives) / len(found)
    recall = len(true_positives) / len(expected)
    assert (precision, recall) == (1.0, 1.0), {
        "missed": sorted(expected - found)[:20],
        "unexpected": sorted(found - expected)[:20],
    }


def test_the_data_set_exercises_every_rule_status_and_code_kind(generated_run):
    data, out = generated_run
    findings = rows(out / "exceptions.csv")
    assert {r["rule_id"] for r in findings} == RULE_IDS
    assert {r["status"] for r in findings} == {"fail", "insufficient_history", "review"}
    med = data / "medical_claim.parquet"
    if med.exists():
        import duckdb

        codes = {
            r[0]
            for r in duckdb.sql(
                f"select distinct upper(trim(hcpcs_code)) from read_parquet('{med}')"
            ).fetchall()
        }
        assert codes >= ESI_CODES


def test_rejected_rows_equal_the_planted_invalid_rows(generated_run):
    data, out = generated_run
    planted = {
        (r["table"], int(r["record_number"]), r["reason"])
        for r in rows(data / "expected_rejections.csv")
    }
    got = set()
    for r in rows(out / "rejected_rows.csv"):
        for reason in r["reasons"].split("; "):
            name = reason.split(":")[0]
            # a planted impossible date on the service date is `invalid_service_date`
            name = "invalid_date" if name == "invalid_service_date" else name
            got.add((r["table_name"], int(r["record_number"]), name))
    assert got == planted
    manifest = json.loads((out / "manifest.json").read_text())
    for f in manifest["inputs"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
