"""Bad input: every blocking reason quarantines its row; warnings keep theirs (issue #2)."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

HEADER = [
    "claim_id", "claim_line_number", "person_id", "claim_type", "claim_start_date",
    "claim_end_date", "claim_line_start_date", "hcpcs_code", "rendering_npi",
    "paid_amount", "allowed_amount", "diagnosis_code_1", "diagnosis_code_3", "data_source",
    "social_security_number",
]  # fmt: skip
GOOD_NPI = "1234567893"
BAD_NPI = "1234567890"

# claim_id -> (row overrides, expected blocking reason or None, expected warning or None)
CASES = {
    "ok": ({}, None, None),
    "": ({}, "missing_claim_id", None),
    "noline": ({"claim_line_number": ""}, "missing_claim_line_number", None),
    "badline": ({"claim_line_number": "x1"}, "invalid_claim_line_number", None),
    "noperson": ({"person_id": ""}, "missing_person_id", None),
    "nodate": ({"claim_start_date": "", "claim_line_start_date": ""}, "missing_service_date", None),
    "feb30": ({"claim_line_start_date": "2023-02-30"}, "invalid_service_date", None),
    "enddate": ({"claim_end_date": "2023-13-01"}, "invalid_date", None),
    "hcpcs": ({"hcpcs_code": "9921"}, "malformed_hcpcs_code", None),
    "dx": ({"diagnosis_code_3": "M5$12"}, "malformed_diagnosis_code", None),
    "npi": ({"rendering_npi": BAD_NPI}, "invalid_npi", None),
    "amount": ({"paid_amount": "12,50"}, "invalid_amount", None),
    "dup": ({}, "duplicate_key", None),
    "nonpi": ({"rendering_npi": ""}, None, "missing_rendering_npi"),
    "order": ({"claim_end_date": "2022-12-01"}, None, "dates_out_of_order"),
    "paid": ({"paid_amount": "500", "allowed_amount": "100"}, None, "amounts_inconsistent"),
    "legacy": ({"hcpcs_code": "62310"}, None, "code_not_valid_on_date"),
}


def row(claim_id, **over):
    """A medical-claim line: an ESI line (62321) of its own person, so that every accepted
    row is in the audited cohort the database keeps."""
    base = {
        "claim_id": claim_id, "claim_line_number": "1", "person_id": "p-" + claim_id,
        "claim_type": "professional", "claim_start_date": "2023-01-10",
        "claim_end_date": "2023-01-10", "claim_line_start_date": "2023-01-10",
        "hcpcs_code": "62321", "rendering_npi": GOOD_NPI, "paid_amount": "80.00",
        "allowed_amount": "100.00", "diagnosis_code_1": "M54.12", "diagnosis_code_3": "",
        "data_source": "test", "social_security_number": "123-45-6789",
    }  # fmt: skip
    base.update(over)
    return [base[h] for h in HEADER]


@pytest.fixture(scope="module")
def rejection_run(tmp_path_factory):
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("reject")
    inp = root / "in"
    inp.mkdir()
    rows = [row(f"fill{i}") for i in range(400)]  # keeps the rejected share under 5%
    for claim_id, (over, _, _) in CASES.items():
        rows.append(row(claim_id, **over))
    rows.append(row("dup"))  # the second copy of the duplicated key
    with open(inp / "medical_claim.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
        fh.write("ragged,1,p-ragged,123-45-6789\n")  # too few fields
    good_fills = "".join(f"rx{i},1,p1,2023-01-01,00536-1390-47\n" for i in range(30))
    (inp / "pharmacy_claim.csv").write_text(
        "claim_id,claim_line_number,person_id,dispensing_date,ndc_code\n"
        + good_fills
        + "rxbad,1,p1,2023-01-01,5363\n"
    )
    out = root / "out"
    res = run_cli("run", "--input", inp, "--out", out)
    assert res.returncode == 0, res.stderr[-3000:]
    return out, len(rows) + 1


def rejected(out):
    with open(out / "rejected_rows.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_blocking_reason_is_quarantined_with_its_reason(rejection_run):
    out, n_records = rejection_run
    rows = rejected(out)
    by_claim = {}
    for r in rows:
        if r["table_name"] == "medical_claim" and r["reasons"] != "malformed_record":
            values = json.loads(r["original_values"])
            by_claim.setdefault(values.get("claim_id") or "", []).append(r["reasons"])
    for claim_id, (_, reason, _) in CASES.items():
        if reason is None:
            assert claim_id not in by_claim, (claim_id, by_claim.get(claim_id))
        else:
            assert claim_id in by_claim, claim_id
            assert all(reason in reasons for reasons in by_claim[claim_id]), by_claim[claim_id]
    assert len(by_claim["dup"]) == 2  # every copy of a duplicated key
    # the ragged record: where it is (record and line), never what it says (issue 16)
    (ragged,) = [r for r in rows if r["reasons"] == "malformed_record"]
    assert int(ragged["record_number"]) == n_records
    assert json.loads(ragged["original_values"]) == {
        "lines": str(n_records + 1),
        "error": "missing columns",
        "fields_in_record": 4,
        "fields_in_header": len(HEADER),
    }
    assert f"(line {n_records + 1})" in ragged["details"]
    ndc = [r for r in rows if r["table_name"] == "pharmacy_claim"]
    assert [r["reasons"] for r in ndc] == ["malformed_ndc_code:ndc_code"]


def test_rejected_rows_keep_original_values_but_no_member_identifiers(rejection_run):
    out, _ = rejection_run
    for r in rejected(out):
        assert "123-45-6789" not in r["original_values"]
        assert r["source_file"].endswith(".csv")
        assert int(r["record_number"]) >= 1
    feb30 = [r for r in rejected(out) if '"feb30"' in r["original_values"]]
    assert json.loads(feb30[0]["original_values"])["claim_line_start_date"] == "2023-02-30"


def test_original_values_are_stored_with_zstd(rejection_run):
    """The original values (JSON text) are stored with ZSTD (jobs.validation.quarantine:
    half the write time and a third of the space of DuckDB's default for text), and read
    back as written."""
    out, _ = rejection_run
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    try:
        used = {
            r[0]
            for r in con.execute(
                "select compression from pragma_storage_info('rejected_rows') "
                "where column_name = 'original_values' and segment_type = 'VARCHAR'"
            ).fetchall()
        }
        stored = con.execute(
            "select original_values from rejected_rows order by source_file, record_number"
        ).fetchall()
    finally:
        con.close()
    assert used == {"ZSTD"}
    csv_rows = sorted(rejected(out), key=lambda r: (r["source_file"], int(r["record_number"])))
    assert [v for (v,) in stored] == [r["original_values"] for r in csv_rows]


def test_rows_read_equal_accepted_plus_rejected(rejection_run):
    out, n_rows = rejection_run
    manifest = json.loads((out / "manifest.json").read_text())
    med = [f for f in manifest["inputs"] if f["table"] == "medical_claim"][0]
    assert med["rows_read"] == n_rows
    assert med["rows_read"] == med["rows_accepted"] + med["rows_rejected"]
    n_blocking = sum(1 for _, reason, _ in CASES.values() if reason) + 1 + 1  # dup copy, ragged
    assert med["rows_rejected"] == n_blocking
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    assert con.execute("select count(*) from medical_claim").fetchone()[0] == med["rows_accepted"]


def test_warnings_keep_the_row_and_are_counted(rejection_run):
    """Exactly the planted warnings, each on its row, and no other (issue 13: `hits >= 1`
    passed with a warning raised on every row)."""
    out, _ = rejection_run
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    kept = {r[0] for r in con.execute("select claim_id from medical_claim").fetchall()}
    manifest = json.loads((out / "manifest.json").read_text())
    med = [f for f in manifest["inputs"] if f["table"] == "medical_claim"][0]
    expected = {(claim_id, w) for claim_id, (_, _, w) in CASES.items() if w}
    assert {claim_id for claim_id, _ in expected} <= kept
    warnings = con.execute(
        "select m.claim_id, i.reason, count(*) from row_issues i join medical_claim m "
        "on m.source_file = i.source_file and m.record_number = i.record_number "
        "where i.level = 'warning' and i.table_name = 'medical_claim' group by all"
    ).fetchall()
    assert sorted(warnings) == sorted((claim_id, w, 1) for claim_id, w in expected)
    assert med["rows_with_warnings"] == len(expected)


def test_too_many_rejected_rows_stop_the_run_but_keep_the_evidence(tmp_path, cli):
    inp = tmp_path / "in"
    inp.mkdir()
    with open(inp / "medical_claim.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows([row(f"ok{i}") for i in range(90)])
        w.writerows([row(f"bad{i}", rendering_npi=BAD_NPI) for i in range(10)])
    out = tmp_path / "out"
    res = cli("run", "--input", inp, "--out", out)
    assert res.returncode == 2, res.stderr
    assert "10 of 100 rows rejected" in res.stderr and "invalid_npi" in res.stderr
    assert not (out / "exceptions.csv").exists() and not (out / "audit.duckdb").exists()
    failed = list((out / "failed").iterdir())
    assert len(failed) == 1
    with open(failed[0] / "rejected_rows.csv", newline="") as fh:
        kept = list(csv.DictReader(fh))
    assert len(kept) == 10
    assert json.loads((failed[0] / "manifest.json").read_text())["status"] == "failed"
