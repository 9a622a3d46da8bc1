"""The summary section: ESI lines audited and excluded, totals and dollars at risk, data
coverage, and what changed since the previous successful run."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from typing import Any

from jobs.report.context.base import STATUS_ORDER, Db
from jobs.resources import reports_dir

EXCLUSIONS = (
    (
        "thoracic",
        "Thoracic injections",
        "the claim has a thoracic and no cervical spine diagnosis: outside this cervical audit",
    ),
    (
        "reversal",
        "Reversals",
        "negative paid amount: loaded and counted, never audited; each cancels the line it "
        "reverses, if one matches (same service, amount negated)",
    ),
    (
        "reversed",
        "Reversed lines",
        "cancelled by a reversal: neither audited nor evidence (policy 1.1)",
    ),
    (
        "folded_addon",
        "Add-on lines folded into their primary",
        "64480 / 0229T: audited on their primary line, their amount added to it",
    ),
)
# Columns whose values identify members: their validation examples are hidden by default.


def esi_section(db: Db) -> dict[str, Any]:
    by_status = {r["line_status"]: r for r in db.model("report_esi_lines")}
    audited = by_status.get("audited", {})
    excluded = []
    for reason, label, why in EXCLUSIONS:
        row = by_status.get(reason)
        excluded.append(
            {
                "reason": reason,
                "label": label,
                "why": why,
                "n_lines": row["n_lines"] if row else 0,
                "paid_amount": row["paid_amount"] if row else None,
            }
        )
    for reason in sorted(set(by_status) - {"audited"} - {e[0] for e in EXCLUSIONS}):
        row = by_status[reason]
        excluded.append(
            {
                "reason": reason,
                "label": reason,
                "why": "",
                "n_lines": row["n_lines"],
                "paid_amount": row["paid_amount"],
            }
        )
    out_of_scope = out_of_scope_lines(db)
    return {
        "n_lines": sum(r["n_lines"] for r in by_status.values()),
        "n_audited": audited.get("n_lines", 0),
        "n_sessions": audited.get("n_sessions", 0),
        "n_providers": audited.get("n_providers", 0),
        "audited_paid_amount": audited.get("paid_amount"),
        "first_service_date": audited.get("first_service_date"),
        "last_service_date": audited.get("last_service_date"),
        "excluded": excluded,
        "out_of_scope": out_of_scope,
    }


def out_of_scope_codes() -> list[dict[str, str]]:
    with (reports_dir() / "out_of_scope_codes.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def out_of_scope_lines(db: Db) -> dict[str, Any] | None:
    """Accepted medical-claim lines with an out-of-scope code (``input_coverage``: the
    database keeps only the audited cohort, so the run counts them while reading)."""
    if not db.has("input_coverage"):
        return None
    row = db.one(
        "select n_out_of_scope_lines as n_lines, out_of_scope_paid_amount as paid_amount "
        "from input_coverage"
    )
    return {
        "n_lines": row.get("n_lines") or 0,
        "paid_amount": row.get("paid_amount"),
        "codes": out_of_scope_codes(),
    }


def coverage_section(db: Db, esi: dict[str, Any]) -> dict[str, Any]:
    claims = {}
    if db.has("input_coverage"):
        claims = db.one(
            """
            select n_claim_lines as n_lines, first_service_date,
                   last_service_date as data_through
            from input_coverage
            """
        )
    return {
        "n_claim_lines": claims.get("n_lines"),
        "first_service_date": claims.get("first_service_date"),
        "data_through": claims.get("data_through"),
        "first_esi_date": esi["first_service_date"],
        "last_esi_date": esi["last_service_date"],
    }


def totals_section(db: Db, manifest: dict[str, Any]) -> dict[str, Any]:
    overall = db.one(
        """
        select count(*) as n_findings,
               count(distinct (claim_id, claim_line_number)) as n_lines,
               count(distinct coalesce(rendering_npi, '')) as n_providers
        from findings
        """
    )
    per_status = {
        r["status"]: r
        for r in db.rows(
            """
            with status_lines as (
                select distinct status, claim_id, claim_line_number, paid_amount from findings
            )
            select f.status, f.n_findings, l.n_lines, l.paid_amount
            from (select status, count(*) as n_findings from findings group by status) as f
            join (
                select status, count(distinct (claim_id, claim_line_number)) as n_lines,
                       coalesce(sum(paid_amount), 0) as paid_amount
                from status_lines group by status
            ) as l on f.status = l.status
            """
        )
    }
    statuses = [s for s in STATUS_ORDER] + sorted(set(per_status) - set(STATUS_ORDER))
    by_status = [
        {
            "status": s,
            "n_findings": per_status.get(s, {}).get("n_findings", 0),
            "n_lines": per_status.get(s, {}).get("n_lines", 0),
            "paid_amount": per_status.get(s, {}).get("paid_amount", Decimal("0")),
        }
        for s in statuses
    ]
    pending = db.one(
        """
        with lines as (
            select claim_id, claim_line_number, paid_amount,
                   max(case when status = 'fail' then 1 else 0 end) as has_fail
            from (select distinct status, claim_id, claim_line_number, paid_amount from findings)
            group by claim_id, claim_line_number, paid_amount
        )
        select count(*) as n_lines, coalesce(sum(paid_amount), 0) as paid_amount
        from lines where has_fail = 0
        """
    )
    # Dollars at risk (contract): lines with a fail finding, each once, except those whose
    # fail findings are all decided not_an_error or unexpired waived (shown apart).
    risk = db.one(
        """
        with fail_lines as (
            select data_source, claim_id, claim_line_number, max(paid_amount) as paid_amount,
                   bool_and(review_state in ('not_an_error', 'waived')) as is_decided
            from findings
            where status = 'fail'
            group by data_source, claim_id, claim_line_number
        )
        select coalesce(sum(paid_amount) filter (where not is_decided), 0) as at_risk,
               count(*) filter (where is_decided) as n_decided,
               coalesce(sum(paid_amount) filter (where is_decided), 0) as decided
        from fail_lines
        """
    )
    dollars = risk.get("at_risk", Decimal("0"))
    totals = {
        "n_findings": overall.get("n_findings", 0),
        "n_lines": overall.get("n_lines", 0),
        "n_providers": overall.get("n_providers", 0),
        "by_status": by_status,
        "n_by_status": {s["status"]: s["n_findings"] for s in by_status},
        "dollars_at_risk": dollars,
        "decided_lines": risk.get("n_decided", 0),
        "decided_paid_amount": risk.get("decided", Decimal("0")),
        "pending_lines": pending.get("n_lines", 0),
        "pending_paid_amount": pending.get("paid_amount", Decimal("0")),
    }
    totals["mismatches"] = manifest_mismatches(totals, manifest.get("findings") or {})
    return totals


def manifest_mismatches(totals: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """Differences between the manifest's totals and the findings table (expected: none)."""
    if not recorded:
        return []
    found = []
    if recorded.get("total") is not None and recorded["total"] != totals["n_findings"]:
        found.append(f"findings: manifest {recorded['total']}, database {totals['n_findings']}")
    lines = recorded.get("lines_with_findings")
    if lines is not None and lines != totals["n_lines"]:
        found.append(f"lines with findings: manifest {lines}, database {totals['n_lines']}")
    dollars = recorded.get("dollars_at_risk")
    if dollars is not None and abs(Decimal(str(dollars)) - totals["dollars_at_risk"]) > Decimal(
        "0.005"
    ):
        found.append(f"dollars at risk: manifest {dollars}, database {totals['dollars_at_risk']}")
    return found


def changes_section(db: Db, manifest: dict[str, Any]) -> dict[str, Any] | None:
    run_id = manifest.get("run_id", "")
    row = db.one(
        """
        select run_id, started_at, n_findings, manifest
        from run_history
        where status = 'succeeded'
          and run_seq < (select max(run_seq) from run_history where run_id = $run_id)
        order by run_seq desc
        limit 1
        """,
        {"run_id": run_id},
    )
    if not row:
        return None
    stored = db.one(
        "select count(*) as n from findings_history where run_id = $run_id",
        {"run_id": row["run_id"]},
    )["n"]
    previous: dict[str, Any] = {
        "run_id": row["run_id"],
        "started_at": row["started_at"],
        "n_findings": row["n_findings"],
        "available": not (row["n_findings"] and not stored),
        "parameter_changes": [],
        "rule_version_changes": [],
    }
    try:
        old = json.loads(row["manifest"]) if row["manifest"] else {}
    except (TypeError, ValueError):
        old = {}
    new_params, old_params = manifest.get("parameters") or {}, old.get("parameters") or {}
    for name in sorted(set(new_params) | set(old_params)):
        if new_params.get(name) != old_params.get(name) and old_params:
            previous["parameter_changes"].append(
                {"name": name, "before": old_params.get(name), "now": new_params.get(name)}
            )
    old_rules = {r.get("id"): r.get("version") for r in old.get("rules") or []}
    for r in manifest.get("rules") or []:
        if old_rules and old_rules.get(r.get("id")) != r.get("version"):
            previous["rule_version_changes"].append(
                {"id": r.get("id"), "before": old_rules.get(r.get("id")), "now": r.get("version")}
            )
    if not previous["available"]:
        return previous
    counts: dict[str, dict[str, int]] = {}
    for r in db.model("report_changes", previous_run_id=row["run_id"]):
        counts.setdefault(r["rule_id"], {})[r["change_kind"]] = r["n_findings"]
    previous["by_rule"] = counts
    previous["n_new"] = sum(c.get("new", 0) for c in counts.values())
    previous["n_resolved"] = sum(c.get("resolved", 0) for c in counts.values())
    previous["n_persisting"] = sum(c.get("persisting", 0) for c in counts.values())
    return previous
