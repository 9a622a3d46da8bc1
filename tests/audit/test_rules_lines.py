"""What is audited (policy section 1): add-on folding, thoracic exclusion, reversals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rule_harness import INJECTION_DAY, Audit

NEXT_DAY = INJECTION_DAY + dt.timedelta(days=1)


def esi_line_status(audit: Audit) -> dict[tuple[str, int], tuple]:
    rows = audit.con.execute(
        "select claim_id, claim_line_number, exclusion_reason, folded_into_line_number, "
        "audited_paid_amount "
        "from mart_esi_lines"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_addon_folds_into_primary_amount_summed(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("64479", dx=("M542",), paid=100.0)
    audit.esi("64480", claim_id=claim, line=2, dx=("M542",), paid=50.0)
    assert audit.findings() == {(claim, 1, "qualifying_dx", "fail")}
    (row,) = audit.rows("qualifying_dx")
    assert (row["hcpcs_code"], row["paid_amount"]) == ("64479", Decimal("150.00"))
    assert esi_line_status(audit)[(claim, 2)] == ("folded_addon", 1, None)


def test_addon_prefers_same_date_primary_then_lowest_line(audit: Audit) -> None:
    audit.clean_history()
    audit.clean_history(before=NEXT_DAY)
    claim = audit.esi("64479", claim_line_start_date=INJECTION_DAY, dx=("M542",))
    audit.esi("64479", claim_id=claim, line=2, claim_line_start_date=NEXT_DAY, dx=("M542",))
    audit.esi(
        "64480", claim_id=claim, line=3, claim_line_start_date=NEXT_DAY, dx=("M542",), paid=7.0
    )
    later = audit.next_claim_id()
    audit.esi("64479", claim_id=later, line=2, claim_line_start_date=INJECTION_DAY, dx=("M542",))
    audit.esi("64479", claim_id=later, line=3, claim_line_start_date=NEXT_DAY, dx=("M542",))
    audit.esi(
        "64480",
        claim_id=later,
        line=4,
        claim_line_start_date=NEXT_DAY + dt.timedelta(days=1),
        dx=("M542",),
    )
    audit.run()
    status = esi_line_status(audit)
    assert status[(claim, 3)][:2] == ("folded_addon", 2)
    assert status[(claim, 2)] == (None, None, Decimal("107.00"))
    assert status[(later, 4)][:2] == ("folded_addon", 2)


def test_addon_without_primary_is_audited_alone(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("64480", dx=("M542",))
    audit.esi("64479", dx=("M542",))  # another claim: not a primary for it
    found = audit.findings("qualifying_dx")
    assert (claim, 1, "qualifying_dx", "fail") in found
    assert audit.findings("imaging_guidance") == set()


def test_0229t_folds_into_0228t(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("0228T", paid=80.0)
    audit.esi("0229T", claim_id=claim, line=2, paid=20.0)
    assert audit.findings() == {(claim, 1, "imaging_guidance", "fail")}
    assert audit.rows("imaging_guidance")[0]["paid_amount"] == Decimal("100.00")


def test_addon_of_a_reversed_primary_is_audited_alone(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("64479", paid=-100.0, dx=("M542",))
    audit.esi("64480", claim_id=claim, line=2, paid=50.0, dx=("M542",))
    assert audit.findings("qualifying_dx") == {(claim, 2, "qualifying_dx", "fail")}


def test_thoracic_only_claim_is_excluded_from_every_rule(audit: Audit) -> None:
    claim = audit.esi("62320", dx=("M5414", "M546"), service_unit_quantity=3)
    audit.line("77003", claim_id=claim, line=2, dx=("M546",))
    assert audit.findings() == set()
    assert esi_line_status(audit)[(claim, 1)][0] == "thoracic"


def test_cervical_diagnosis_on_another_line_makes_the_claim_mixed(audit: Audit) -> None:
    claim = audit.esi("62320", dx=("M5414",))
    audit.line("77003", claim_id=claim, line=2, dx=("M5412",))
    assert (claim, 1, "imaging_guidance", "fail") in audit.findings()


def test_thoracic_sessions_do_not_count_toward_frequency(audit: Audit) -> None:
    for days in (300, 240, 180, 120):
        audit.esi("62321", day=INJECTION_DAY - dt.timedelta(days=days), dx=("M4804",))
    claim = audit.esi("62321")
    assert audit.findings("session_frequency") == set()
    assert esi_line_status(audit)[(claim, 1)][0] is None


def test_mixed_and_cervicothoracic_claims_are_audited(audit: Audit) -> None:
    mixed = audit.esi("62320", dx=("M5414", "M5412"))
    cervicothoracic = audit.esi("62320", dx=("M5413",))
    stenosis = audit.esi("62320", dx=("M4804", "M4803"))
    found = audit.findings("imaging_guidance")
    assert found == {(c, 1, "imaging_guidance", "fail") for c in (mixed, cervicothoracic, stenosis)}


def test_claim_without_spine_diagnosis_is_audited(audit: Audit) -> None:
    claim = audit.esi("62321", dx=("I10",))
    assert (claim, 1, "qualifying_dx", "fail") in audit.findings()


def test_reversal_is_neither_audited_nor_evidence(audit: Audit) -> None:
    audit.care(60, paid=-40.0)  # reversed PT visit
    audit.imaging(100)
    reversed_esi = audit.esi("62320", paid=-300.0)
    claim = audit.esi("62321")
    assert audit.findings() == {(claim, 1, "conservative_care", "fail")}
    assert esi_line_status(audit)[(reversed_esi, 1)][0] == "reversal"


def test_reversed_pharmacy_fill_is_not_evidence(audit: Audit) -> None:
    audit.imaging(100)
    audit.fill("65862019801", 60, paid=-12.0)
    claim = audit.esi("62321")
    assert audit.findings("conservative_care") == {(claim, 1, "conservative_care", "fail")}


def test_zero_paid_line_is_audited(audit: Audit) -> None:
    claim = audit.esi("62320", paid=0.0)
    assert (claim, 1, "imaging_guidance", "fail") in audit.findings()


def test_missing_data_source_is_one_source(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("64479", data_source=None, paid=10.0, dx=("M542",))
    audit.esi("64480", claim_id=claim, line=2, data_source=None, paid=5.0, dx=("M542",))
    audit.run()
    (row,) = audit.rows("qualifying_dx")
    assert (row["claim_line_number"], row["paid_amount"]) == (1, Decimal("15.00"))
