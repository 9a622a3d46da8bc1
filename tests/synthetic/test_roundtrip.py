"""The generator round trip (issue #3): on generated data the findings equal the
planted answer key exactly (precision and recall 1.0), and the rejected rows
equal the planted invalid rows."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import duckdb
import pytest

from jobs.audit import reference
from jobs.synthetic import drugs
from jobs.synthetic.generator import generate
from jobs.synthetic.scenarios import ESI_CODES, RULES
from tests.conftest import run_cli

RULE_IDS = set(RULES)
# expected_warnings.csv names what was planted; the run names the check that saw it.
PLANTED_WARNINGS = {
    "missing_rendering_npi": "missing_rendering_npi",
    "claim_end_before_start": "dates_out_of_order",
    "paid_exceeds_allowed": "amounts_inconsistent",
}
# Code validity (CPT 2017 replaced 62310/62318 by 62320-62327; 0228T/0229T from
# 2011-07), restated here rather than read from expectations/code_validity.csv.
VALID_UNTIL = {"62310": dt.date(2016, 12, 31), "62318": dt.date(2016, 12, 31)}
VALID_FROM = {
    **{str(code): dt.date(2017, 1, 1) for code in range(62320, 62328)},
    "0228T": dt.date(2011, 7, 1),
    "0229T": dt.date(2011, 7, 1),
}


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


def parse_date(text: str | None) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def codes_not_valid_on_date(data) -> set[tuple[str, int, str]]:
    """Medical lines whose HCPCS code is outside its validity on the service date, read
    from the extract itself (the scenarios plant some; the answer key does not list them)."""
    found = set()
    for number, r in enumerate(medical_rows(data), start=1):
        code = (r["hcpcs_code"] or "").strip().upper().replace(".", "")
        day = parse_date(r["claim_line_start_date"]) or parse_date(r["claim_start_date"])
        if day and (
            (code in VALID_UNTIL and day > VALID_UNTIL[code])
            or (code in VALID_FROM and day < VALID_FROM[code])
        ):
            found.add(("medical_claim", number, "code_not_valid_on_date"))
    return found


def medical_rows(data) -> list[dict]:
    columns = ["hcpcs_code", "claim_line_start_date", "claim_start_date"]
    if (data / "medical_claim.csv").exists():
        return [{c: r[c] for c in columns} for r in rows(data / "medical_claim.csv")]
    import pyarrow.parquet as pq

    return pq.read_table(data / "medical_claim.parquet", columns=columns).to_pylist()


def test_warnings_equal_the_planted_warning_rows(generated_run):
    """expected_warnings.csv equals the run's warnings (issue 13: it was never compared):
    each planted warning on its record, and besides them only the codes the scenarios
    use outside their validity."""
    import duckdb

    data, out = generated_run
    planted = {
        (r["table"], int(r["record_number"]), PLANTED_WARNINGS[r["warning"]])
        for r in rows(data / "expected_warnings.csv")
    }
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    try:
        got = set(
            con.execute(
                "select table_name, record_number, reason from row_issues where level = 'warning'"
            ).fetchall()
        )
    finally:
        con.close()
    validity = codes_not_valid_on_date(data)
    assert len(planted) >= 3 and validity  # both kinds are there to compare
    assert got == planted | validity, {
        "missing": sorted((planted | validity) - got)[:10],
        "unexpected": sorted(got - planted - validity)[:10],
    }


def test_the_report_counts_reversed_lines_apart(generated_run):
    """Policy 1.1 (issue 13): the generated reversals cancel ESI lines, and the report's
    exclusions table shows them apart from the reversal lines, as mart_esi_lines has them."""
    _, out = generated_run
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    counts = dict(
        con.execute(
            "select exclusion_reason, count(*) from mart_esi_lines "
            "where exclusion_reason in ('reversal', 'reversed') group by 1"
        ).fetchall()
    )
    con.close()
    assert counts["reversed"] > 0 and counts["reversal"] > counts["reversed"]
    html = (out / "report.html").read_text(encoding="utf-8")
    for reason, n in counts.items():
        shown = re.search(rf'data-k="excluded_{reason}">([^<]*)<', html)
        assert shown and int(shown.group(1).replace(",", "")) == n, reason


def dashed(ndc: str) -> str:
    """A 10-digit dashed form of an 11-digit NDC, when one of its segments has the padding
    zero (4-4-2, 5-3-2, 5-4-1), else the 5-4-2 form with dashes."""
    if ndc[0] == "0":
        return f"{ndc[1:5]}-{ndc[5:9]}-{ndc[9:]}"
    if ndc[5] == "0":
        return f"{ndc[:5]}-{ndc[6:9]}-{ndc[9:]}"
    if ndc[9] == "0":
        return f"{ndc[:5]}-{ndc[5:9]}-{ndc[10]}"
    return f"{ndc[:5]}-{ndc[5:9]}-{ndc[9:]}"


def test_the_product_counts_exactly_the_drugs_the_generator_says_count(tmp_path):
    """The answer key trusts the generator's own drug facts (jobs/synthetic/drugs.py), not
    the product's crosswalk (issue 13). Every one of those NDCs, billed as 11 digits and
    dashed, is conservative care for the product (shipped crosswalk, loader's NDC
    normalizer, value sets) exactly when the facts and the policy say so."""
    facts = drugs.facts()
    starter = reference.read_ndc_crosswalk(reference.value_sets_dir() / reference.STARTER_CROSSWALK)
    assert {r["ndc"] for r in starter} == set(facts)  # the generator knows every drug
    medical = ["claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,"
               "rendering_npi,diagnosis_code_1,paid_amount"]  # fmt: skip
    pharmacy = ["claim_id,claim_line_number,person_id,dispensing_date,ndc_code,paid_amount"]
    persons = {}
    for n, (ndc, form) in enumerate((x, f) for x in facts for f in (x, dashed(x))):
        person = f"P{n:03d}"
        persons[person] = drugs.counts(*facts[ndc])
        medical.append(f"M{n:03d},1,{person},2026-03-07,72141,1234567893,M54.12,300.00")
        medical.append(f"E{n:03d},1,{person},2026-06-15,62321,1234567893,M54.12,190.00")
        pharmacy.append(f"R{n:03d},1,{person},2026-04-16,{form},12.00")
    data = tmp_path / "in"
    data.mkdir()
    (data / "medical_claim.csv").write_text("\n".join(medical) + "\n")
    (data / "pharmacy_claim.csv").write_text("\n".join(pharmacy) + "\n")
    res = run_cli("run", "--input", data, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr[-3000:]
    failing = {
        r["person_id"] for r in rows(tmp_path / "out" / "exceptions.csv")
        if r["rule_id"] == "conservative_care"
    }  # fmt: skip
    assert failing == {p for p, counts in persons.items() if not counts}
    assert {r["rule_id"] for r in rows(tmp_path / "out" / "exceptions.csv")} == {
        "conservative_care"
    }
