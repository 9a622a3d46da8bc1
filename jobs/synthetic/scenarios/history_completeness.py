"""Scenarios: 4 history completeness."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    L,
    Scenario,
    Span,
)


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        Scenario("cc_fail_gap_in_window", "no care; an enrollment gap inside the care window", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-130, -121)), Span((-90, -80), (300, 500), 50))
        .expect("inj", "conservative_care", "insufficient_history"),

        Scenario("cc_fail_not_in_eligibility", "no care; the person is absent from eligibility",
            "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("64479", "RT")])
        .not_enrolled()
        .expect("inj", "conservative_care", "insufficient_history"),

        Scenario("cc_fail_adjacent_spans", "no care; spans meet day after day: continuous", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-100, -100)), Span((-99, -99), (300, 500), 50))
        .expect("inj", "conservative_care"),

        Scenario("cc_fail_overlapping_spans", "no care; overlapping spans cover the window", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-60, -50)), Span((-200, -190), (300, 500), 50))
        .expect("inj", "conservative_care"),

        Scenario("cc_fail_open_end", "no care; one span without an end date", "4")
        .imaging((-700, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), None))
        .expect("inj", "conservative_care"),

        Scenario("cc_fail_gap_outside_window", "no care; the gap lies in the imaging window only",
            "4")
        .imaging((-250, -5))
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-400, -400)), Span((-300, -300), (300, 500), 50))
        .expect("inj", "conservative_care"),

        Scenario("gap_on_injection_day", "no care, no imaging; not enrolled on the injection day",
            "4 boundary")
        .esi("inj", 0, [L("62321")])
        .enrolled(Span((-1060, -1000), (-1, -1)), Span((1, 1), (300, 500), 50))
        .expect("inj", "conservative_care")
        .expect("inj", "prior_imaging", "insufficient_history"),

        Scenario("both_fail_not_in_eligibility",
            "absent from eligibility; no care, no imaging, 62320",
            "4, 2.4")
        .esi("inj", 0, [L("62320")])
        .not_enrolled()
        .expect("inj", "conservative_care", "insufficient_history")
        .expect("inj", "prior_imaging", "insufficient_history")
        .expect("inj", "imaging_guidance"),
    ]
# fmt: on
