"""Chart geometry for the report: plain numbers the templates draw as inline SVG.

Nothing here writes markup; every label reaches the page through the (autoescaping)
templates. Coordinates are rounded to one decimal to keep the file small.
"""

from __future__ import annotations

import math
from typing import Any

from jobs.report import stats

STATUSES = ("fail", "insufficient_history", "review")


def _r(value: float) -> float:
    return round(value, 1)


def nice_ticks(hi: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `hi`."""
    if hi <= 0:
        return [0.0, 1.0]
    raw = hi / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def rule_bars(rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Horizontal bars of findings per rule, stacked by status."""
    if not rules:
        return None
    width, left, right, top, bar, gap = 760, 190, 80, 8, 18, 10
    ticks = nice_ticks(max((r["n_findings"] for r in rules), default=0) or 1)
    hi = ticks[-1]
    plot = width - left - right
    rows = []
    for i, rule in enumerate(rules):
        y = top + i * (bar + gap)
        x = float(left)
        segments = []
        for status in STATUSES:
            n = rule.get(f"n_{status}", 0)
            if not n:
                continue
            w = plot * n / hi
            segments.append({"status": status, "x": _r(x), "width": _r(max(w, 0.5)), "n": n})
            x += w
        rows.append(
            {
                "rule_id": rule["rule_id"],
                "y": y,
                "text_y": y + bar * 0.72,
                "total": rule["n_findings"],
                "total_x": _r(x + 6),
                "segments": segments,
            }
        )
    axis_y = top + len(rules) * (bar + gap)
    return {
        "width": width,
        "height": axis_y + 24,
        "left": left,
        "bar": bar,
        "axis_y": axis_y,
        "plot_right": left + plot,
        "rows": rows,
        "ticks": [{"x": _r(left + plot * t / hi), "value": t} for t in ticks],
    }


def _log_ticks(lo: float, hi: float) -> list[int]:
    ticks = []
    decade = 10 ** math.floor(math.log10(max(lo, 1)))
    while decade <= hi * 10:
        for m in (1, 2, 5):
            v = m * decade
            if lo <= v <= hi:
                ticks.append(int(v))
        decade *= 10
    return ticks


def _volume_grid(lo: int, hi: int, steps: int = 120) -> list[int]:
    if hi <= lo:
        return [lo]
    ratio = (hi / lo) ** (1 / steps)
    grid = sorted({max(lo, min(hi, round(lo * ratio**i))) for i in range(steps + 1)})
    return grid


def funnel(points: list[dict[str, Any]], p0: float) -> dict[str, Any] | None:
    """A funnel plot: providers' fail rate against audited lines (log scale), with the
    overall rate and its exact binomial 95% and 99.8% limits.

    points: dicts with n (lines audited), x (lines failed), flag, anchor, label.
    """
    if not points:
        return None
    width, height = 760, 380
    left, right, top, bottom = 64, 20, 14, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    n_lo = min(p["n"] for p in points)
    n_hi = max(p["n"] for p in points)
    x_lo = max(1.0, n_lo / 1.25)
    x_hi = max(n_hi * 1.25, x_lo * 4)
    grid = _volume_grid(max(1, math.floor(x_lo)), math.ceil(x_hi))

    limits = []
    for label, alpha in stats.LIMITS:
        upper = [(n, stats.upper_limit_rate(n, p0, alpha)) for n in grid]
        lower = [(n, stats.lower_limit_rate(n, p0, alpha)) for n in grid]
        limits.append({"label": label, "upper": upper, "lower": lower})

    top_rate = max(
        [p["x"] / p["n"] for p in points]
        + [p0 * 1.5, 0.01]
        + [min(rate, 1.0) for n, rate in limits[-1]["upper"] if n >= n_lo]
    )
    y_ticks = nice_ticks(min(1.0, top_rate * 1.05), 5)
    y_hi = min(1.0, y_ticks[-1]) or 1.0
    y_ticks = [t for t in y_ticks if t <= y_hi + 1e-12]
    log_lo, log_hi = math.log10(x_lo), math.log10(x_hi)

    def sx(n: float) -> float:
        return _r(left + plot_w * (math.log10(n) - log_lo) / (log_hi - log_lo))

    def sy(rate: float) -> float:
        return _r(top + plot_h * (1 - min(rate, y_hi) / y_hi))

    def polyline(pairs: list[tuple[int, float]]) -> str:
        return " ".join(f"{sx(n)},{sy(rate)}" for n, rate in pairs)

    drawn = []
    for limit in limits:
        drawn.append(
            {
                "label": limit["label"],
                "upper": polyline(limit["upper"]),
                "lower": polyline([(n, r) for n, r in limit["lower"] if r > 0]),
            }
        )
    dots = []
    for p in points:
        dots.append(
            {
                "cx": sx(p["n"]),
                "cy": sy(p["x"] / p["n"]),
                "flag": p["flag"],
                "anchor": p.get("anchor"),
                "label": p["label"],
                "n": p["n"],
                "x": p["x"],
            }
        )
    # Flagged points last, so they are drawn on top.
    dots.sort(key=lambda d: (d["flag"] is not None, d["flag"] == "99.8%"))
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "right": left + plot_w,
        "bottom": top + plot_h,
        "p0_y": sy(p0),
        "limits": drawn,
        "dots": dots,
        "x_ticks": [{"x": sx(v), "value": v} for v in _log_ticks(x_lo, x_hi)],
        "y_ticks": [{"y": sy(v), "value": v} for v in y_ticks],
    }
