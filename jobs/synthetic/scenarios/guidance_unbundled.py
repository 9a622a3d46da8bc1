"""Scenarios: guidance_unbundled."""

from __future__ import annotations

from datetime import date

from jobs.synthetic.scenarios.model import (
    L,
    Scenario,
    on,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("unb_77003_62321", "77003 on the 62321 claim", "3 (guidance_unbundled)", weight=3)
        .history()
        .esi("inj", 0, [L("62321"), L("77003", mod=["26", None])])
        .expect("inj:2", "guidance_unbundled"),

        Scenario("unb_77012_26_tc_64479", "64479; 77012-26 and 77012-TC on two other claims",
            "3 (guidance_unbundled)")
        .history()
        .esi("inj", 0, [L("64479", "RT")])
        .guidance("rad", 0, "77012", "26")
        .guidance("fac", 0, "77012", "TC", "institutional")
        .expect(["rad", "fac"], "guidance_unbundled"),

        Scenario("unb_77003_62325", "77003 with the guided catheter 62325",
            "3 (guidance_unbundled)")
        .history()
        .esi("inj", 0, [L("62325")])
        .guidance("rad", 0)
        .expect("rad", "guidance_unbundled"),

        Scenario("unb_tf_2011_01_01", "64479 with 77003 on 2011-01-01: guidance now included",
            "2.4, 3 boundary", era=on(date(2011, 1, 1)))
        .history()
        .esi("inj", 0, [L("64479", "RT"), L("77003")])
        .expect("inj:2", "guidance_unbundled"),

        Scenario("unb_62321_2017_01_01", "62321 with 77003 on 2017-01-01", "3 boundary",
            era=on(date(2017, 1, 1)))
        .history()
        .esi("inj", 0, [L("62321"), L("77003", mod=["26", None])])
        .expect("inj:2", "guidance_unbundled"),

        Scenario("unb_lone_64480", "a 64480 with no primary anywhere, and a 77003", "1, 3")
        .history()
        .esi("inj", 0, [L("64480", "LT"), L("77003")])
        .expect("inj:2", "guidance_unbundled"),
    ]
# fmt: on
