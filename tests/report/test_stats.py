"""Peer comparison arithmetic: binomial tails, funnel limits, percentiles, drill-down allotment."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from scipy import stats as scipy_stats  # a test extra (pyproject): never skipped

from jobs.report import stats as report_stats
from jobs.report.context.drilldown import allot_lines, drilldown_cap


def exact_sf(x: int, n: int, p: Fraction) -> Fraction:
    return sum(
        (Fraction(math.comb(n, k)) * p**k * (1 - p) ** (n - k) for k in range(max(x, 0), n + 1)),
        Fraction(0),
    )


@pytest.mark.parametrize(
    ("x", "n", "p"),
    [
        (0, 5, "1/3"),
        (3, 10, "1/5"),
        (7, 10, "1/5"),
        (10, 10, "1/2"),
        (1, 40, "1/100"),
        (25, 60, "3/10"),
        (2, 60, "3/10"),
        (11, 11, "9/10"),
    ],
)
def test_binomial_tail_is_exact(x: int, n: int, p: str) -> None:
    expected = float(exact_sf(x, n, Fraction(p)))
    assert report_stats.binom_sf(x, n, float(Fraction(p))) == pytest.approx(
        expected, rel=1e-10, abs=1e-15
    )


def test_binomial_tail_matches_scipy_at_scale() -> None:
    rng = random.Random(3)
    for _ in range(400):
        n = rng.choice([50, 500, 5_000, 50_000])
        p = rng.choice([0.002, 0.05, 0.3, 0.7])
        x = rng.randint(0, n)
        expected = scipy_stats.binom.sf(x - 1, n, p)
        if expected > 1e-250:
            assert report_stats.binom_sf(x, n, p) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(
    ("n", "p", "alpha"), [(10, 0.3, 0.001), (100, 0.3, 0.025), (1000, 0.05, 0.001)]
)
def test_critical_counts_bound_the_flag(n: int, p: float, alpha: float) -> None:
    upper = report_stats.upper_critical(n, p, alpha)
    assert report_stats.binom_sf(upper, n, p) < alpha
    assert upper == 0 or report_stats.binom_sf(upper - 1, n, p) >= alpha
    lower = report_stats.lower_critical(n, p, alpha)
    assert lower == -1 or report_stats.binom_cdf(lower, n, p) < alpha
    assert report_stats.binom_cdf(lower + 1, n, p) >= alpha
    # the funnel line separates flagged counts from the others
    limit = report_stats.upper_limit_rate(n, p, alpha)
    assert (upper - 1) / n < limit < upper / n or upper > n


def test_compare_flags_by_limit() -> None:
    assert report_stats.compare(3, 10, 0.3).flag is None
    assert report_stats.compare(9, 20, 0.2).flag == "95%"  # p = 0.010
    assert report_stats.compare(12, 20, 0.2).flag == "99.8%"  # p = 0.0001
    assert report_stats.compare(0, 20, 0.0).p_value == 1.0


def test_midrank_percentiles() -> None:
    pct = report_stats.midrank_percentiles(
        {"a": (0, 10), "b": (0, 20), "c": (1, 10), "d": (2, 20), "e": (5, 10)}
    )
    assert pct["a"] == pct["b"] == 20.0  # two tied at the bottom: (0 + 2/2) / 5
    assert pct["c"] == pct["d"] == 60.0  # 1/10 = 2/20
    assert pct["e"] == 90.0


def test_drilldown_cap_is_the_largest_that_fits() -> None:
    counts = [500, 40, 3, 3, 1]
    assert drilldown_cap(counts, 200, 10_000) == 200
    cap = drilldown_cap(counts, 200, 60)
    assert sum(min(n, cap) for n in counts) <= 60 < sum(min(n, cap + 1) for n in counts)


def test_allotment_shows_everything_that_fits_else_the_first_providers() -> None:
    assert allot_lines([5, 3, 1], 200, 100) == [5, 3, 1]
    assert allot_lines([500, 3], 200, 1_000) == [200, 3]
    shown = allot_lines([300] * 50 + [2] * 500, 200, 1_000)
    assert sum(shown) <= 1_000
    assert shown[:100] == [18] * 50 + [2] * 50 and not any(shown[100:])  # 50 * 18 + 50 * 2 = 1,000
