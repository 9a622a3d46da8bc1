"""History completeness (policy section 4): insufficient_history instead of fail."""

from __future__ import annotations

import pytest
from rule_harness import INJECTION_DAY, Audit, days_before

LOOKBACK_RULES = ("conservative_care", "prior_imaging")


def lookback_findings(audit: Audit, **kwargs) -> set[tuple[str, str]]:
    found = audit.findings(**kwargs)
    return {(rule, status) for _, _, rule, status in found if rule in LOOKBACK_RULES}


def test_no_eligibility_supplied_means_history_complete(audit: Audit) -> None:
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=False) == {
        ("conservative_care", "fail"),
        ("prior_imaging", "fail"),
    }


def test_continuous_enrollment_keeps_fail(audit: Audit) -> None:
    audit.enrolled(days_before(1000), None)
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=True) == {
        ("conservative_care", "fail"),
        ("prior_imaging", "fail"),
    }


def test_gap_in_window_gives_insufficient_history(audit: Audit) -> None:
    audit.enrolled(days_before(1000), days_before(100))
    audit.enrolled(days_before(90), None)
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=True) == {
        ("conservative_care", "insufficient_history"),
        ("prior_imaging", "insufficient_history"),
    }
    evidence = {r["evidence"] for r in audit.rows("conservative_care")}
    assert evidence == {
        "no conservative care 2025-12-17..2026-06-14; 42 days required; "
        "not continuously enrolled 2025-12-17..2026-06-14"
    }


@pytest.mark.parametrize(("gap_days", "status"), [(1, "fail"), (2, "insufficient_history")])
def test_adjacent_spans_merge(audit: Audit, gap_days: int, status: str) -> None:
    """A span that starts the day after another ends continues it; one day later does not."""
    audit.enrolled(days_before(1000), days_before(100))
    audit.enrolled(days_before(100 - gap_days), days_before(-30))
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=True) == {
        ("conservative_care", status),
        ("prior_imaging", status),
    }


def test_overlapping_and_unordered_spans_merge(audit: Audit) -> None:
    audit.enrolled(days_before(300), None)
    audit.enrolled(days_before(1000), days_before(200))
    audit.enrolled(days_before(250), days_before(240))
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=True) == {
        ("conservative_care", "fail"),
        ("prior_imaging", "fail"),
    }


def test_person_absent_from_supplied_eligibility_is_not_enrolled(audit: Audit) -> None:
    audit.enrolled(days_before(1000), None, person="OTHER")
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=True) == {
        ("conservative_care", "insufficient_history"),
        ("prior_imaging", "insufficient_history"),
    }


def test_windows_differ_by_the_injection_day(audit: Audit) -> None:
    """conservative_care needs enrollment through the day before; prior_imaging through the day."""
    audit.enrolled(days_before(1000), days_before(1))
    audit.esi("62321")
    assert lookback_findings(audit, eligibility_supplied=True) == {
        ("conservative_care", "fail"),
        ("prior_imaging", "insufficient_history"),
    }


@pytest.mark.parametrize(("start_days", "status"), [(180, "fail"), (179, "insufficient_history")])
def test_enrollment_must_cover_the_window_start(audit: Audit, start_days: int, status: str) -> None:
    audit.enrolled(days_before(start_days), None)
    audit.imaging(100)
    claim = audit.esi("62321")
    assert audit.findings("conservative_care", eligibility_supplied=True) == {
        (claim, 1, "conservative_care", status)
    }


def test_passing_lines_are_not_reported_whatever_the_enrollment(audit: Audit) -> None:
    audit.enrolled(days_before(10), None)
    audit.clean_history()
    audit.esi("62321", day=INJECTION_DAY)
    assert lookback_findings(audit, eligibility_supplied=True) == set()
