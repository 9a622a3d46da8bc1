"""Scenarios: 2.4 imaging guidance."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    POSTPROC_DX,
    PRE2011,
    PRE2017,
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("guid_62320", "interlaminar without imaging guidance", "2.4", weight=3)
        .history()
        .esi("inj", 0, [L("62320")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_62324", "catheter without imaging guidance", "2.4")
        .history()
        .esi("inj", 0, [L("62324")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_0228T_0229T", "ultrasound transforaminal with its add-on (folded)", "2.4, 1")
        .history()
        .esi("inj", 0, [L("0228T"), L("0229T")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_0228T_with_77003", "ultrasound transforaminal; a 77003 does not rescue it",
            "2.4, 3")
        .history()
        .esi("inj", 0, [L("0228T"), L("77003")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_62320_with_77003", "62320 with 77003: still fails, no unbundling", "2.4, 3")
        .history()
        .esi("inj", 0, [L("62320"), L("77003")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_legacy_62310_none", "62310 before 2017 without guidance", "2.4", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_legacy_62318_none", "62318 before 2017 without guidance", "2.4", era=PRE2017)
        .history()
        .esi("inj", 0, [L("62318")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_legacy_77003_next_day", "62310 before 2017; the 77003 is the next day",
            "2.4",
            era=PRE2017)
        .history()
        .esi("inj", 0, [L("62310")])
        .guidance("rad", 1)
        .expect("inj", "imaging_guidance"),

        Scenario("guid_tf_pre2011_none", "64479+64480 before 2011 without guidance", "2.4",
            era=PRE2011)
        .history()
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_legacy_after_2016_none", "62310 in 2023+ without guidance: audited alike",
            "1 (legacy codes), 2.4")
        .history()
        .esi("inj", 0, [L("62310")])
        .expect("inj", "imaging_guidance"),

        Scenario("guid_missing_npi", "unguided 62320 without rendering NPI (unknown provider)",
            "2.4; contract warnings")
        .history()
        .esi("inj", 0, [L("62320")], role="none")
        .expect("inj", "imaging_guidance"),

        Scenario("guid_postprocedural", "G89.1x exempts the dx rule; unguided 62324 still fails",
            "2.1, 2.4")
        .history()
        .esi("inj", 0, [L("62324")], dx=[POSTPROC_DX, ["M542"]])
        .expect("inj", "imaging_guidance"),
    ]
# fmt: on
