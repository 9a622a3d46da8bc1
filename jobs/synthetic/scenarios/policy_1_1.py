"""Scenarios: the clauses policy 1.1 added (issue 13): a reversal cancels the line it
reverses (section 1), a folded add-on keeps its own date for the session-level rules
(section 3), NSAIDs count when topical too (2.2), evidence of a line without a code
(5). Appended after the 1.0 sections (the order is part of the seed contract)."""

from __future__ import annotations

from datetime import date

from jobs.synthetic.scenarios.model import (
    NECK_PAIN_DX,
    PRE2017,
    L,
    Scenario,
    on,
    rev,
    sessions_of,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("ok_reversed_on_the_same_claim",
            "an unguided 62320 units 2 for neck pain and its reversal line on the same claim",
            "1 (a reversal cancels the line it reverses, 1.1)")
        .esi("inj", 0, [L("62320", units="2"), rev(1)], dx=[NECK_PAIN_DX]),

        Scenario("ok_reversed_on_its_own_claim",
            "an unguided bilateral 62320 for neck pain, reversed by a claim of its own",
            "1 (reversals, 1.1)")
        .esi("orig", 0, [L("62320", "50")], dx=[NECK_PAIN_DX])
        .reverse("rev", "orig"),

        Scenario("partial_reversal_cancels_nothing",
            "an unguided 62320 and a reversal a cent short: the original stays audited",
            "1 (reversals: amount to the cent, 1.1), 2.4")
        .history()
        .esi("orig", 0, [L("62320")])
        .reverse("rev", "orig", cents=1)
        .expect("orig", "imaging_guidance"),

        Scenario("ok_reversal_and_rebill_one_injection",
            "62321, its reversal and its rebill on one day: one interlaminar line, not two",
            "1 (reversals, 1.1), 3")
        .history()
        .esi("orig", 0, [L("62321")])
        .reverse("rev", "orig")
        .reverse("rebill", "orig", rebill=True),

        sessions_of(
            Scenario("ok_reversed_fifth_session",
                "4 sessions and a 5th whose injection was reversed: 4 sessions", "1 (1.1), 3"),
            "62321", [0, 90, 180, 270],
        )
        .esi("s5", 300, [L("62321")])
        .reverse("r5", "s5"),

        Scenario("ok_reversed_addon",
            "64479 RT + 64480 RT units 2 whose add-on line is reversed: one level",
            "1 (reversal of an add-on, 1.1), 3")
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT", units="2")])
        .reverse("rev", "inj", [2]),

        Scenario("ok_reversed_77003",
            "62321 with a 77003 that is reversed: no unbundled guidance",
            "1 (1.1), 3 (guidance_unbundled)")
        .history()
        .esi("inj", 0, [L("62321")])
        .guidance("rad", 0)
        .reverse("radrev", "rad"),

        Scenario("reversed_77003_supplies_no_guidance",
            "legacy 62310 before 2017 whose only 77003 is reversed", "1 (1.1), 2.4",
            era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310")])
        .guidance("rad", 0)
        .reverse("radrev", "rad")
        .expect("inj", "imaging_guidance"),

        Scenario("cc_reversed_pt_visit",
            "the PT visit that began care in time is reversed; later PT is too late",
            "1 (1.1), 2.2")
        .pt((-170, -45))
        .reverse("ptrev")
        .pt((-30, -10))
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("imaging_reversed_mri", "the only cervical MRI is reversed", "1 (1.1), 2.3")
        .pt((-170, -45), (-40, -30))
        .imaging((-700, -5))
        .reverse("imgrev")
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging"),

        Scenario("tf_addon_next_day_over_limit",
            "64479 RT today, its 64480 RT units 2 tomorrow beside another 64479 RT: "
            "3 right levels tomorrow",
            "3 (a folded add-on keeps its date, 1.1)")
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT", units="2", delta=1)])
        .esi("day1", 1, [L("64479", "RT")])
        .expect(["inj", "day1"], "transforaminal_levels"),

        Scenario("ok_tf_addon_next_day_levels_apart",
            "64479 RT units 2 today, its 64480 RT tomorrow: 2 and 1 levels, not 3",
            "3 (a folded add-on keeps its date, 1.1)")
        .history()
        .esi("inj", 0, [L("64479", "RT", units="2"), L("64480", "RT", delta=1)]),

        Scenario("unbundled_guidance_on_addon_date",
            "64479 today, its 64480 tomorrow, a 77003 tomorrow", "3 (1.1: guidance_unbundled)")
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT", delta=1)])
        .guidance("rad", 1)
        .expect("rad", "guidance_unbundled"),

        sessions_of(
            Scenario("ok_addon_date_is_no_session",
                "3 sessions, then 64479 with its 64480 on the next day: 4 sessions, not 5",
                "3 (session_frequency; decision: a folded add-on alone is no session)"),
            "64479", [0, 90, 180], side="RT",
        )
        .esi("inj", 270, [L("64479", "RT"), L("64480", "RT", delta=1)]),

        sessions_of(
            Scenario("session_over_limit_on_addon_date",
                "3 sessions, 64479 with its 64480 the next day, a 5th session that next day",
                "3 (session_frequency, 1.1: the add-on's session flags its primary)"),
            "62321", [0, 90, 180],
        )
        .esi("inj", 270, [L("64479", "RT"), L("64480", "RT", delta=1)])
        .esi("s5", 271, [L("62321")])
        .expect(["inj", "s5"], "session_frequency"),

        Scenario("ok_topical_nsaid_only",
            "the only conservative care: a topical NSAID (diclofenac gel)", "2.2 (1.1)")
        .drug((-170, -45), "topical")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("ok_gp_line_without_code",
            "PT known only by a GP/GO modifier on a line without a code", "2.2, 5 (1.1)")
        .claim("ptgp", (-170, -45), [L(None, ["GP", "GO"])], role="pt")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")]),

        Scenario("cc_gp_line_without_code_too_late",
            "the only care: a GP/GO line without a code, 10-30 days before",
            "2.2, 5 (evidence names the modifier, 1.1)")
        .claim("ptgp", (-30, -10), [L(None, ["GP", "GO"])], role="pt")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("ok_reversal_on_2016_12_31_of_62321_with_77003",
            "62321 and 77003 on 2016-12-31, both reversed and rebilled", "1 (1.1), 3 boundary",
            era=on(date(2016, 12, 31)))
        .history()
        .esi("inj", 0, [L("62321"), L("77003")])
        .reverse("rev", "inj")
        .reverse("rebill", "inj", rebill=True),
    ]
# fmt: on
