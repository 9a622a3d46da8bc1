"""Scenarios: transforaminal_levels."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("tf_three_right", "64479 RT + 64480 RT units 2", "3 (transforaminal_levels)",
            weight=2)
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64480", "RT", "2")])
        .expect("inj", "transforaminal_levels"),

        Scenario("tf_three_mod50", "64479-50 + 64480-50 units 2: three per side", "3")
        .history()
        .esi("inj", 0, [L("64479", "50"), L("64480", "50", "2")])
        .expect("inj", "transforaminal_levels"),

        Scenario("tf_three_no_side", "64479 + 64480 units 2 without side: both sides", "3")
        .history()
        .esi("inj", 0, [L("64479"), L("64480", units="2")])
        .expect("inj", "transforaminal_levels"),

        Scenario("tf_missing_zero_units", "64479 RT units missing, 64480 RT units 0 and 1", "3")
        .history()
        .esi("inj", 0, [L("64479", "RT", None), L("64480", "RT", "0"), L("64480", "RT", "1")])
        .expect("inj", "transforaminal_levels"),

        Scenario("tf_across_claims", "64479 RT on a claim, a lone 64480 RT units 2 on another",
            "1, 3")
        .history()
        .esi("a", 0, [L("64479", "RT")])
        .esi("b", 0, [L("64480", "RT", "2")], steroid=False)
        .expect(["a", "b"], "transforaminal_levels"),

        Scenario("tf_three_with_facility", "3 left levels; the facility claim is not flagged", "3")
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT", "2")])
        .facility("fac", 0, [L("64479", "LT"), L("64480", "LT", "2")])
        .expect("inj", "transforaminal_levels"),

        Scenario("tf_left_three_right_one", "64479 RT; 64479 LT + 64480 LT units 2: both primaries",
            "3")
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("64479", "LT"), L("64480", "LT", "2")])
        .expect(["inj:1", "inj:2"], "transforaminal_levels"),

        Scenario("tf_multi_date_claim", "one claim: 64479 RT day 0; 64479 RT + 64480 RT x2 day 14",
            "1 (add-on folds on its date), 3")
        .pt((-150, -45))
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT"), L("64479", "RT", delta=14),
                        L("64480", "RT", "2", delta=14)])
        .expect("inj:2", "transforaminal_levels"),
    ]
# fmt: on
