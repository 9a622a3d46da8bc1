"""Scenarios: 2.3 prior imaging."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    EMG,
    HERPES_QUAL_DX,
    MRI,
    RADIOGRAPH,
    L,
    Scenario,
    Span,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("img_none", "no imaging at all", "2.3", weight=3)
        .pt((-170, -45))
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging"),

        Scenario("img_731_days", "the only MRI is 731 days before", "2.3 boundary")
        .pt((-170, -45))
        .imaging(-731)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging"),

        Scenario("img_only_after", "the only MRI is 10 days after the injection", "2.3")
        .pt((-170, -45))
        .imaging(10)
        .esi("inj", 0, [L("64479", "RT")])
        .expect("inj", "prior_imaging"),

        Scenario("img_radiographs_only", "only plain cervical radiographs", "2.3")
        .pt((-170, -45))
        .imaging((-700, -5), RADIOGRAPH)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging"),

        Scenario("img_emg_only", "only EMG / nerve conduction (not accepted by default)", "2.3, 6")
        .pt((-170, -45))
        .imaging((-700, -5), EMG)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging"),

        Scenario("img_ehr_too_old", "the only MRI is in the EHR, 800 days before", "2.3")
        .pt((-170, -45))
        .ehr_proc(-800, MRI)
        .esi("inj", 0, [L("62321")])
        .expect("inj", "prior_imaging"),

        Scenario("img_fail_gap", "no imaging; an enrollment gap inside the imaging window", "4")
        .pt((-170, -45))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-500, -480)), Span((-420, -400), (300, 500), 50))
        .expect("inj", "prior_imaging", "insufficient_history"),

        Scenario("img_fail_late_enrollment", "no imaging; enrolled only from 300 days before", "4")
        .pt((-170, -45))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-310, -300), (300, 500), 50))
        .expect("inj", "prior_imaging", "insufficient_history"),

        Scenario("herpes_no_imaging", "zoster: care exempt, but no imaging", "2.2, 2.3")
        .esi("inj", 0, [L("62321")], dx=[HERPES_QUAL_DX])
        .expect("inj", "prior_imaging"),
    ]
# fmt: on
