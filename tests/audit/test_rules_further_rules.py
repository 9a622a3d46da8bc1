"""Rules of policy section 3: frequency, unbundled guidance, myelopathy, level limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rule_harness import INJECTION_DAY, Audit, days_before

# --- session_frequency ---------------------------------------------------------------


def test_fifth_session_in_365_days_is_flagged(audit: Audit) -> None:
    claims = [audit.esi("62321", day=days_before(d)) for d in (240, 180, 120, 60)]
    assert audit.findings("session_frequency") == set()
    fifth = audit.esi("62321", day=INJECTION_DAY)
    assert audit.findings("session_frequency") == {(fifth, 1, "session_frequency", "fail")}
    # the four earlier sessions were audited and counted: the fifth is number 5
    (checked,) = audit.con.execute(
        "select lines_checked from rule_stats where rule_id = 'session_frequency'"
    ).fetchone()
    assert (len(set(claims)), checked) == (4, 5)
    assert "is number 5 " in audit.rows("session_frequency")[0]["evidence"]


@pytest.mark.parametrize(("first_session_days", "flagged"), [(364, True), (365, False)])
def test_window_is_date_minus_364_through_date(
    audit: Audit, first_session_days: int, flagged: bool
) -> None:
    for d in (first_session_days, 300, 200, 100):
        audit.esi("62321", day=days_before(d))
    last = audit.esi("62321", day=INJECTION_DAY)
    expected = {(last, 1, "session_frequency", "fail")} if flagged else set()
    assert audit.findings("session_frequency") == expected


def test_flagged_sessions_count_toward_later_windows_and_every_line_is_flagged(
    audit: Audit,
) -> None:
    for d in (300, 250, 200, 150):
        audit.esi("62321", day=days_before(d))
    fifth = audit.esi("62321", day=days_before(100))
    sixth_a = audit.esi("64479", day=INJECTION_DAY)
    sixth_b = audit.esi("64479", day=INJECTION_DAY, claim_type="institutional")
    assert audit.findings("session_frequency") == {
        (fifth, 1, "session_frequency", "fail"),
        (sixth_a, 1, "session_frequency", "fail"),
        (sixth_b, 1, "session_frequency", "fail"),
    }
    rows = {r["claim_id"]: r for r in audit.rows("session_frequency")}
    assert rows[sixth_a]["evidence"] == (
        "session 2026-06-15 is number 6 in the 365 days 2025-06-16..2026-06-15 "
        "(first 2025-08-19); limit 4"
    )


def test_several_lines_one_day_are_one_session(audit: Audit) -> None:
    for d in (240, 180, 120):
        audit.esi("62321", day=days_before(d))
        audit.esi("64479", day=days_before(d))
    audit.esi("62321", day=INJECTION_DAY)
    assert audit.findings("session_frequency") == set()


def test_max_sessions_parameter(audit: Audit) -> None:
    audit.esi("62321", day=days_before(100))
    last = audit.esi("62321", day=INJECTION_DAY)
    assert audit.findings("session_frequency", max_sessions_per_12_months=1) == {
        (last, 1, "session_frequency", "fail")
    }


# --- guidance_unbundled --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "day", "flagged"),
    [
        ("62321", dt.date(2016, 12, 31), False),
        ("62321", dt.date(2017, 1, 1), True),
        ("62325", dt.date(2017, 1, 1), True),
        ("64479", dt.date(2010, 12, 31), False),
        ("64479", dt.date(2011, 1, 1), True),
        ("62310", dt.date(2016, 6, 1), False),
        ("62320", dt.date(2018, 6, 1), False),
        ("0228T", dt.date(2018, 6, 1), False),
    ],
)
def test_guidance_unbundled_dates_and_codes(
    audit: Audit, code: str, day: dt.date, flagged: bool
) -> None:
    audit.esi(code, day=day)
    guidance = audit.line(
        "77003", day=day, hcpcs_modifier_1="TC", paid=12.5, rendering_npi="1000000004"
    )
    expected = {(guidance, 1, "guidance_unbundled", "fail")} if flagged else set()
    assert audit.findings("guidance_unbundled") == expected


def test_guidance_unbundled_row_is_the_guidance_line(audit: Audit) -> None:
    esi_claim = audit.esi("64479", paid=300.0)
    audit.esi("64480", claim_id=esi_claim, line=2)
    guidance = audit.line(
        "77012",
        claim_type="institutional",
        hcpcs_modifier_2="26",
        paid=0.0,
        rendering_npi="1000000004",
    )
    audit.line("77003", claim_id=guidance, line=2, paid=-5.0)  # reversal: not flagged
    audit.line("77003", claim_id=guidance, line=3, paid=None)
    found = audit.findings("guidance_unbundled")
    assert found == {
        (guidance, 1, "guidance_unbundled", "fail"),
        (guidance, 3, "guidance_unbundled", "fail"),
    }
    rows = {r["claim_line_number"]: r for r in audit.rows("guidance_unbundled")}
    assert (rows[1]["rendering_npi"], rows[1]["paid_amount"], rows[1]["hcpcs_code"]) == (
        "1000000004",
        Decimal("0.00"),
        "77012",
    )
    assert rows[1]["severity"] == "medium"
    assert rows[1]["evidence"] == (
        f"77012 billed on 2026-06-15 with 64479 (claim {esi_claim}), "
        "which includes imaging guidance since 2011-01-01"
    )


def test_one_finding_per_guidance_line_with_several_esi_lines(audit: Audit) -> None:
    audit.esi("62321")
    audit.esi("64479")
    guidance = audit.line("77003")
    assert audit.findings("guidance_unbundled") == {(guidance, 1, "guidance_unbundled", "fail")}


def test_guidance_with_thoracic_or_other_persons_injection_is_not_unbundled(audit: Audit) -> None:
    audit.esi("62321", dx=("M5414",))
    audit.line("77003")
    audit.esi("62321", person="P2")
    assert audit.findings("guidance_unbundled") == set()


# --- myelopathy_review ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("dx", "flagged"),
    [
        ("M5001", True),
        ("M4712", True),
        ("G9520", True),
        ("G992", True),
        ("M4722", False),
        ("G9519", False),
    ],
)
def test_myelopathy_review(audit: Audit, dx: str, flagged: bool) -> None:
    audit.clean_history()
    claim = audit.esi("62321", dx=("M5412", dx))
    expected = {(claim, 1, "myelopathy_review", "review")} if flagged else set()
    assert audit.findings("myelopathy_review") == expected
    if flagged:
        (row,) = audit.rows("myelopathy_review")
        assert row["severity"] == "review"
        assert dx in row["evidence"]


# --- interlaminar_levels -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ({}, False),
        ({"service_unit_quantity": 1}, False),
        ({"service_unit_quantity": 0}, False),
        ({"service_unit_quantity": 2}, True),
        ({"hcpcs_modifier_2": "50"}, True),
        ({"hcpcs_code": "62320", "service_unit_quantity": 2}, True),
        ({"hcpcs_code": "62325", "service_unit_quantity": 2}, False),  # catheter: not interlaminar
        ({"claim_type": "institutional", "service_unit_quantity": 2}, False),
        ({"claim_type": None, "service_unit_quantity": 2}, True),
    ],
)
def test_interlaminar_line_limits(audit: Audit, line: dict, flagged: bool) -> None:
    code = line.pop("hcpcs_code", "62321")
    claim = audit.esi(code, **line)
    expected = {(claim, 1, "interlaminar_levels", "fail")} if flagged else set()
    assert audit.findings("interlaminar_levels") == expected


def test_two_interlaminar_lines_in_a_session_flag_both(audit: Audit) -> None:
    first = audit.esi("62321")
    second = audit.esi("62310", hcpcs_modifier_1="50")
    audit.esi("62321", day=days_before(1))  # another session
    assert audit.findings("interlaminar_levels") == {
        (first, 1, "interlaminar_levels", "fail"),
        (second, 1, "interlaminar_levels", "fail"),
    }
    rows = {r["claim_id"]: r for r in audit.rows("interlaminar_levels")}
    assert rows[second]["evidence"] == (
        "bilateral modifier; 2 interlaminar lines in the session on 2026-06-15: "
        "one interlaminar level per session, "
        "not bilateral"
    )


def test_facility_line_of_the_same_injection_is_not_a_second_level(audit: Audit) -> None:
    audit.esi("62321")
    audit.esi("62321", claim_type="institutional")
    assert audit.findings("interlaminar_levels") == set()


# --- transforaminal_levels -----------------------------------------------------------


def tf(audit: Audit, code: str, claim: str | None = None, line: int = 1, **columns) -> str:
    return audit.esi(code, claim_id=claim, line=line, **columns)


def test_three_levels_on_one_side_flags_primary_only(audit: Audit) -> None:
    claim = tf(audit, "64479", hcpcs_modifier_1="RT")
    tf(audit, "64480", claim, 2, hcpcs_modifier_1="RT", service_unit_quantity=2)
    assert audit.findings("transforaminal_levels") == {(claim, 1, "transforaminal_levels", "fail")}
    assert audit.rows("transforaminal_levels")[0]["evidence"] == (
        "transforaminal levels in the session on 2026-06-15: right 3, left 0; at most 2 per side"
    )


def test_two_levels_each_side_pass(audit: Audit) -> None:
    claim = tf(audit, "64479", hcpcs_modifier_1="RT")
    tf(audit, "64480", claim, 2, hcpcs_modifier_1="RT")
    tf(audit, "64479", claim, 3, hcpcs_modifier_1="LT")
    tf(audit, "64480", claim, 4, hcpcs_modifier_2="LT")
    assert audit.findings("transforaminal_levels") == set()


@pytest.mark.parametrize(
    ("modifiers", "addon_units", "flagged"),
    [
        ({"hcpcs_modifier_1": "50"}, 2, True),
        ({"hcpcs_modifier_1": "50"}, 1, False),
        ({}, 2, True),  # no side modifier counts both sides
        ({}, 1, False),
        ({"hcpcs_modifier_1": "RT", "hcpcs_modifier_2": "LT"}, 2, True),
    ],
)
def test_bilateral_and_unsided_lines_count_on_both_sides(
    audit: Audit, modifiers: dict, addon_units: int, flagged: bool
) -> None:
    claim = tf(audit, "64479", **modifiers)
    tf(audit, "64480", claim, 2, service_unit_quantity=addon_units, **modifiers)
    expected = {(claim, 1, "transforaminal_levels", "fail")} if flagged else set()
    assert audit.findings("transforaminal_levels") == expected


def test_bilateral_single_level_is_one_level_per_side(audit: Audit) -> None:
    tf(audit, "64479", hcpcs_modifier_1="50")
    tf(audit, "64479", hcpcs_modifier_1="RT")
    assert audit.findings("transforaminal_levels") == set()


def test_levels_count_across_claims_and_flag_every_audited_line(audit: Audit) -> None:
    first = tf(audit, "64479", hcpcs_modifier_1="RT", service_unit_quantity=0)
    tf(audit, "64480", first, 2, hcpcs_modifier_1="RT", service_unit_quantity=None)
    standalone_addon = tf(audit, "64480", hcpcs_modifier_1="RT")
    left = tf(audit, "64479", hcpcs_modifier_1="LT")
    ultrasound = tf(audit, "0228T", hcpcs_modifier_1="RT")
    assert audit.findings("transforaminal_levels") == {
        (first, 1, "transforaminal_levels", "fail"),
        (standalone_addon, 1, "transforaminal_levels", "fail"),
        (left, 1, "transforaminal_levels", "fail"),
    }
    # the 0228T line is audited (imaging_guidance fails it) but is not a level
    assert audit.findings("imaging_guidance") == {(ultrasound, 1, "imaging_guidance", "fail")}


def test_facility_lines_are_not_levels(audit: Audit) -> None:
    pro = tf(audit, "64479", hcpcs_modifier_1="RT")
    tf(audit, "64480", pro, 2, hcpcs_modifier_1="RT")
    facility = tf(audit, "64479", hcpcs_modifier_1="RT", claim_type="institutional")
    tf(audit, "64480", facility, 2, hcpcs_modifier_1="RT", claim_type="institutional")
    assert audit.findings("transforaminal_levels") == set()


def test_ultrasound_levels_do_not_count(audit: Audit) -> None:
    claim = tf(audit, "0228T", hcpcs_modifier_1="RT")
    tf(audit, "0229T", claim, 2, hcpcs_modifier_1="RT", service_unit_quantity=3)
    tf(audit, "64479", hcpcs_modifier_1="RT")
    assert audit.findings("transforaminal_levels") == set()
