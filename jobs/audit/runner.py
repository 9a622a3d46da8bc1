"""Run the audit: load value sets, build the shared models, run every rule, record stats.

Business logic lives in SQL (sql/intermediate, sql/rules, sql/marts); this module only
loads reference data, runs the files in order with bound parameters, and writes the
`findings` and `rule_stats` tables. The caller owns the connection and its transactions.

Tables written: value_sets, ref_* (reference CSVs, all text), ndc_crosswalk, every
model of INTERMEDIATE_MODELS and MART_MODELS (named after its file), findings,
rule_stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from jobs.audit import params as audit_params
from jobs.audit.catalog import Rule, load_rules, referenced_parameters
from jobs.audit.reference import load_reference_data
from jobs.resources import sql_dir

# Shared models, in dependency order; each is materialized as a table named after its file.
INTERMEDIATE_MODELS = (
    "int_esi_codes",
    "int_esi_claim_lines",
    "int_esi_persons",
    "int_reversal_matches",
    "int_person_claim_lines",
    "int_esi_claim_diagnoses",
    "int_esi_claim_dx_matches",
    "int_esi_claims",
    "int_esi_lines",
    "int_esi_session_lines",
    "int_esi_sessions",
    "int_guidance_lines",
    "int_person_evidence",
    "int_enrollment_spans",
)
MART_MODELS = ("mart_rule_coverage", "mart_esi_lines", "mart_guidance_lines")

# The exception columns (README, "Outputs"), then rule_stats.
FINDINGS_COLUMNS = (
    ("run_id", "varchar"),
    ("rule_id", "varchar"),
    ("rule_version", "varchar"),
    ("status", "varchar"),
    ("severity", "varchar"),
    ("data_source", "varchar"),
    ("claim_id", "varchar"),
    ("claim_line_number", "integer"),
    ("person_id", "varchar"),
    ("rendering_npi", "varchar"),
    ("service_date", "date"),
    ("hcpcs_code", "varchar"),
    ("paid_amount", "decimal(18, 2)"),
    ("evidence", "varchar"),
)
RULE_STATS_COLUMNS = (
    ("run_id", "varchar"),
    ("rule_id", "varchar"),
    ("rule_version", "varchar"),
    ("title", "varchar"),
    ("severity", "varchar"),
    ("lines_checked", "bigint"),
    ("lines_exempt", "bigint"),
    ("findings", "bigint"),
)


@dataclass(frozen=True)
class RuleStats:
    run_id: str
    rule_id: str
    rule_version: str
    title: str
    severity: str
    lines_checked: int
    lines_exempt: int
    findings: int


def model_sql(name: str) -> str:
    folder = "marts" if name.startswith("mart_") else "intermediate"
    return (sql_dir() / folder / f"{name}.sql").read_text(encoding="utf-8")


def _bound(sql: str, values: dict[str, object]) -> dict[str, object]:
    """Only the parameters the SQL references (DuckDB rejects unused ones)."""
    return {name: values[name] for name in referenced_parameters(sql)}


def _materialize(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, object]) -> None:
    sql = model_sql(name)
    con.execute(f"create or replace table {name} as\n{sql}\n", _bound(sql, values))


_INSERT_RULE_FINDINGS = """
insert into _claims_audit_findings
select
    $ca_rule_order, $ca_run_id, r.rule_id, $ca_rule_version, r.status, r.severity,
    r.data_source, r.claim_id, r.claim_line_number, r.person_id, r.rendering_npi, r.service_date,
    r.hcpcs_code, r.paid_amount, r.evidence
from (
{rule_sql}
) as r
"""
_CHECK_RULE_FINDINGS = """
select count(*)
from _claims_audit_findings
where
    rule_order = $rule_order
    and (
        rule_id <> $rule_id
        or severity <> $severity
        or not list_contains($statuses, status)
        or coalesce(trim(evidence), '') = ''
    )
"""


def _columns_ddl(columns: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name} {sql_type}" for name, sql_type in columns)


def _run_rule(
    con: duckdb.DuckDBPyConnection, rule: Rule, order: int, values: dict[str, object]
) -> None:
    """Append the rule's rows (stamped with run id, rule version); check them against its header."""
    bound = {
        **_bound(rule.sql, values),
        "ca_rule_order": order,
        "ca_run_id": values["run_id"],
        "ca_rule_version": rule.version,
    }
    con.execute(_INSERT_RULE_FINDINGS.replace("{rule_sql}", rule.sql), bound)
    check_rule_rows(con, rule, order)


def check_rule_rows(con: duckdb.DuckDBPyConnection, rule: Rule, order: int) -> None:
    """The rows of `rule` in _claims_audit_findings must carry its id, severity and statuses,
    and an evidence text (never empty: policy section 5)."""
    ((n_bad,),) = con.execute(
        _CHECK_RULE_FINDINGS,
        {
            "rule_order": order,
            "rule_id": rule.id,
            "severity": rule.severity,
            "statuses": list(rule.statuses),
        },
    ).fetchall()
    if n_bad:
        raise RuntimeError(
            f"rule {rule.id} returned {n_bad} row(s) whose rule_id, severity or status "
            "disagrees with its header, or whose evidence is empty"
        )


def run_audit(
    con: duckdb.DuckDBPyConnection,
    params: dict,
    run_id: str,
    *,
    eligibility_supplied: bool,
    ndc_crosswalk: Path | None = None,
) -> list[RuleStats]:
    """Audit the loaded tables; writes `findings` and `rule_stats` and returns the stats."""
    values = audit_values(params, run_id, eligibility_supplied)
    rules = load_rules()
    load_reference_data(con, ndc_crosswalk)
    for name in INTERMEDIATE_MODELS + MART_MODELS:
        _materialize(con, name, values)

    con.execute(
        "create or replace temp table _claims_audit_findings "
        f"(rule_order integer, {_columns_ddl(FINDINGS_COLUMNS)})"
    )
    for order, rule in enumerate(rules):
        _run_rule(con, rule, order, values)
    return store_findings(con, rules, run_id)


def audit_values(params: dict, run_id: str, eligibility_supplied: bool) -> dict[str, object]:
    """The values the SQL files are bound with: the parameters, eligibility, run id."""
    return {
        **audit_params.resolve(params),
        "eligibility_supplied": bool(eligibility_supplied),
        "run_id": run_id,
    }


def store_findings(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], run_id: str
) -> list[RuleStats]:
    """`findings` (in rule order, then by key) from _claims_audit_findings, and `rule_stats`
    from it and mart_rule_coverage; returns the stats."""
    con.execute(f"create or replace table findings ({_columns_ddl(FINDINGS_COLUMNS)})")
    con.execute(
        """
        insert into findings
        select * exclude (rule_order)
        from _claims_audit_findings
        order by rule_order, claim_id, claim_line_number, data_source, status, person_id,
            service_date, hcpcs_code, evidence
        """
    )
    con.execute("drop table _claims_audit_findings")

    coverage = {
        rule_id: (checked, exempt)
        for rule_id, checked, exempt in con.execute(
            "select rule_id, lines_checked, lines_exempt from mart_rule_coverage"
        ).fetchall()
    }
    counts = dict(con.execute("select rule_id, count(*) from findings group by rule_id").fetchall())
    stats = [
        RuleStats(
            run_id=run_id,
            rule_id=rule.id,
            rule_version=rule.version,
            title=rule.title,
            severity=rule.severity,
            lines_checked=int(coverage.get(rule.id, (0, 0))[0]),
            lines_exempt=int(coverage.get(rule.id, (0, 0))[1]),
            findings=int(counts.get(rule.id, 0)),
        )
        for rule in rules
    ]
    con.execute(f"create or replace table rule_stats ({_columns_ddl(RULE_STATS_COLUMNS)})")
    con.executemany(
        "insert into rule_stats values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.run_id,
                s.rule_id,
                s.rule_version,
                s.title,
                s.severity,
                s.lines_checked,
                s.lines_exempt,
                s.findings,
            )
            for s in stats
        ],
    )
    return stats


def manifest_rules(stats: list[RuleStats]) -> list[dict[str, Any]]:
    """Each rule's entry in the run manifest's ``rules``."""
    return [
        {
            "id": s.rule_id,
            "version": s.rule_version,
            "title": s.title,
            "severity": s.severity,
            "lines_checked": s.lines_checked,
            "lines_exempt": s.lines_exempt,
            "findings": s.findings,
        }
        for s in stats
    ]


def finding_totals(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Totals for the manifest; dollars at risk count each failed line once."""
    total, lines = con.execute(
        "select count(*), count(distinct (claim_id, claim_line_number)) from findings"
    ).fetchone()
    by_status = dict(
        con.execute(
            "select status, count(*) from findings group by status order by status"
        ).fetchall()
    )
    amounts = dict(
        con.execute(
            """
            select status, coalesce(sum(paid_amount), 0) from (
                select distinct status, claim_id, claim_line_number, paid_amount from findings
            ) group by status
            """
        ).fetchall()
    )
    return {
        "total": total,
        "lines_with_findings": lines,
        "by_status": by_status,
        "paid_amount_by_status": {k: float(v) for k, v in amounts.items()},
        "dollars_at_risk": float(amounts.get("fail", 0)),
    }
