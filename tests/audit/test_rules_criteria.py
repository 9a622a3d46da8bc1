"""The four criteria of policy section 2, at their boundaries."""

from __future__ import annotations

import datetime as dt

import pytest
from rule_harness import INJECTION_DAY, Audit, supplied_crosswalk

CLEAN = set()


def test_clean_line_has_no_finding(audit: Audit) -> None:
    audit.clean_history()
    audit.esi("62321")
    assert audit.findings() == CLEAN


# --- qualifying_dx (2.1) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("diagnoses", "qualifies"),
    [
        (("M5412",), True),
        (("M50122",), True),  # M50.1 covers M50.122
        (("M501",), True),
        (("M5013",), True),
        (("M5020",), False),  # M50.2x is non-radicular
        (("M542",), False),  # cervicalgia
        (("M47812",), False),
        (("G4486",), False),
        (("G55",), True),
        (("M961",), True),
        (("B0223",), True),
        (("B021",), False),  # zoster meningitis is not in the list
        (("G9612",), True),
        (("I10", "E119"), False),
    ],
)
def test_qualifying_dx_by_prefix(audit: Audit, diagnoses: tuple[str, ...], qualifies: bool) -> None:
    audit.clean_history()
    claim = audit.esi("62321", dx=diagnoses)
    expected = set() if qualifies else {(claim, 1, "qualifying_dx", "fail")}
    assert audit.findings("qualifying_dx") == expected


def test_qualifying_dx_evidence_names_neck_pain_and_diagnoses(audit: Audit) -> None:
    audit.clean_history()
    audit.esi("62321", dx=("M542", "I10"))
    audit.run()
    (row,) = audit.rows("qualifying_dx")
    assert row["evidence"] == (
        "only non-radicular neck pain (M542), no qualifying radicular diagnosis on the claim; "
        "claim diagnoses: M542, I10"
    )
    assert row["severity"] == "high"


def test_qualifying_dx_reads_every_line_and_position_of_the_claim(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("62321", dx=("M542",))
    audit.line("J1040", claim_id=claim, line=2, dx=("M542",), diagnosis_code_25="M5413")
    other = audit.esi("62321", dx=("M542",), day=INJECTION_DAY)
    assert audit.findings("qualifying_dx") == {(other, 1, "qualifying_dx", "fail")}


@pytest.mark.parametrize("exempt_code", ["G8912", "G8918"])
def test_postprocedural_pain_is_exempt_and_counted(audit: Audit, exempt_code: str) -> None:
    audit.clean_history()
    audit.esi("62321", dx=("M542", exempt_code))
    assert audit.findings("qualifying_dx") == set()
    stats = {s.rule_id: s for s in audit.run()}
    assert (stats["qualifying_dx"].lines_checked, stats["qualifying_dx"].lines_exempt) == (1, 1)
    assert stats["conservative_care"].lines_exempt == 0


@pytest.mark.parametrize(
    ("diagnoses", "requires_radicular", "qualifies"),
    [
        (("M4802",), False, True),
        (("M4802",), True, False),
        (("M9931",), True, False),
        (("M4802", "M5412"), True, True),
        (("M4802", "G55"), True, True),
        (("M4802", "M4723"), True, True),
    ],
)
def test_stenosis_requires_radicular_dx(
    audit: Audit, diagnoses: tuple[str, ...], requires_radicular: bool, qualifies: bool
) -> None:
    audit.clean_history()
    claim = audit.esi("62321", dx=diagnoses)
    found = audit.findings("qualifying_dx", stenosis_requires_radicular_dx=requires_radicular)
    assert found == (set() if qualifies else {(claim, 1, "qualifying_dx", "fail")})
    if not qualifies:
        assert audit.rows("qualifying_dx")[0]["evidence"].startswith(
            f"stenosis {diagnoses[0]} without"
        )


# --- conservative_care (2.2) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("care_days", "passes"),
    [(41, False), (42, True), (179, True), (180, True), (181, False), (0, False)],
)
def test_conservative_care_boundaries(audit: Audit, care_days: int, passes: bool) -> None:
    audit.imaging(100)
    audit.care(care_days)
    claim = audit.esi("62321")
    expected = set() if passes else {(claim, 1, "conservative_care", "fail")}
    assert audit.findings("conservative_care") == expected


def test_conservative_care_evidence_too_late(audit: Audit) -> None:
    audit.imaging(100)
    audit.care(19)
    audit.care(181)  # outside the window: does not make care begin earlier
    audit.esi("62321")
    audit.run()
    (row,) = audit.rows("conservative_care")
    assert (
        row["evidence"]
        == "first conservative care 2026-05-27 (PT 97110), 19 days before injection; 42 required"
    )


def test_conservative_care_evidence_none(audit: Audit) -> None:
    audit.imaging(100)
    audit.esi("62321")
    audit.run()
    (row,) = audit.rows("conservative_care")
    assert row["evidence"] == "no conservative care 2025-12-17..2026-06-14; 42 days required"
    assert row["status"] == "fail"


def test_conservative_min_days_parameter(audit: Audit) -> None:
    audit.imaging(100)
    audit.care(30)
    audit.esi("62321")
    assert audit.findings("conservative_care", conservative_min_days=28) == set()
    assert len(audit.findings("conservative_care")) == 1


@pytest.mark.parametrize(
    "care_line",
    [
        {"code": "97799", "hcpcs_modifier_3": "GP"},
        {"code": "97799", "hcpcs_modifier_5": "GO"},
        {"code": "97799", "revenue_center_code": "0424", "claim_type": "institutional"},
        {"code": "98941"},
        {"code": "98926"},
        {"code": "97166"},
        {"code": "E0849"},
        {"code": "L0150"},
        {"code": "L0200"},
        {"code": "98977"},
        {"code": "G0283"},
    ],
)
def test_conservative_care_kinds(audit: Audit, care_line: dict) -> None:
    audit.imaging(100)
    audit.care(60, **care_line)
    audit.esi("62321")
    assert audit.findings("conservative_care") == set()


@pytest.mark.parametrize("not_care", ["L0210", "97760", "99213"])
def test_codes_outside_conservative_care(audit: Audit, not_care: str) -> None:
    audit.imaging(100)
    audit.care(60, code=not_care)
    claim = audit.esi("62321")
    assert audit.findings("conservative_care") == {(claim, 1, "conservative_care", "fail")}


@pytest.mark.parametrize("dx", ["B0229", "B029", "B020"])
def test_herpes_zoster_exempts_conservative_care(audit: Audit, dx: str) -> None:
    audit.imaging(100)
    audit.esi("62321", dx=(dx, "M5412"))
    assert audit.findings("conservative_care") == set()
    stats = {s.rule_id: s for s in audit.run()}
    assert stats["conservative_care"].lines_exempt == 1


@pytest.mark.parametrize(
    "procedure",
    [
        {"code": "97110"},
        {"code": None, "normalized_code": "98940"},
        {"code": "LOCAL123", "normalized_code": "97140"},
        {"code": "97799", "modifier_2": "GP"},
    ],
)
def test_ehr_procedure_is_conservative_care_evidence(audit: Audit, procedure: dict) -> None:
    audit.imaging(100)
    code = procedure.pop("code")
    audit.procedure(code, 60, **procedure)
    audit.esi("62321")
    assert audit.findings("conservative_care") == set()


@pytest.mark.parametrize(
    ("ndc", "counts"),
    [
        ("65862019801", True),  # gabapentin capsule, oral
        ("00591505201", True),  # prednisone tablet, oral
        ("63323016501", False),  # dexamethasone sodium phosphate injection
        ("65162083366", True),  # diclofenac topical gel: an NSAID (policy 1.1)
        ("99999999999", False),  # not in the crosswalk
    ],
)
def test_pharmacy_evidence_through_crosswalk(audit: Audit, ndc: str, counts: bool) -> None:
    audit.imaging(100)
    audit.fill(ndc, 60)
    claim = audit.esi("62321")
    expected = set() if counts else {(claim, 1, "conservative_care", "fail")}
    assert audit.findings("conservative_care") == expected


def test_pharmacy_evidence_text(audit: Audit) -> None:
    audit.imaging(100)
    audit.fill("65862019801", 20)
    audit.esi("62321")
    audit.run()
    assert audit.rows("conservative_care")[0]["evidence"].startswith(
        "first conservative care 2026-05-26 (Rx gabapentin 65862019801), 20 days"
    )


def test_supplied_crosswalk_replaces_starter(audit: Audit, tmp_path) -> None:
    crosswalk = supplied_crosswalk(tmp_path)
    audit.imaging(100)
    audit.fill("12345678901", 60, person="P1")
    audit.fill("65862019801", 60, person="P2")  # in the starter only
    audit.imaging(100, person="P2")
    audit.esi("62321", person="P1")
    p2 = audit.esi("62321", person="P2")
    assert audit.findings("conservative_care", ndc_crosswalk=crosswalk) == {
        (p2, 1, "conservative_care", "fail")
    }


# --- prior_imaging (2.3) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("imaging_days", "passes"),
    [(730, True), (731, False), (0, True), (-1, False), (365, True)],
)
def test_prior_imaging_boundaries(audit: Audit, imaging_days: int, passes: bool) -> None:
    audit.care(60)
    audit.imaging(imaging_days)
    claim = audit.esi("62321")
    expected = set() if passes else {(claim, 1, "prior_imaging", "fail")}
    assert audit.findings("prior_imaging") == expected


@pytest.mark.parametrize(
    "code", ["72142", "72156", "72125", "72126", "72127", "72240", "62302", "62305"]
)
def test_prior_imaging_codes(audit: Audit, code: str) -> None:
    audit.care(60)
    audit.imaging(200, code=code)
    audit.esi("62321")
    assert audit.findings("prior_imaging") == set()


def test_radiograph_does_not_count_but_is_shown(audit: Audit) -> None:
    audit.care(60)
    audit.imaging(800, code="72141")
    audit.imaging(30, code="72040")
    audit.esi("62321")
    audit.run()
    (row,) = audit.rows("prior_imaging")
    assert row["evidence"] == (
        "no cervical MRI/CT/myelogram 2024-06-15..2026-06-15; "
        "latest spine imaging: 2026-05-16 (spine radiograph 72040)"
    )


def test_prior_imaging_evidence_none(audit: Audit) -> None:
    audit.care(60)
    audit.esi("62321")
    audit.run()
    assert audit.rows("prior_imaging")[0]["evidence"] == (
        "no cervical MRI/CT/myelogram 2024-06-15..2026-06-15; latest spine imaging: none"
    )


@pytest.mark.parametrize(("accepts_emg", "passes"), [(False, False), (True, True)])
def test_imaging_accepts_emg(audit: Audit, accepts_emg: bool, passes: bool) -> None:
    audit.care(60)
    audit.imaging(90, code="95886")
    claim = audit.esi("62321")
    expected = set() if passes else {(claim, 1, "prior_imaging", "fail")}
    assert audit.findings("prior_imaging", imaging_accepts_emg=accepts_emg) == expected


def test_ehr_procedure_is_imaging_evidence(audit: Audit) -> None:
    audit.care(60)
    audit.procedure("72141", 400)
    audit.esi("62321")
    assert audit.findings("prior_imaging") == set()


# --- imaging_guidance (2.4) ----------------------------------------------------------

JAN_2011 = dt.date(2011, 1, 1)
DEC_2010 = dt.date(2010, 12, 31)


@pytest.mark.parametrize("code", ["62320", "62324", "0228T"])
def test_codes_without_qualifying_guidance_fail_even_with_77003(audit: Audit, code: str) -> None:
    audit.clean_history()
    claim = audit.esi(code)
    audit.line("77003", claim_id=claim, line=2)
    assert audit.findings("imaging_guidance") == {(claim, 1, "imaging_guidance", "fail")}


@pytest.mark.parametrize("code", ["62321", "62325", "64479"])
def test_codes_with_guidance_built_in_pass(audit: Audit, code: str) -> None:
    audit.clean_history()
    audit.esi(code)
    assert audit.findings("imaging_guidance") == set()


@pytest.mark.parametrize("legacy", ["62310", "62318"])
@pytest.mark.parametrize("guidance", ["none", "same_claim", "other_claim", "other_day", "77012"])
def test_legacy_codes_need_guidance_the_same_day(audit: Audit, legacy: str, guidance: str) -> None:
    day = dt.date(2016, 5, 2)
    audit.clean_history(before=day)
    claim = audit.esi(legacy, day=day)
    if guidance == "same_claim":
        audit.line("77003", claim_id=claim, line=2, day=day)
    elif guidance == "other_claim":
        audit.line("77003", day=day, claim_type="institutional")
    elif guidance == "other_day":
        audit.line("77003", day=day + dt.timedelta(days=1))
    elif guidance == "77012":
        audit.line("77012", day=day, hcpcs_modifier_1="26")
    passes = guidance in ("same_claim", "other_claim", "77012")
    expected = set() if passes else {(claim, 1, "imaging_guidance", "fail")}
    assert audit.findings("imaging_guidance") == expected


def test_legacy_code_after_deletion_is_audited_the_same_way(audit: Audit) -> None:
    audit.clean_history()
    claim = audit.esi("62310")
    assert audit.findings("imaging_guidance") == {(claim, 1, "imaging_guidance", "fail")}


@pytest.mark.parametrize(
    ("day", "with_guidance", "passes"),
    [(DEC_2010, False, False), (DEC_2010, True, True), (JAN_2011, False, True)],
)
def test_64479_guidance_built_in_from_2011(
    audit: Audit, day: dt.date, with_guidance: bool, passes: bool
) -> None:
    audit.clean_history(before=day)
    claim = audit.esi("64479", day=day)
    if with_guidance:
        audit.line("77003", day=day)
    expected = set() if passes else {(claim, 1, "imaging_guidance", "fail")}
    assert audit.findings("imaging_guidance") == expected


def test_reversed_guidance_line_is_not_guidance(audit: Audit) -> None:
    day = dt.date(2016, 5, 2)
    audit.clean_history(before=day)
    claim = audit.esi("62310", day=day)
    audit.line("77003", day=day, paid=-25.0)
    assert audit.findings("imaging_guidance") == {(claim, 1, "imaging_guidance", "fail")}
