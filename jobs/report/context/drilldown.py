"""The drill-down section: each provider's flagged lines within the report's line budget."""

from __future__ import annotations

from datetime import date
from typing import Any

from jobs.config import Config
from jobs.report.context.base import STATUS_CSS, STATUS_ORDER, Db, max_drilldown


def drilldown_cap(counts: list[int], per_provider: int, budget: int) -> int:
    """The largest per-provider line count c <= per_provider with sum(min(n, c)) <= budget."""
    if sum(min(n, per_provider) for n in counts) <= budget:
        return per_provider
    lo, hi = 0, per_provider
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in counts) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


SECTION_COST = 10  # the drill-down details at most one provider per this many lines of budget


def allot_lines(counts: list[int], per_provider: int, budget: int) -> list[int]:
    """How many flagged lines each provider shows; `counts` in priority order.

    When every provider's lines fit (up to `per_provider` each) within `budget`, all are
    shown. Otherwise the first budget // SECTION_COST providers are detailed, each with up
    to the same number of lines c (the largest c that fits: small providers show all their
    lines, large ones c), and the others show none: at payer scale thousands of one-line
    sections would cost more to open than they tell.
    """
    full = [min(n, per_provider) for n in counts]
    if sum(full) <= budget:
        return full
    k = min(len(counts), max(1, budget // SECTION_COST))
    cap = drilldown_cap(counts[:k], per_provider, budget)
    return [min(n, cap) for n in counts[:k]] + [0] * (len(counts) - k)


def drilldown_section(
    db: Db,
    config: Config,
    providers: list[dict[str, Any]],
    rules: list[dict[str, Any]],
    previous: dict[str, Any] | None,
    member: Any,
    today: date,
) -> dict[str, Any]:
    with_findings = [p for p in providers if p["n_lines_with_findings"]]
    # Flagged providers first, then the others; each group in report order.
    priority = sorted(with_findings, key=lambda p: -p["flag_rank"])
    allotted = allot_lines(
        [p["n_lines_with_findings"] for p in priority],
        config.max_lines_per_provider,
        max_drilldown(config),
    )
    lines_for = {p["key"]: n for p, n in zip(priority, allotted, strict=True)}
    detailed = [p for p in with_findings if lines_for[p["key"]]]
    for p in with_findings:
        if not lines_for[p["key"]]:
            p["anchor"] = None  # no section to link to
    previous_id = previous["run_id"] if previous and previous.get("available") else None
    rows = (
        db.model(
            "report_drilldown",
            provider_keys=[p["key"] for p in detailed],
            line_caps=[lines_for[p["key"]] for p in detailed],
            previous_run_id=previous_id,
            run_date=today,
        )
        if detailed
        else []
    )
    position = {r["rule_id"]: i for i, r in enumerate(rules)}
    status_position = {s: i for i, s in enumerate(STATUS_ORDER)}
    lines: dict[str, dict[tuple[Any, Any], dict[str, Any]]] = {}
    for r in rows:
        per_provider = lines.setdefault(r["provider_key"], {})
        line = per_provider.get((r["claim_id"], r["claim_line_number"]))
        if line is None:
            line = per_provider[(r["claim_id"], r["claim_line_number"])] = {
                "rank": r["line_rank"],
                "service_date": r["service_date"],
                "claim_id": r["claim_id"],
                "claim_line_number": r["claim_line_number"],
                "hcpcs_code": r["hcpcs_code"],
                "member": member(r["person_id"]),
                "paid_amount": r["paid_amount"],
                "findings": [],
            }
        line["findings"].append(
            {
                "rule_id": r["rule_id"],
                "status": r["status"],
                "css": STATUS_CSS.get(r["status"], ""),
                "evidence": r["evidence"],
                "is_new": previous_id is not None and bool(r["is_new"]),
                "review_state": r["review_state"],
                "age_days": r["age_days"],
            }
        )
    sections = []
    for p in detailed:
        shown = sorted(lines.get(p["key"], {}).values(), key=lambda line: line["rank"])
        for line in shown:
            line["findings"].sort(
                key=lambda f: (
                    position.get(f["rule_id"], len(position)),
                    status_position.get(f["status"], len(status_position)),
                    f["evidence"] or "",
                )
            )
        for line in shown:
            states = [f["review_state"] for f in line["findings"] if f["review_state"]]
            line["review_states"] = ", ".join(dict.fromkeys(states))
            ages = [f["age_days"] for f in line["findings"] if f["age_days"] is not None]
            line["age_days"] = max(ages) if ages else None
        sections.append(
            {
                "anchor": p["anchor"],
                "label": p["label"],
                "npi": p["npi"],
                "specialty": p["specialty"],
                "n_lines": p["n_lines_with_findings"],
                "n_findings": p["n_findings"],
                "dollars_at_risk": p["dollars_at_risk"],
                "flag": p["flag"],
                "lines": shown,
                "n_hidden": p["n_lines_with_findings"] - len(shown),
            }
        )
    shown = [len(s["lines"]) for s in sections]
    return {
        "max_lines_per_provider": config.max_lines_per_provider,
        "budget": max_drilldown(config),
        "is_partial": len(detailed) < len(with_findings) or any(s["n_hidden"] for s in sections),
        "n_providers": len(with_findings),
        "n_detailed": len(detailed),
        "cap": max(shown, default=0),
        "n_lines_shown": sum(shown),
        "n_lines_hidden": sum(p["n_lines_with_findings"] for p in with_findings) - sum(shown),
        "has_previous": previous_id is not None,
        "sections": sections,
    }
