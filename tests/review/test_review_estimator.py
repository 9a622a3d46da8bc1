"""The stratified overpayment estimator (issue 17): checked against a case computed by
hand and against an independent computation (plain formulas written here, SciPy's t)."""

from __future__ import annotations

import math
import random
import statistics
from decimal import Decimal

import pytest
from scipy import stats

from jobs.review.estimate_stats import StratumSample, estimate_total, t_cdf, t_quantile


def stratum(h: int, big_n: int, paid: str, ys: list[str | int]) -> StratumSample:
    return StratumSample(h, big_n, Decimal(paid), [Decimal(str(y)) for y in ys])


HAND = [
    stratum(1, 10, "1500.00", [0, 50, 100, 50]),  # sampled 4 of 10
    stratum(2, 5, "1000.00", [200, 0, 100, 300, 0]),  # sampled whole
    stratum(3, 20, "4000.00", [0, 0, 0]),  # no overpayment found
    stratum(4, 1, "80.00", [75]),  # a one-line stratum (whole)
]


def test_a_small_case_computed_by_hand():
    """Stratum 1: mean 200/4 = 50; deviations -50, 0, 50, 0 -> s^2 = 5000/3;
    total 10 * 50 = 500; variance 10^2 * (1 - 4/10) * (5000/3) / 4 = 25000.
    Stratum 2 (whole): mean 600/5 = 120, total 600, variance 0; deviations 80, -120, -20,
    180, -120 -> s^2 = 68000/4 = 17000.
    Stratum 3: mean 0, total 0, s = 0, variance 0.  Stratum 4 (one line): total 75.
    Estimate 500 + 600 + 0 + 75 = 1175; SE = sqrt(25000) = 158.1139.
    n = 4 + 5 + 3 + 1 = 13, K = 4, df = 9; from a t table t(0.95; 9) = 1.8331 and
    t(0.90; 9) = 1.3830: half-width 1.8331 * 158.1139 = 289.84 -> 885.16 to 1464.84;
    one-sided lower limit 1175 - 1.3830 * 158.1139 = 1175 - 218.67 = 956.33.
    Precision 289.84 / 1175 = 0.2467. Error rate: 3 + 3 + 0 + 1 = 7 of 13 lines;
    in the frame (10 * 3/4 + 5 * 3/5 + 20 * 0/3 + 1 * 1/1) / 36 = 11.5 / 36."""
    e = estimate_total(HAND)
    s1, s2, s3, s4 = e["strata"]
    assert (s1["mean_overpayment"], s1["estimated_overpayment"]) == (50, 500)
    assert s1["sd_overpayment"] == pytest.approx(math.sqrt(5000 / 3))
    assert s1["variance_contribution"] == pytest.approx(25000)
    assert (s2["estimated_overpayment"], s2["variance_contribution"], s2["sampled_whole"]) == (
        600,
        0,
        True,
    )
    assert s2["sd_overpayment"] == pytest.approx(math.sqrt(17000))
    assert (s3["estimated_overpayment"], s3["sd_overpayment"], s3["variance_contribution"]) == (
        0,
        0,
        0,
    )
    assert (s4["estimated_overpayment"], s4["sd_overpayment"], s4["sampled_whole"]) == (
        75,
        None,
        True,
    )
    assert e["estimated_overpayment"] == 1175.00
    assert e["standard_error"] == pytest.approx(158.1139, abs=1e-4)
    assert (e["sample_lines"], e["n_strata"], e["degrees_of_freedom"]) == (13, 4, 9)
    assert e["t_two_sided_90"] == pytest.approx(1.8331, abs=5e-5)
    assert e["t_one_sided_90"] == pytest.approx(1.3830, abs=5e-5)
    assert e["lower_90_two_sided"] == pytest.approx(885.16, abs=0.02)
    assert e["upper_90_two_sided"] == pytest.approx(1464.84, abs=0.02)
    assert e["lower_90_one_sided"] == pytest.approx(956.33, abs=0.02)
    assert e["precision"] == pytest.approx(0.2467, abs=1e-4)
    assert e["error_rate"] == pytest.approx(7 / 13)
    assert e["estimated_error_rate"] == pytest.approx(11.5 / 36)
    assert (e["frame_lines"], e["frame_paid_amount"]) == (36, 6580.0)
    # limits are rounded outward to the cent
    assert e["lower_90_two_sided"] <= e["unclipped"]["lower_90_two_sided"]
    assert e["upper_90_two_sided"] >= e["unclipped"]["upper_90_two_sided"]
    assert e["lower_90_two_sided"] == round(e["lower_90_two_sided"], 2)


def plain_estimate(strata: list[StratumSample]) -> dict[str, float]:
    """The textbook stratified estimator, written apart from the product's code."""
    total = 0.0
    variance = 0.0
    n = 0
    for s in strata:
        ys = [float(y) for y in s.overpayments]
        total += s.frame_lines * statistics.fmean(ys)
        if len(ys) < s.frame_lines:
            fpc = 1 - len(ys) / s.frame_lines
            variance += s.frame_lines**2 * fpc * statistics.variance(ys) / len(ys)
        n += len(ys)
    df = n - len(strata)
    se = math.sqrt(variance)
    out = {"total": total, "se": se, "df": df}
    if df >= 1:
        out["lower_two"] = total - stats.t.ppf(0.95, df) * se
        out["upper_two"] = total + stats.t.ppf(0.95, df) * se
        out["lower_one"] = total - stats.t.ppf(0.90, df) * se
    return out


def random_strata(rng: random.Random) -> list[StratumSample]:
    strata = []
    for h in range(1, rng.randint(1, 5) + 1):
        big_n = rng.choice([1, 2, 3, rng.randint(4, 60)])
        n = big_n if rng.random() < 0.25 or big_n < 3 else rng.randint(2, big_n)
        paid = [Decimal(rng.randint(5_000, 150_000)) / 100 for _ in range(big_n)]
        ys = []
        for amount in paid[:n]:
            kind = rng.random()
            if kind < 0.4:
                ys.append(Decimal(0))
            elif kind < 0.7:
                ys.append(amount)
            else:
                ys.append((amount * Decimal(rng.random())).quantize(Decimal("0.01")))
        if rng.random() < 0.2:
            ys = [Decimal(0)] * n  # a stratum without overpayment
        strata.append(StratumSample(h, big_n, sum(paid), ys))
    return strata


def test_matches_an_independent_computation_with_scipy():
    rng = random.Random(17)
    checked = whole = zero = one_line = 0
    for _ in range(400):
        strata = random_strata(rng)
        mine = estimate_total(strata)
        ref = plain_estimate(strata)
        raw = mine["unclipped"]
        assert raw["estimated_overpayment"] == pytest.approx(ref["total"], rel=1e-12, abs=1e-9)
        assert mine["standard_error"] == pytest.approx(ref["se"], rel=1e-9, abs=1e-9)
        assert mine["degrees_of_freedom"] == ref["df"]
        if ref["se"] > 0:
            for name, key in (
                ("lower_90_two_sided", "lower_two"),
                ("upper_90_two_sided", "upper_two"),
                ("lower_90_one_sided", "lower_one"),
            ):
                assert raw[name] == pytest.approx(ref[key], rel=1e-9, abs=1e-6)
            checked += 1
        whole += any(len(s.overpayments) == s.frame_lines > 1 for s in strata)
        zero += any(not any(s.overpayments) for s in strata)
        one_line += any(s.frame_lines == 1 for s in strata)
    # the random cases covered what they must
    assert checked > 150 and whole > 50 and zero > 50 and one_line > 50


def test_t_quantiles_match_scipy():
    for df in [*range(1, 121), 150, 250, 500, 1000, 5000]:
        for p in (0.6, 0.9, 0.95, 0.975, 0.995, 0.1, 0.05):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-10)
        assert t_cdf(1.7, df) == pytest.approx(stats.t.cdf(1.7, df), rel=1e-12)
    assert t_quantile(0.5, 7) == 0.0


def test_no_overpayment_in_the_sample():
    """All zero: the estimate and every limit are $0; precision is undefined."""
    e = estimate_total([stratum(1, 30, "3000", [0] * 5), stratum(2, 10, "5000", [0, 0, 0])])
    assert e["estimated_overpayment"] == 0
    assert e["standard_error"] == 0
    assert e["lower_90_two_sided"] == e["upper_90_two_sided"] == e["lower_90_one_sided"] == 0
    assert e["precision"] is None
    assert e["error_rate"] == 0 and e["estimated_error_rate"] == 0
    assert any("no overpayment" in n for n in e["notes"])


def test_every_stratum_sampled_whole_has_no_sampling_error():
    """A census: the estimate is the sum; n - K = 0 with one-line strata, so no t."""
    e = estimate_total([stratum(1, 1, "100", [40]), stratum(2, 1, "90", [90])])
    assert e["estimated_overpayment"] == 130
    assert e["degrees_of_freedom"] == 0 and e["t_two_sided_90"] is None
    assert e["lower_90_one_sided"] == e["lower_90_two_sided"] == e["upper_90_two_sided"] == 130
    e = estimate_total([stratum(1, 3, "300", [10, 20, 30]), stratum(2, 2, "90", [5, 0])])
    assert e["standard_error"] == 0 and e["degrees_of_freedom"] == 3
    assert e["lower_90_one_sided"] == e["upper_90_two_sided"] == e["estimated_overpayment"] == 65


def test_a_whole_stratum_adds_nothing_but_its_total():
    base = [stratum(1, 10, "1500.00", [0, 50, 100, 50])]
    with_whole = [*base, stratum(2, 4, "900", [100, 200, 0, 300])]
    a, b = estimate_total(base), estimate_total(with_whole)
    assert b["standard_error"] == pytest.approx(a["standard_error"])
    assert b["estimated_overpayment"] == a["estimated_overpayment"] + 600


def test_limits_are_clipped_to_what_is_possible():
    """A lower limit below $0 is $0; an expansion estimate above the frame's paid dollars
    is capped there; the values before clipping are kept."""
    e = estimate_total([stratum(1, 100, "20000", [0, 0, 0, 0, 150])])
    assert e["unclipped"]["lower_90_one_sided"] < 0 and e["lower_90_one_sided"] == 0
    assert e["estimated_overpayment"] == 3000
    e = estimate_total([stratum(1, 4, "400.00", [150, 150])])
    assert e["unclipped"]["estimated_overpayment"] == 600
    assert e["estimated_overpayment"] == e["upper_90_two_sided"] == 400
    assert any("clipped" in n for n in e["notes"])


def test_one_line_drawn_from_a_larger_stratum_is_refused():
    with pytest.raises(ValueError, match="no variance"):
        estimate_total([stratum(1, 5, "500", [10])])
