"""The data-quality section: input files, validation results, rejections and warnings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobs.report.context.base import Db

MEMBER_ID_COLUMNS = frozenset({"person_id", "member_id", "patient_id", "subscriber_id"})


TOP_REJECTION_REASONS = 15


def esi_codes(db: Db) -> list[str]:
    if db.has("value_sets"):
        codes = [
            r["code"]
            for r in db.rows(
                "select distinct code from value_sets "
                "where value_set = 'esi_cervical_thoracic' order by code"
            )
        ]
        if codes:
            return codes
    from jobs.audit.reference import read_value_sets

    return sorted(
        {r["code"] for r in read_value_sets() if r["value_set"] == "esi_cervical_thoracic"}
    )


def quality_section(db: Db, manifest: dict[str, Any], raw_ids: bool) -> dict[str, Any]:
    input_dir = manifest.get("input_dir") or ""
    inputs = []
    # the reviewers' decisions file is read and validated like an extract (issue 15)
    decisions = [manifest["decisions_file"]] if manifest.get("decisions_file") else []
    for f in [*(manifest.get("inputs") or []), *decisions]:
        path = str(f.get("path", ""))
        shown = path
        if input_dir and path.startswith(input_dir.rstrip("/") + "/"):
            shown = path[len(input_dir.rstrip("/")) + 1 :]
        read, accepted, rejected = (
            f.get("rows_read"),
            f.get("rows_accepted"),
            f.get("rows_rejected"),
        )
        inputs.append(
            {
                "table": f.get("table"),
                "file": shown,
                "path": path,
                "sha256": f.get("sha256") or "",
                "rows_read": read,
                "rows_accepted": accepted,
                "rows_rejected": rejected,
                "rows_with_warnings": f.get("rows_with_warnings"),
                "balanced": None
                if None in (read, accepted, rejected)
                else read == accepted + rejected,
            }
        )

    volume = [{"table": name, **t} for name, t in (manifest.get("volume") or {}).items()]

    validation: dict[str, Any] = {"available": db.has("validation_results"), "tables": []}
    if validation["available"]:
        results = db.rows(
            """
            select table_name, expectation_type, column_name, reason, level, description,
                   success, element_count, unexpected_count, unexpected_examples
            from validation_results
            order by table_name, success, level, reason, column_name, expectation_type,
                     description
            """
        )
        tables: dict[str, dict[str, Any]] = {}
        for r in results:
            t = tables.setdefault(
                r["table_name"], {"table": r["table_name"], "failed": [], "passed": []}
            )
            examples = r["unexpected_examples"] or ""
            if examples and not raw_ids and (r["column_name"] or "") in MEMBER_ID_COLUMNS:
                examples = "(member ids hidden)"
            r = {**r, "unexpected_examples": examples}
            (t["passed"] if r["success"] else t["failed"]).append(r)
        validation["tables"] = list(tables.values())

    reasons = (
        db.model("report_rejection_reasons")[:TOP_REJECTION_REASONS]
        if db.has("rejected_rows")
        else None
    )
    n_reasons = (
        db.one("select count(*) as n from rejected_rows")["n"] if db.has("rejected_rows") else None
    )
    warnings = db.model("report_row_warnings") if db.has("row_issues") else None
    esi_rejected = None
    if db.has("rejected_rows"):
        by_reason = db.model("report_rejected_esi", esi_codes=esi_codes(db))
        esi_rejected = {
            "n_rows": sum(r["n_rows"] for r in by_reason),
            "paid_amount": sum((r["paid_amount"] or Decimal("0")) for r in by_reason),
            "by_reason": by_reason,
        }
    return {
        "inputs": inputs,
        "volume": volume,
        "max_volume_drop": manifest.get("max_volume_drop"),
        "validation": validation,
        "rejection_reasons": reasons,
        "n_rejected_rows": n_reasons,
        "warnings": warnings,
        "esi_rejected": esi_rejected,
    }
