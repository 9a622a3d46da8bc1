"""Peer comparison for the report: exact binomial tails, funnel limits, percentiles.

A provider's fail rate x/n (audited lines with a `fail` finding over audited lines) is
compared with the overall rate p0 by the exact one-sided binomial test
P(X >= x | n, p0); the funnel plot draws the rates at which that test crosses the
95% and 99.8% limits (one-sided alpha 0.025 and 0.001). Pure Python: no SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

# Funnel limits: (label, one-sided alpha). 95% and 99.8% two-sided limits, as in the
# usual funnel plot; a provider is flagged above a limit when P(X >= x) < alpha.
LIMITS = (("95%", 0.025), ("99.8%", 0.001))
_TERM_TOLERANCE = 1e-17


def _tail_sum(start: int, stop: int, step: int, n: int, p: float) -> float:
    """Sum of pmf(k) for k from `start` towards `stop` (inclusive), moving away from the mode.

    The first term comes from log-gamma; the next ones by the ratio of successive terms.
    Terms shrink monotonically away from the mode, so the sum stops once a term no longer
    changes it.
    """
    q = 1.0 - p
    log_first = (
        math.lgamma(n + 1)
        - math.lgamma(start + 1)
        - math.lgamma(n - start + 1)
        + start * math.log(p)
        + (n - start) * math.log1p(-p)
    )
    term = math.exp(log_first)
    if term == 0.0:
        return 0.0
    ratio_up, ratio_down = p / q, q / p
    total = 0.0
    k = start
    while True:
        total += term
        if (step > 0 and k >= stop) or (step < 0 and k <= stop):
            break
        if step > 0:
            term *= (n - k) / (k + 1) * ratio_up
        else:
            term *= k / (n - k + 1) * ratio_down
        k += step
        if term <= total * _TERM_TOLERANCE:
            break
    return total


def binom_sf(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p), computed from the tail that converges."""
    if x <= 0:
        return 1.0
    if x > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    mode = math.floor((n + 1) * p)
    if x > mode:
        return min(1.0, _tail_sum(x, n, 1, n, p))
    # x at or below the mode: 1 - P(X <= x - 1), summed downward from x - 1.
    return max(0.0, 1.0 - _tail_sum(x - 1, 0, -1, n, p))


def binom_cdf(x: int, n: int, p: float) -> float:
    """P(X <= x)."""
    return 1.0 - binom_sf(x + 1, n, p)


def upper_critical(n: int, p: float, alpha: float) -> int:
    """Smallest x with P(X >= x) < alpha (n + 1 when no x qualifies)."""
    lo, hi = 0, n + 1  # P(X >= n + 1) = 0 < alpha
    while lo < hi:
        mid = (lo + hi) // 2
        if binom_sf(mid, n, p) < alpha:
            hi = mid
        else:
            lo = mid + 1
    return lo


def lower_critical(n: int, p: float, alpha: float) -> int:
    """Largest x with P(X <= x) < alpha (-1 when no x qualifies)."""
    lo, hi = -1, n  # P(X <= -1) = 0 < alpha
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if binom_cdf(mid, n, p) < alpha:
            lo = mid
        else:
            hi = mid - 1
    return lo


def upper_limit_rate(n: int, p: float, alpha: float) -> float:
    """The funnel's upper limit at volume n, drawn half a line below the first flagged
    count, so flagged providers plot above it and the others below."""
    return min(1.0, (upper_critical(n, p, alpha) - 0.5) / n)


def lower_limit_rate(n: int, p: float, alpha: float) -> float:
    return max(0.0, (lower_critical(n, p, alpha) + 0.5) / n)


@dataclass(frozen=True)
class PeerResult:
    p_value: float
    flag: str | None  # the highest limit exceeded ("99.8%", "95%") or None


def compare(x: int, n: int, p0: float) -> PeerResult:
    """One-sided exact binomial test of x failures in n lines against the overall rate."""
    p_value = binom_sf(x, n, p0)
    flag = None
    for label, alpha in LIMITS:
        if p_value < alpha:
            flag = label
    return PeerResult(p_value=p_value, flag=flag)


def midrank_percentiles(rates: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Percentile of each key's rate x/n among all keys: 100 * (below + ties / 2) / N.

    Rates are compared exactly (fractions), so equal rates get equal percentiles.
    """
    keyed = sorted((Fraction(x, n), key) for key, (x, n) in rates.items())
    total = len(keyed)
    result: dict[str, float] = {}
    i = 0
    while i < total:
        j = i
        while j < total and keyed[j][0] == keyed[i][0]:
            j += 1
        pct = 100.0 * (i + (j - i) / 2.0) / total
        for _, key in keyed[i:j]:
            result[key] = pct
        i = j
    return result
