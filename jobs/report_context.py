"""The report's data context: every number the compliance report shows.

Numbers come from SQL (sql/marts/report_*.sql and a few one-line queries here) and the
run manifest; this module only assembles them into plain dicts, lists, strings, numbers,
dates and Decimals. The templates format and lay them out; nothing here writes markup.

Tables read (never written): findings, rule_stats, mart_esi_lines, findings_history,
run_history (required); medical_claim, practitioner, rejected_rows, validation_results,
row_issues, value_sets (optional: a section says so when one is missing).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from jobs import params as params_module
from jobs import report_charts, report_ids, report_stats
from jobs.config import Config
from jobs.resources import reports_dir, sql_dir
from jobs.rules import RULE_ORDER, load_rules, referenced_parameters

REQUIRED_TABLES = ("findings", "rule_stats", "mart_esi_lines", "findings_history", "run_history")
STATUS_ORDER = ("fail", "insufficient_history", "review")
STATUS_CSS = {"fail": "sf", "insufficient_history": "si", "review": "sr"}
FLAG_RANK = {"99.8%": 2, "95%": 1}
EXCLUSIONS = (
    (
        "thoracic",
        "Thoracic injections",
        "the claim has a thoracic and no cervical spine diagnosis: outside this cervical audit",
    ),
    ("reversal", "Reversals", "negative paid amount: loaded and counted, never audited"),
    (
        "folded_addon",
        "Add-on lines folded into their primary",
        "64480 / 0229T: audited on their primary line, their amount added to it",
    ),
)
# Columns whose values identify members: their validation examples are hidden by default.
MEMBER_ID_COLUMNS = frozenset({"person_id", "member_id", "patient_id", "subscriber_id"})
TOP_REJECTION_REASONS = 15


class ReportDataError(RuntimeError):
    """The database lacks a table the report needs."""


class _Db:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            name
            for (name,) in con.execute(
                "select distinct table_name from information_schema.tables"
            ).fetchall()
        }

    def has(self, name: str) -> bool:
        return name in self.tables

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or {})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        found = self.rows(sql, params)
        return found[0] if found else {}

    def model(self, name: str, **params: Any) -> list[dict[str, Any]]:
        sql = (sql_dir() / "marts" / f"{name}.sql").read_text(encoding="utf-8")
        bound = {k: params[k] for k in referenced_parameters(sql)}
        return self.rows(sql, bound)


# ------------------------------------------------------------------ entry point


def build_context(
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    config: Config,
    *,
    member_key: bytes | None = None,
    generated_at: str | None = None,
) -> dict[str, Any]:
    db = _Db(con)
    missing = [t for t in REQUIRED_TABLES if not db.has(t)]
    if missing:
        raise ReportDataError(f"report: the database lacks table(s) {', '.join(missing)}")

    raw_ids = config.member_ids == "raw"
    if raw_ids:
        member = lambda value: value or ""  # noqa: E731
    else:
        key = member_key or report_ids.member_key(_db_path(manifest))
        member = report_ids.hasher(key)

    rules_meta = _rule_catalog()
    run = _run(manifest, config, generated_at, raw_ids, rules_meta)
    esi = _esi_lines(db)
    totals = _totals(db, manifest)
    previous = _previous_run(db, manifest)
    rules = _rules(db, rules_meta, esi["n_audited"], manifest, previous)
    providers, peer = _providers(db, config, rules)
    drilldown = _drilldown(db, config, providers, rules, previous, member)
    quality = _quality(db, manifest, raw_ids)
    coverage = _coverage(db, esi)
    return {
        "run": run,
        "coverage": coverage,
        "esi": esi,
        "totals": totals,
        "changes": previous,
        "rules": rules,
        "providers": providers,
        "peer": peer,
        "drilldown": drilldown,
        "quality": quality,
        "charts": {
            "rules": report_charts.rule_bars(rules),
            "funnel": report_charts.funnel(
                [
                    {
                        "n": p["n_lines_audited"],
                        "x": p["n_lines_failed"],
                        "flag": p["flag"],
                        "anchor": p["anchor"],
                        "label": p["label"],
                    }
                    for p in providers
                    if p["eligible"]
                ],
                peer["p0"],
            ),
        },
        "sources": _sources(),
        "assets": _assets(len(providers)),
    }


# ------------------------------------------------------------------ run and parameters


def _db_path(manifest: dict[str, Any]) -> Path | None:
    db = manifest.get("db")
    return Path(db) if db else None


def _rule_catalog() -> dict[str, dict[str, Any]]:
    texts = tomllib.loads((reports_dir() / "rules.toml").read_text(encoding="utf-8"))
    catalog: dict[str, dict[str, Any]] = {}
    for rule in load_rules():
        text = texts.get(rule.id, {})
        catalog[rule.id] = {
            "title": rule.title,
            "version": rule.version,
            "severity": rule.severity,
            "citation": rule.citation,
            "label": text.get("label", rule.id),
            "meaning": text.get("meaning", rule.title),
        }
    return catalog


def _run(
    manifest: dict[str, Any],
    config: Config,
    generated_at: str | None,
    raw_ids: bool,
    rules_meta: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    values = manifest.get("parameters") or dict(config.parameters)
    parameters = []
    known = {p.name: p for p in params_module.PARAMETERS}
    for name in list(known) + sorted(set(values) - set(known)):
        if name not in values:
            continue
        spec = known.get(name)
        parameters.append(
            {
                "name": name,
                "value": values[name],
                "default": spec.default if spec else None,
                "is_default": spec is not None and values[name] == spec.default,
                "help": spec.help if spec else "",
            }
        )
    rule_versions = [
        {"id": r.get("id"), "version": r.get("version")} for r in manifest.get("rules") or []
    ] or [{"id": k, "version": v["version"]} for k, v in rules_meta.items()]
    return {
        "run_id": manifest.get("run_id", ""),
        "started_at": manifest.get("started_at", ""),
        "generated_at": generated_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tool_version": manifest.get("tool_version", ""),
        "input_dir": manifest.get("input_dir", ""),
        "eligibility_supplied": bool(manifest.get("eligibility_supplied")),
        "raw_member_ids": raw_ids,
        "parameters": parameters,
        "report_settings": [
            {"name": "min_provider_lines", "value": config.min_provider_lines},
            {"name": "max_lines_per_provider", "value": config.max_lines_per_provider},
            {"name": "max_drilldown_lines", "value": _max_drilldown(config)},
            {"name": "member_ids", "value": config.member_ids},
        ],
        "rule_versions": rule_versions,
        "value_sets": sorted((manifest.get("value_sets") or {}).items()),
        "max_rejected_share": manifest.get("max_rejected_share"),
    }


def _max_drilldown(config: Config) -> int:
    return int(config.max_drilldown_lines)


def _sources() -> dict[str, Any]:
    return tomllib.loads((reports_dir() / "sources.toml").read_text(encoding="utf-8"))


def _assets(n_providers: int) -> dict[str, str]:
    folder = reports_dir() / "assets"
    css = (folder / "report.css").read_text(encoding="utf-8")
    # The provider table is laid out only when scrolled into view (content-visibility):
    # its placeholder height, estimated from the number of rows, keeps the scroll bar honest.
    css += f"#providers-wrap {{ contain-intrinsic-size: auto {28 * n_providers + 60}px; }}\n"
    js = (folder / "report.js").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():
        raise ValueError("report assets must not contain closing script/style tags")

    def digest(text: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()

    csp = (
        "default-src 'none'; "
        f"style-src '{digest(css)}'; script-src '{digest(js)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return {"css": css, "js": js, "csp": csp}


# ------------------------------------------------------------------ lines and totals


def _esi_lines(db: _Db) -> dict[str, Any]:
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
    out_of_scope = _out_of_scope(db)
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


def _out_of_scope_codes() -> list[dict[str, str]]:
    with (reports_dir() / "out_of_scope_codes.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _out_of_scope(db: _Db) -> dict[str, Any] | None:
    if not db.has("medical_claim"):
        return None
    codes = _out_of_scope_codes()
    row = db.one(
        """
        select count(*) as n_lines, sum(paid_amount) as paid_amount
        from medical_claim
        where list_contains($codes, hcpcs_code)
        """,
        {"codes": [c["code"] for c in codes]},
    )
    return {"n_lines": row.get("n_lines", 0), "paid_amount": row.get("paid_amount"), "codes": codes}


def _coverage(db: _Db, esi: dict[str, Any]) -> dict[str, Any]:
    claims = {}
    if db.has("medical_claim"):
        claims = db.one(
            """
            select count(*) as n_lines, min(service_date) as first_service_date,
                   max(service_date) as data_through
            from medical_claim
            """
        )
    return {
        "n_claim_lines": claims.get("n_lines"),
        "first_service_date": claims.get("first_service_date"),
        "data_through": claims.get("data_through"),
        "first_esi_date": esi["first_service_date"],
        "last_esi_date": esi["last_service_date"],
    }


def _totals(db: _Db, manifest: dict[str, Any]) -> dict[str, Any]:
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
    dollars = next(s["paid_amount"] for s in by_status if s["status"] == "fail")
    totals = {
        "n_findings": overall.get("n_findings", 0),
        "n_lines": overall.get("n_lines", 0),
        "n_providers": overall.get("n_providers", 0),
        "by_status": by_status,
        "n_by_status": {s["status"]: s["n_findings"] for s in by_status},
        "dollars_at_risk": dollars,
        "pending_lines": pending.get("n_lines", 0),
        "pending_paid_amount": pending.get("paid_amount", Decimal("0")),
    }
    totals["mismatches"] = _manifest_mismatches(totals, manifest.get("findings") or {})
    return totals


def _manifest_mismatches(totals: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
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


# ------------------------------------------------------------------ changes since the last run


def _previous_run(db: _Db, manifest: dict[str, Any]) -> dict[str, Any] | None:
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


# ------------------------------------------------------------------ rules


def _rules(
    db: _Db,
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


# ------------------------------------------------------------------ providers


def _practitioners(db: _Db) -> dict[str, dict[str, Any]]:
    if not db.has("practitioner"):
        return {}
    rows = db.rows(
        """
        select npi,
               min(nullif(trim(concat_ws(' ', nullif(trim(first_name), ''),
                                              nullif(trim(last_name), ''))), '')) as name,
               min(nullif(trim(specialty), '')) as specialty,
               min(nullif(trim(practice_affiliation), '')) as affiliation
        from practitioner
        where npi is not null
        group by npi
        """
    )
    return {r["npi"]: r for r in rows}


def _providers(
    db: _Db, config: Config, rules: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = db.model("report_providers")
    names = _practitioners(db)
    per_rule: dict[str, dict[str, int]] = {}
    for r in db.model("report_provider_rules"):
        per_rule.setdefault(r["provider_key"], {})[r["rule_id"]] = r["n_findings"]

    total_audited = sum(r["n_lines_audited"] for r in rows)
    total_failed = sum(r["n_lines_failed"] for r in rows)
    p0 = total_failed / total_audited if total_audited else 0.0
    min_lines = config.min_provider_lines
    eligible = {
        r["provider_key"]: (r["n_lines_failed"], r["n_lines_audited"])
        for r in rows
        if r["provider_key"] != "" and r["n_lines_audited"] >= min_lines
    }
    percentiles = report_stats.midrank_percentiles(eligible)

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
        result = report_stats.compare(x, n, p0) if key in eligible else None
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


# ------------------------------------------------------------------ drill-down


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


def _drilldown(
    db: _Db,
    config: Config,
    providers: list[dict[str, Any]],
    rules: list[dict[str, Any]],
    previous: dict[str, Any] | None,
    member: Any,
) -> dict[str, Any]:
    with_findings = [p for p in providers if p["n_lines_with_findings"]]
    # Flagged providers first, then the others; each group in report order.
    priority = sorted(with_findings, key=lambda p: -p["flag_rank"])
    allotted = allot_lines(
        [p["n_lines_with_findings"] for p in priority],
        config.max_lines_per_provider,
        _max_drilldown(config),
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
        "budget": _max_drilldown(config),
        "is_partial": len(detailed) < len(with_findings) or any(s["n_hidden"] for s in sections),
        "n_providers": len(with_findings),
        "n_detailed": len(detailed),
        "cap": max(shown, default=0),
        "n_lines_shown": sum(shown),
        "n_lines_hidden": sum(p["n_lines_with_findings"] for p in with_findings) - sum(shown),
        "has_previous": previous_id is not None,
        "sections": sections,
    }


# ------------------------------------------------------------------ data quality


def _esi_codes(db: _Db) -> list[str]:
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
    from jobs.audit import read_value_sets

    return sorted(
        {r["code"] for r in read_value_sets() if r["value_set"] == "esi_cervical_thoracic"}
    )


def _quality(db: _Db, manifest: dict[str, Any], raw_ids: bool) -> dict[str, Any]:
    input_dir = manifest.get("input_dir") or ""
    inputs = []
    for f in manifest.get("inputs") or []:
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
        by_reason = db.model("report_rejected_esi", esi_codes=_esi_codes(db))
        esi_rejected = {
            "n_rows": sum(r["n_rows"] for r in by_reason),
            "paid_amount": sum((r["paid_amount"] or Decimal("0")) for r in by_reason),
            "by_reason": by_reason,
        }
    return {
        "inputs": inputs,
        "validation": validation,
        "rejection_reasons": reasons,
        "n_rejected_rows": n_reasons,
        "warnings": warnings,
        "esi_rejected": esi_rejected,
    }
