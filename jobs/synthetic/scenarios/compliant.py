"""Scenarios: compliant: no findings at all."""

from __future__ import annotations

from datetime import date

from jobs.synthetic.scenarios.model import (
    CERVICOTHORACIC_DX,
    CHIRO,
    CT_MYELO,
    HERPES_QUAL_DX,
    LUMBAR_DX,
    MRI,
    NECK_PAIN_DX,
    OTHER_CC,
    OTHER_DX,
    POSTPROC_DX,
    PRE2011,
    PRE2017,
    PT_EVAL,
    PT_VISIT,
    STENOSIS_DX,
    THORACIC_DX,
    UNLISTED_THERAPY,
    L,
    Scenario,
    Span,
    on,
    sessions_of,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("ok_interlaminar", "guided interlaminar 62321 after PT and MRI", "2, 3", weight=12)
        .history()
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_catheter", "guided catheter 62325 after PT and MRI", "2, 3", weight=4)
        .history()
        .esi("inj", 0, [L("62325")]),

        Scenario("ok_tf_one_level", "transforaminal 64479 one level, one side", "2, 3", weight=10)
        .history()
        .esi("inj", 0, [L("64479", ["RT", "LT"])]),

        Scenario("ok_tf_two_levels", "64479 LT + 64480 LT: two levels, the limit", "3", weight=6)
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT")]),

        Scenario("ok_tf_bilateral_2_2", "64479+64480 on both sides: two levels per side", "3",
            weight=2)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT"), L("64479", "LT"), L("64480", "LT")]),

        Scenario("ok_tf_bilateral_mod50", "64479-50: bilateral single level = 1", "3", weight=2)
        .history()
        .esi("inj", 0, [L("64479", "50")]),

        Scenario("ok_with_facility", "62321 and its facility claim", "1, 3", weight=6)
        .history()
        .esi("inj", 0, [L("62321")])
        .facility("fac", 0, [L("62321")]),

        Scenario("ok_facility_units_not_levels", "the facility claim repeats 62321 with units 2",
            "3 (level rules: professional lines only)", weight=2)
        .history()
        .esi("inj", 0, [L("62321")])
        .facility("fac", 0, [L("62321", units="2")]),

        Scenario("ok_tf_facility_not_counted", "2 right levels, repeated on a facility claim",
            "3 (level rules: professional lines only)", weight=2)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT")])
        .facility("fac", 0, [L("64479", "RT"), L("64480", "RT")]),

        sessions_of(
            Scenario("ok_four_sessions_in_year", "4 sessions in 270 days: at the limit", "3",
                weight=3),
            "62321", [0, 90, 180, 270],
        ),

        sessions_of(
            Scenario("ok_fifth_session_365_days_after_first",
                "5 sessions, the 5th 365 days after the 1st: its window holds 4", "3 boundary"),
            "62321", [0, 91, 182, 273, 365],
        ),

        Scenario("ok_ehr_only_evidence", "PT and MRI only in the EHR procedure extract", "2.2, 2.3",
            weight=2)
        .ehr_proc((-170, -45), PT_EVAL)
        .ehr_proc((-40, -10), PT_VISIT)
        .ehr_proc((-700, -5), MRI)
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_oral_drug_only", "the only conservative care: an oral crosswalk drug", "2.2",
            weight=2)
        .drug((-170, -45))
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "LT")]),

        Scenario("ok_dashed_ndc_fill", "the only fill carries a 10-digit dashed NDC", "2.2; NDCs")
        .drug((-170, -45), dashed=True)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_chiropractic", "chiropractic manipulation as the conservative care", "2.2",
            weight=2)
        .cc((-170, -45), CHIRO, "chiro")
        .cc((-30, -10), CHIRO, "chiro")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_other_conservative_care", "OT, osteopathic, traction, collar or RTM", "2.2")
        .cc((-170, -45), OTHER_CC)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62325")]),

        Scenario("ok_pt_revenue_code_only", "outpatient PT known only by revenue codes 042x", "2.2")
        .claim("ptrev", (-170, -45), [L(None, revenue="0420"), L(None, revenue="0424")],
               role="pt", claim_type="institutional")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_pt_modifier_only", "an unlisted therapy code billed with GP or GO", "2.2")
        .claim("ptmod", (-170, -45), [L(UNLISTED_THERAPY, ["GP", "GO"])], role="pt")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT")]),

        Scenario("ok_cc_exactly_42_days", "PT starts exactly 42 days before", "2.2 boundary")
        .pt(-42, -35, -28)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_cc_exactly_180_days", "the only care is 180 days before (window start)",
            "2.2 boundary")
        .pt(-180)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_imaging_exactly_730_days", "the only MRI is 730 days before", "2.3 boundary")
        .pt((-170, -45))
        .imaging(-730)
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_imaging_on_injection_day", "the only MRI is on the injection day",
            "2.3 boundary")
        .pt((-170, -45))
        .imaging(0)
        .esi("inj", 0, [L("64479", "LT")]),

        Scenario("ok_ct_or_myelography", "cervical CT or myelography instead of MRI", "2.3")
        .pt((-170, -45))
        .imaging((-700, -5), CT_MYELO)
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_herpes_zoster_no_cc", "acute zoster, neuro involvement: no care needed",
            "2.1, 2.2 (exempt)")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")], dx=[HERPES_QUAL_DX, OTHER_DX]),

        Scenario("ok_postprocedural_exempt", "G89.12/G89.18 with only non-radicular neck pain",
            "2.1 (exempt)")
        .history()
        .esi("inj", 0, [L("62321")], dx=[POSTPROC_DX, NECK_PAIN_DX]),

        Scenario("ok_stenosis_dx", "a cervical stenosis code alone qualifies by default", "2.1, 6")
        .history()
        .esi("inj", 0, [L("62321")], dx=[STENOSIS_DX]),

        Scenario("ok_cervicothoracic", "cervicothoracic radicular dx beside a thoracic dx: audited",
            "1 (region)")
        .history()
        .esi("inj", 0, [L("62321")], dx=[CERVICOTHORACIC_DX, THORACIC_DX]),

        Scenario("ok_legacy_62310_with_77003", "62310 before 2017 with a 77003 line that day",
            "2.4, 3", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310"), L("77003", mod=["26", None])]),

        Scenario("ok_legacy_62318_with_77012", "62318 before 2017; 77012 on another claim that day",
            "2.4, 3", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62318")])
        .guidance("rad", 0, "77012"),

        Scenario("ok_tf_pre2011_with_guidance", "64479+64480 in 2008-2010 with 77003 or 77012",
            "2.4, 3", era=PRE2011)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT"), L(["77003", "77012"])]),

        Scenario("ok_tf_2010_12_31_with_77003", "64479 on 2010-12-31 needs guidance: 77003 present",
            "2.4, 3 boundary", era=on(date(2010, 12, 31)))
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("77003")]),

        Scenario("ok_tf_2011_01_01_unguided",
            "64479 on 2011-01-01 without 77003: guidance built in",
            "2.4 boundary", era=on(date(2011, 1, 1)))
        .history()
        .esi("inj", 0, [L("64479", "RT")]),

        Scenario("ok_62321_2016_12_31_with_77003",
            "62321 with 77003 on 2016-12-31: before bundling",
            "2.4, 3 boundary", era=on(date(2016, 12, 31)))
        .history()
        .esi("inj", 0, [L("62321"), L("77003")]),

        sessions_of(
            Scenario("ok_reversal_not_a_session",
                "4 sessions + a reversed-only 62321 (and a 77003) on a 5th date", "1, 3"),
            "62321", [0, 90, 180, 270],
        )
        .esi("rev", 300, [L("62321")], reversal=True)
        .guidance("revrad", 300),

        Scenario("ok_reversal_only_violating", "an unguided 62320 units 2 known only as a reversal",
            "1 (reversals)")
        .esi("rev", 0, [L("62320", units="2")], dx=[NECK_PAIN_DX], reversal=True),

        Scenario("ok_thoracic_only",
            "thoracic-only dx: unguided, 2 lines, units 2, 77003, no history",
            "1 (region)", weight=2)
        .esi("inj", 0, [L("62320", "50", units="2"), L("62321"), L("77003")],
             dx=[THORACIC_DX, THORACIC_DX, ["G9529", None]]),

        Scenario("ok_lumbar_esi", "lumbar ESIs (out of scope) with 77003, no history", "1 (scope)",
            weight=2)
        .claim("lum", 0, [L("62322", units="2"), L("64483", "RT"), L("64484", "RT", "2"),
                          L("77003")], role="esi", dx=[LUMBAR_DX], pos=["24"])
        .claim("lum2", 30, [L("62323"), L("77003")], role="esi", dx=[LUMBAR_DX], pos=["24"]),

        sessions_of(
            Scenario("ok_four_cervical_plus_lumbar_and_thoracic",
                "4 cervical sessions; lumbar and thoracic sessions do not count", "1, 3"),
            "64479", [0, 90, 180, 270], side="RT",
        )
        .claim("lum", 300, [L("64483", "LT"), L("64484", "LT")], role="esi", dx=[LUMBAR_DX])
        .esi("tho", 330, [L("62321")], dx=[THORACIC_DX]),

        Scenario("ok_legacy_62310_after_2016_with_77003",
            "62310 in 2023+ with 77003: audited alike",
            "1 (legacy codes), 2.4, 3")
        .history()
        .esi("inj", 0, [L("62310"), L("77003", mod=["26", None])]),

        Scenario("ok_gap_in_windows_but_passing", "enrollment gaps in both windows; both pass", "4")
        .history()
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-500, -480)), Span((-440, -420), (-130, -120)),
                  Span((-90, -80), (400, 600), 50)),
    ]
# fmt: on
