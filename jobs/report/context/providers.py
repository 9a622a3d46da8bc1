"""The provider section: names, volumes, rates and the peer comparison."""

from __future__ import annotations

from typing import Any

from jobs.config import Config
from jobs.report import stats
from jobs.report.context.base import Db

FLAG_RANK = {"99.8%": 2, "95%": 1}


def practitioners(db: Db, npis: list[str]) -> dict[str, dict[str, Any]]:
    """Name, specialty and affiliation of the providers `npis` (the practitioner table is
    kept whole: 121,000 rows at 100M lines, of which the report shows a few hundred)."""
    if not db.has("practitioner") or not npis:
        return {}
    rows = db.rows(
        """
        select npi,
               min(nullif(trim(concat_ws(' ', nullif(trim(first_name), ''),
                                              nullif(trim(last_name), ''))), '')) as name,
               min(nullif(trim(specialty), '')) as specialty,
               min(nullif(trim(practice_affiliation), '')) as affiliation
        from practitioner
        where npi in (select unnest($npis))
        group by npi
        """,
        {"npis": npis},
    )
    return {r["npi"]: r for r in rows}


def providers_section(
    db: Db, config: Config, rules: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = db.model("report_providers")
    names = practitioners(db, [r["provider_key"] for r in rows if r["provider_key"]])
    per_rule: dict[str, dict[str, int]] = {}
    for r in db.model("report_provider_rules"):
        per_rule.setdefault(r["provider_key"], {})[r["rule_id"]] = r["n_findings"]
    review = {r["provider_key"]: r for r in db.model("report_provider_review")}

    total_audited = sum(r["n_lines_audited"] for r in rows)
    total_failed = sum(r["n_lines_failed"] for r in rows)
    p0 = total_failed / total_audited if total_audited else 0.0
    min_lines = config.min_provider_lines
    eligible = {
        r["provider_key"]: (r["n_lines_failed"], r["n_lines_audited"])
        for r in rows
        if r["provider_key"] != "" and r["n_lines_audited"] >= min_lines
    }
    percentiles = stats.midrank_percentiles(eligible)

    rows.sort(
        key=lambda r: (
            -r["dollars_at_risk"],
            -r["n_lines_with_findings"],
            -r["n_lines_audited"],
            r["provider_key"] == "",
            r["provider_key"],
        )
    )
    providers = []
    for i, r in enumerate(rows, start=1):
        key = r["provider_key"]
        info = names.get(key, {})
        n, x = r["n_lines_audited"], r["n_lines_failed"]
        result = stats.compare(x, n, p0) if key in eligible else None
        name = info.get("name") or info.get("affiliation")
        providers.append(
            {
                "index": i,
                "key": key,
                "npi": key or None,
                "name": name,
                "label": name or ("unknown provider" if key == "" else f"NPI {key}"),
                "specialty": info.get("specialty"),
                "affiliation": info.get("affiliation") if info.get("name") else None,
                "n_lines_audited": n,
                "n_findings": r["n_findings"],
                "n_lines_with_findings": r["n_lines_with_findings"],
                "n_lines_failed": x,
                "rate": (x / n) if n else None,
                "dollars_at_risk": r["dollars_at_risk"],
                "by_rule": [per_rule.get(key, {}).get(rule["rule_id"], 0) for rule in rules],
                "n_open": review.get(key, {}).get("n_open", 0),
                "n_new": review.get(key, {}).get("n_new", 0),
                "n_decided": review.get(key, {}).get("n_decided", 0),
                "eligible": key in eligible,
                "percentile": percentiles.get(key),
                "p_value": result.p_value if result and n and x / n > p0 else None,
                "flag": result.flag if result else None,
                "flag_rank": FLAG_RANK.get(result.flag, 0) if result else 0,
                "anchor": f"d{i}" if r["n_lines_with_findings"] else None,
            }
        )
    flagged = [p for p in providers if p["flag"]]
    peer = {
        "p0": p0,
        "n_lines_audited": total_audited,
        "n_lines_failed": total_failed,
        "min_lines": min_lines,
        "n_eligible": len(eligible),
        "n_flag_998": sum(1 for p in flagged if p["flag"] == "99.8%"),
        "n_flag_95": sum(1 for p in flagged if p["flag"] == "95%"),
        "expected_false_998": len(eligible) * 0.001,
        "expected_false_95": len(eligible) * 0.025,
        "n_unknown_lines": next((p["n_lines_audited"] for p in providers if p["key"] == ""), 0),
        "has_practitioner": bool(names),
        "n_providers": len(providers),
        "n_with_findings": sum(1 for p in providers if p["n_lines_with_findings"]),
    }
    return providers, peer
