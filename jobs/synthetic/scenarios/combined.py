"""Scenarios: several at once."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    MYELOPATHY_CERVICAL_DX,
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("reversed_original_flagged_once",
            "unguided 62320 and a reversal by another NPI: it cancels nothing, "
            "the original only",
            "1 (reversals: same NPI, 1.1), 2.4")
        .history()
        .esi("orig", 0, [L("62320")])
        .esi("rev", 0, [L("62320")], reversal=True, role="general")
        .expect("orig", "imaging_guidance"),

        Scenario("everything_wrong",
            "62320-50 units 2, neck pain + myelopathy, no care, no imaging",
            "2, 3")
        .esi("inj", 0, [L("62320", "50", "2")], dx=[["M542"], MYELOPATHY_CERVICAL_DX])
        .expect("inj", "qualifying_dx")
        .expect("inj", "conservative_care")
        .expect("inj", "prior_imaging")
        .expect("inj", "imaging_guidance")
        .expect("inj", "myelopathy_review", "review")
        .expect("inj", "interlaminar_levels"),
    ]
# fmt: on
