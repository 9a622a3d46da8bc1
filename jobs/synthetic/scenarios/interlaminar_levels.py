"""Scenarios: interlaminar_levels."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    PRE2017,
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("il_units_2", "62321 with units 2", "3 (interlaminar_levels)", weight=2)
        .history()
        .esi("inj", 0, [L("62321", units="2")])
        .expect("inj", "interlaminar_levels"),

        Scenario("il_units_3_claim_type_missing", "62321 units 3 on a claim without claim_type",
            "3 (level rules)")
        .history()
        .esi("inj", 0, [L("62321", units="3")], claim_type=None)
        .expect("inj", "interlaminar_levels"),

        Scenario("il_modifier_50", "62321 with modifier 50", "3 (interlaminar_levels)")
        .history()
        .esi("inj", 0, [L("62321", "50")])
        .expect("inj", "interlaminar_levels"),

        Scenario("il_two_lines", "two 62321 lines on one claim", "3 (interlaminar_levels)")
        .history()
        .esi("inj", 0, [L("62321"), L("62321")])
        .expect(["inj:1", "inj:2"], "interlaminar_levels"),

        Scenario("il_two_claims", "62320 and 62321 on two claims the same day", "3, 2.4")
        .history()
        .esi("a", 0, [L("62320")])
        .esi("b", 0, [L("62321")])
        .expect(["a", "b"], "interlaminar_levels")
        .expect("a", "imaging_guidance"),

        Scenario("il_legacy_units_2", "62310 units 2 with 77003, before 2017", "3", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310", units="2"), L("77003")])
        .expect("inj", "interlaminar_levels"),
    ]
# fmt: on
