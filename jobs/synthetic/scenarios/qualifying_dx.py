"""Scenarios: 2.1 qualifying diagnosis."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    HERPES_NONQUAL_DX,
    NECK_PAIN_DX,
    OTHER_DX,
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("dx_neck_pain_only", "only non-radicular neck pain codes on the claim", "2.1",
            weight=3)
        .history()
        .esi("inj", 0, [L("62321")], dx=[NECK_PAIN_DX, OTHER_DX])
        .expect("inj", "qualifying_dx"),

        Scenario("dx_fail_with_facility", "non-qualifying dx on professional and facility claims",
            "2.1")
        .history()
        .esi("inj", 0, [L("64479", "RT")], dx=[NECK_PAIN_DX])
        .facility("fac", 0, [L("64479", "RT")], dx=[NECK_PAIN_DX])
        .expect(["inj", "fac"], "qualifying_dx"),

        Scenario("dx_herpes_non_qualifying",
            "zoster outside the list (B02.1, B02.3x) + M54.2, no care",
            "2.1, 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")], dx=[HERPES_NONQUAL_DX, ["M542"]])
        .expect("inj", "qualifying_dx"),
    ]
# fmt: on
