"""Scenarios: session_frequency."""

from __future__ import annotations

from jobs.synthetic.scenarios.model import (
    L,
    Scenario,
    sessions_of,
)


def _freq_mixed_codes() -> Scenario:
    sc = Scenario(
        "freq_mixed_codes",
        "5 sessions of different kinds; the 5th is 64479+64480",
        "3 (session_frequency)",
    )
    kinds = [
        [L("62321")],
        [L("62325")],
        [L("64479", "50")],
        [L("62321")],
        [L("64479", "RT"), L("64480", "RT")],
    ]
    for n, lines in enumerate(kinds):
        sc.pt(60 * n - 60, 60 * n - 50).esi(f"s{n + 1}", 60 * n, lines)
    sc.imaging(-100).expect("s5", "session_frequency")
    return sc


# One scenario per block, kept as written (fmt: off); the order is part of the seed
# contract.
# fmt: off
def scenarios() -> list[Scenario]:
    return [
        sessions_of(
            Scenario("freq_fifth_at_364_days", "5 sessions, the 5th 364 days after the 1st",
                "3 (session_frequency) boundary", weight=2),
            "62321", [0, 91, 182, 273, 364],
        ).expect("s5", "session_frequency"),

        sessions_of(
            Scenario("freq_six_with_facility",
                "6 sessions in 350 days; facility claims on the 5th, 6th",
                "3 (session_frequency)"),
            "64479", [0, 70, 140, 210, 280, 350], side="LT",
        )
        .facility("f5", 280, [L("64479", "LT")])
        .facility("f6", 350, [L("64479", "LT")])
        .expect(["s5", "f5", "s6", "f6"], "session_frequency"),

        _freq_mixed_codes(),
    ]
# fmt: on
