"""The stratified overpayment estimator and Student's t quantiles, in plain Python.

Per stratum h with N_h frame lines, n_h sampled lines and reviewed overpayments y_hi:
mean ybar_h, standard deviation s_h (divisor n_h - 1), estimated total N_h * ybar_h.
The estimate of the frame's total overpayment is Y = sum_h N_h * ybar_h, its variance
v = sum_h N_h^2 * (1 - n_h / N_h) * s_h^2 / n_h (the finite-population correction makes a
stratum sampled whole contribute nothing), and the limits use Student's t with n - K
degrees of freedom (n sampled lines, K strata): the two-sided 90% interval
Y -/+ t(0.95) * SE and the one-sided 90% lower limit Y - t(0.90) * SE.

Sums, means and variances are exact (fractions of the cent amounts); only the square
root and the t quantile are floating point. No SciPy: the t distribution function for
integer degrees of freedom has a closed form (Abramowitz and Stegun 26.7.3-4), inverted
by bisection.

Degenerate cases (also in the README):
- a stratum sampled whole (n_h = N_h, one-line strata included) adds no sampling error;
  its standard deviation is reported when n_h >= 2, else none;
- a standard error of zero (every stratum whole, or every sampled stratum constant, e.g.
  no overpayment at all) gives limits equal to the estimate: nothing is uncertain that
  the sample can measure, and the note says so;
- n - K < 1 happens only when every stratum is sampled whole (a stratum not taken whole
  has n_h >= 2), so the standard error is zero and no t quantile is needed (null);
- the estimate and its limits are clipped to what is possible: never below $0 and never
  above the frame's paid dollars (an overpayment cannot exceed the payment; the
  expansion estimate can, when most sampled lines are overpaid in full); the values
  before clipping are kept beside them, and the precision uses them;
- precision (half-width of the two-sided interval / estimate) is undefined (null) when
  the estimate is $0.
Money is rounded to the cent: lower limits down, upper limits up, the estimate half up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

CONFIDENCE = 0.90
_BISECTIONS = 200


@dataclass(frozen=True)
class StratumSample:
    """One stratum as the estimator sees it: its frame size and paid dollars, the sample."""

    stratum: int
    frame_lines: int  # N_h
    frame_paid_amount: Decimal
    overpayments: Sequence[Decimal]  # one per sampled line (n_h of them)


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with an integer number of degrees of freedom (>= 1)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    theta = math.atan(abs(t) / math.sqrt(df))
    half = 0.5 * _central(theta, df)
    return 0.5 + half if t >= 0 else 0.5 - half


def _central(theta: float, df: int) -> float:
    """P(|T| <= sqrt(df) * tan(theta)): the finite series of A&S 26.7.3 (odd df), 26.7.4."""
    c2 = math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(1, (df - 2) // 2 + 1):
            term *= (2 * k - 1) / (2 * k) * c2
            total += term
        return math.sin(theta) * total
    if df == 1:
        return 2.0 * theta / math.pi
    term = math.cos(theta)
    total = term
    for k in range(1, (df - 3) // 2 + 1):
        term *= (2 * k) / (2 * k + 1) * c2
        total += term
    return 2.0 / math.pi * (theta + math.sin(theta) * total)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with `df` (integer >= 1) degrees of freedom."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be between 0 and 1")
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if p == 0.5:
        return 0.0
    target = abs(2.0 * p - 1.0)  # P(|T| <= t) at the quantile
    lo, hi = 0.0, math.pi / 2.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if _central(mid, df) < target:
            lo = mid
        else:
            hi = mid
    t = math.sqrt(df) * math.tan(0.5 * (lo + hi))
    return t if p > 0.5 else -t


def _cents(value: Fraction | float, rounding: str) -> Decimal:
    return Decimal(str(float(value))).quantize(Decimal("0.01"), rounding=rounding)


def _mean_and_variance(ys: Sequence[Fraction]) -> tuple[Fraction, Fraction | None]:
    n = len(ys)
    mean = sum(ys, Fraction(0)) / n
    if n < 2:
        return mean, None
    return mean, sum(((y - mean) ** 2 for y in ys), Fraction(0)) / (n - 1)


def estimate_total(strata: Sequence[StratumSample]) -> dict[str, Any]:
    """The stratified expansion estimate of the total overpayment, its standard error and
    90% limits (see the module docstring); a plain dict, ready for estimate.json."""
    if not strata:
        raise ValueError("no strata")
    rows = []
    total = variance = Fraction(0)
    n_total = n_errors = 0
    frame_lines = 0
    frame_paid = Decimal(0)
    weighted_errors = Fraction(0)
    for s in strata:
        big_n, n = s.frame_lines, len(s.overpayments)
        if not 1 <= n <= big_n:
            raise ValueError(f"stratum {s.stratum}: {n} sampled lines of {big_n}")
        ys = [Fraction(y) for y in s.overpayments]
        mean, var = _mean_and_variance(ys)
        whole = n == big_n
        if not whole and var is None:
            raise ValueError(f"stratum {s.stratum}: one sampled line of {big_n} has no variance")
        contribution = (
            Fraction(0) if whole else Fraction(big_n * big_n) * (1 - Fraction(n, big_n)) * var / n
        )
        errors = sum(1 for y in ys if y > 0)
        total += big_n * mean
        variance += contribution
        n_total += n
        n_errors += errors
        frame_lines += big_n
        frame_paid += s.frame_paid_amount
        weighted_errors += Fraction(big_n * errors, n)
        rows.append(
            {
                "stratum": s.stratum,
                "frame_lines": big_n,
                "sample_lines": n,
                "sampled_whole": whole,
                "frame_paid_amount": float(s.frame_paid_amount),
                "sample_overpayment_amount": float(sum(ys, Fraction(0))),
                "lines_with_overpayment": errors,
                "mean_overpayment": float(mean),
                "sd_overpayment": math.sqrt(var) if var is not None else None,
                "estimated_overpayment": float(big_n * mean),
                "variance_contribution": float(contribution),
            }
        )
    k = len(strata)
    df = n_total - k
    se = math.sqrt(variance)
    t_two = t_quantile(1 - (1 - CONFIDENCE) / 2, df) if df >= 1 else None
    t_one = t_quantile(CONFIDENCE, df) if df >= 1 else None
    notes = []
    if se == 0:
        lower_two = upper_two = lower_one = float(total)
        notes.append(
            "No sampling error: every stratum was sampled whole or every sampled stratum's "
            "overpayments were all equal, so the limits equal the estimate."
        )
    else:
        assert t_two is not None and t_one is not None  # se > 0 needs a stratum with n_h >= 2
        lower_two = float(total) - t_two * se
        upper_two = float(total) + t_two * se
        lower_one = float(total) - t_one * se
    if total == 0:
        notes.append("The sample found no overpayment: the estimate is $0.")
    ceiling = float(frame_paid)
    unclipped = {
        "estimated_overpayment": float(total),
        "lower_90_two_sided": lower_two,
        "upper_90_two_sided": upper_two,
        "lower_90_one_sided": lower_one,
    }
    if any(not 0 <= value <= ceiling for value in unclipped.values()):
        notes.append(
            "The expansion estimate or a t limit fell outside what is possible and was "
            "clipped to $0 or to the frame's paid dollars (the values before clipping are "
            "under 'unclipped')."
        )
    rounding = {
        "estimated_overpayment": ROUND_HALF_UP,
        "lower_90_two_sided": ROUND_FLOOR,
        "upper_90_two_sided": ROUND_CEILING,
        "lower_90_one_sided": ROUND_FLOOR,
    }
    half_width = t_two * se if t_two is not None else 0.0
    return {
        "confidence": CONFIDENCE,
        "strata": rows,
        "n_strata": k,
        "sample_lines": n_total,
        "frame_lines": frame_lines,
        "frame_paid_amount": float(frame_paid),
        "degrees_of_freedom": df,
        "standard_error": se,
        "t_two_sided_90": t_two,
        "t_one_sided_90": t_one,
        **{
            name: float(_cents(max(0.0, min(value, ceiling)), rounding[name]))
            for name, value in unclipped.items()
        },
        "unclipped": unclipped,
        "precision": (half_width / float(total)) if total > 0 else None,
        "lines_with_overpayment": n_errors,
        "error_rate": n_errors / n_total,
        "estimated_error_rate": float(weighted_errors / frame_lines),
        "notes": notes,
    }
