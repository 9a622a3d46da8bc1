"""The findings-by-rule section."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobs.audit.catalog import RULE_ORDER
from jobs.report.context.base import Db


def rules_section(
    db: Db,
    catalog: dict[str, dict[str, Any]],
    n_audited: int,
    manifest: dict[str, Any],
    previous: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    found = {r["rule_id"]: r for r in db.model("report_rules")}
    position = {rule_id: i for i, rule_id in enumerate(RULE_ORDER)}
    order = sorted(set(found) | set(catalog), key=lambda r: (position.get(r, len(position)), r))
    changes = (previous or {}).get("by_rule") or {}
    rules = []
    for rule_id in order:
        row = found.get(rule_id, {})
        meta = catalog.get(rule_id, {})
        n_lines = row.get("n_lines", 0)
        n_audited_lines = row.get("n_audited_lines", 0)
        rules.append(
            {
                "rule_id": rule_id,
                "label": meta.get("label", rule_id),
                "title": row.get("title") or meta.get("title", rule_id),
                "meaning": meta.get("meaning", ""),
                "citation": meta.get("citation", ""),
                "severity": row.get("severity") or meta.get("severity", ""),
                "version": row.get("rule_version") or meta.get("version", ""),
                "lines_checked": row.get("lines_checked"),
                "lines_exempt": row.get("lines_exempt"),
                "n_findings": row.get("n_findings", 0),
                "n_lines": n_lines,
                "n_audited_lines": n_audited_lines,
                "n_other_lines": n_lines - n_audited_lines,
                "share": (n_audited_lines / n_audited) if n_audited else None,
                "n_fail": row.get("n_fail", 0),
                "n_insufficient_history": row.get("n_insufficient_history", 0),
                "n_review": row.get("n_review", 0),
                "fail_paid_amount": row.get("fail_paid_amount", Decimal("0")),
                "other_paid_amount": row.get("insufficient_history_paid_amount", Decimal("0"))
                + row.get("review_paid_amount", Decimal("0")),
                "changes": changes.get(rule_id, {}),
            }
        )
    return rules
