"""Scenarios: 2.2 conservative care."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    CERVICOTHORACIC_DX,
    PT_EVAL,
    PT_VISIT,
    THORACIC_DX,
    L,
    Scenario,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("cc_starts_41_days", "PT starts 41 days before", "2.2 boundary", weight=2)
        .pt(-41, -34, -27)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("cc_none", "no conservative care at all", "2.2", weight=3)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62325")])
        .expect("inj", "conservative_care"),

        Scenario("cc_only_181_days", "the only care is 181 days before (outside the window)",
            "2.2 boundary")
        .pt(-181)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("cc_same_day_only", "PT only on the injection day", "2.2 boundary")
        .pt(0)
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "LT")])
        .expect("inj", "conservative_care"),

        Scenario("cc_injectable_drug_only", "the only fill is injectable dexamethasone",
            "2.2 (route)")
        .drug((-170, -45), "injectable")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("cc_drug_not_in_crosswalk", "the only fill's NDC is not in the crosswalk", "2.2")
        .drug((-170, -45), "unlisted")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("cc_ehr_pt_too_late", "EHR PT starts 30 days before", "2.2")
        .ehr_proc(-30, PT_EVAL)
        .ehr_proc(-23, PT_VISIT)
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care"),

        Scenario("cc_reversed_evidence_only", "PT and MRI exist only as reversal lines",
            "1 (reversals), 2.2, 2.3")
        .pt((-170, -45), reversal=True)
        .imaging((-700, -5), reversal=True)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "conservative_care")
        .expect("inj", "prior_imaging"),

        Scenario("cc_fail_with_addon_folded", "no care; 64479+64480 on one claim: primary flagged",
            "1 (add-ons), 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "LT"), L("64480", "LT")])
        .expect("inj", "conservative_care"),

        Scenario("cc_fail_addon_without_primary",
            "no care; 64479 on a claim, 64480 alone on another",
            "1 (add-ons), 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT")])
        .esi("add", 0, [L("64480", "RT")], steroid=False)
        .expect(["inj", "add"], "conservative_care"),

        Scenario("cc_fail_cervicothoracic", "cervicothoracic + thoracic dx, no care: audited",
            "1 (region), 2.2")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")], dx=[CERVICOTHORACIC_DX, THORACIC_DX])
        .expect("inj", "conservative_care"),
    ]
# fmt: on
