"""Scenarios: myelopathy_review."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    MYELOPATHY_CERVICAL_DX,
    MYELOPATHY_DX,
    QUAL_DX,
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("myelopathy_with_radicular",
            "myelopathy dx beside a radicular dx; facility claim too",
            "3 (myelopathy_review)", weight=2)
        .history()
        .esi("inj", 0, [L("62321")], dx=[QUAL_DX, MYELOPATHY_DX])
        .facility("fac", 0, [L("62321")], dx=[QUAL_DX, MYELOPATHY_DX])
        .expect(["inj", "fac"], "myelopathy_review", "review"),

        Scenario("myelopathy_only", "myelopathy dx alone: review, and no qualifying dx", "2.1, 3")
        .history()
        .esi("inj", 0, [L("64479", "LT")], dx=[MYELOPATHY_CERVICAL_DX])
        .expect("inj", "myelopathy_review", "review")
        .expect("inj", "qualifying_dx"),
    ]
# fmt: on
