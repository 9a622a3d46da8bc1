"""The review section: findings across nights (age, new, resolved), reviewers' decisions,
and the confirmed and recovered amounts (contract: "Findings across nights")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from jobs.report.context.base import Db

DECISION_ORDER = ("confirmed", "not_an_error", "education", "waived")
RESOLUTION_ORDER = ("passes_now", "not_audited_now", "not_in_extract", "rule_changed")
RESOLUTION_LABELS = {
    "passes_now": "the line is still audited and now passes (e.g. late evidence)",
    "not_audited_now": "the line is no longer audited (reversed, excluded or rejected)",
    "not_in_extract": "the line is no longer in the extract",
    "rule_changed": "the rule's version or one of its parameters changed",
}
DECISION_LABELS = {
    "confirmed": "overpayment confirmed",
    "not_an_error": "not an error: out of the dollars at risk",
    "education": "provider education: stays at risk",
    "waived": "waived until it expires: out of the dollars at risk",
}


def run_date(manifest: dict[str, Any]) -> date:
    """The run's date (ages, waiver expiry): the manifest's run_date, else its start."""
    text = manifest.get("run_date") or str(manifest.get("started_at", ""))[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        return date.today()


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def review_section(db: Db, manifest: dict[str, Any]) -> dict[str, Any]:
    """Every number of the review section; `available` is False for a database without a
    finding lifecycle (an earlier version)."""
    if not db.has("finding_lifecycle"):
        return {"available": False}
    run_id = manifest.get("run_id", "")
    today = run_date(manifest)
    ages = db.model("report_review_ages", run_date=today)
    tonight = db.one(
        """
        select
            count(*) filter (where state = 'open' and first_seen_run_id = $run_id) as n_new,
            count(*) filter (where state = 'open') as n_open,
            count(*) filter (where resolved_run_id = $run_id) as n_resolved,
            count(*) filter (where state = 'resolved') as n_resolved_ever,
            count(*) as n_ever
        from finding_lifecycle
        """,
        {"run_id": run_id},
    )
    resolved = {
        r["resolution"]: r["n"]
        for r in db.rows(
            "select resolution, count(*) as n from finding_lifecycle "
            "where resolved_run_id = $run_id group by resolution",
            {"run_id": run_id},
        )
    }
    decisions = _decisions(db)
    amounts = manifest.get("findings") or {}
    return {
        "available": True,
        "run_date": today,
        "ages": ages,
        "n_open": tonight.get("n_open", 0),
        "n_undecided": sum(a["n_undecided"] for a in ages),
        "n_new": tonight.get("n_new", 0),
        "n_resolved": tonight.get("n_resolved", 0),
        "n_ever": tonight.get("n_ever", 0),
        "resolved": [
            {"resolution": r, "label": RESOLUTION_LABELS[r], "n": resolved.get(r, 0)}
            for r in RESOLUTION_ORDER
        ],
        "decisions": decisions,
        "dollars_at_risk": _money(amounts.get("dollars_at_risk")),
        "dollars_decided": _money(amounts.get("dollars_decided")),
        "lines_decided": amounts.get("lines_decided", 0),
        "confirmed_amount": _money(amounts.get("confirmed_amount")),
        "lines_confirmed": amounts.get("lines_confirmed", 0),
        "recovered_amount": _money(amounts.get("recovered_amount")),
        "has_decisions_file": bool(manifest.get("decisions_file")),
    }


def _decisions(db: Db) -> dict[str, Any]:
    if not db.has("decisions"):
        return {"by_kind": [], "n_current": 0, "n_expired": 0, "n_superseded": 0}
    current = {
        r["decision"]: r
        for r in db.rows(
            """
            select d.decision, count(*) as n_findings,
                   count(*) filter (where l.state = 'open') as n_open
            from decisions as d
            join finding_lifecycle as l using (finding_id)
            where d.decision_status = 'current'
            group by d.decision
            """
        )
    }
    status = {
        r["decision_status"]: r["n"]
        for r in db.rows(
            "select decision_status, count(*) as n from decisions group by decision_status"
        )
    }
    rejected = (
        db.one("select count(*) as n from rejected_rows where table_name = 'decisions'")["n"]
        if db.has("rejected_rows")
        else 0
    )
    return {
        "by_kind": [
            {
                "decision": d,
                "label": DECISION_LABELS[d],
                "n_findings": current.get(d, {}).get("n_findings", 0),
                "n_open": current.get(d, {}).get("n_open", 0),
            }
            for d in DECISION_ORDER
        ],
        "n_current": sum(r["n_findings"] for r in current.values()),
        "n_expired": status.get("expired", 0),
        "n_superseded": status.get("superseded", 0),
        "n_rejected": rejected,
    }


MAX_REJECTED_DECISIONS = 200  # rows listed in the report; all are in rejected_rows.csv


def rejected_decisions(db: Db) -> list[dict[str, Any]] | None:
    """The rejected rows of the decisions file, each with its reasons (data quality), at
    most MAX_REJECTED_DECISIONS of them."""
    if not db.has("rejected_rows"):
        return None
    return db.rows(
        """
        select record_number, reasons,
               json_extract_string(original_values, '$.finding_id') as finding_id,
               json_extract_string(original_values, '$.decision') as decision,
               json_extract_string(original_values, '$.decided_on') as decided_on
        from rejected_rows
        where table_name = 'decisions'
        order by source_file, record_number
        limit $limit
        """,
        {"limit": MAX_REJECTED_DECISIONS},
    )
