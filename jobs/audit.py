"""Run the audit: load value sets, build the shared models, run every rule, record stats.

Business logic lives in SQL (sql/intermediate, sql/rules, sql/marts); this module only
loads reference data, runs the files in order with bound parameters, and writes the
`findings` and `rule_stats` tables. The caller owns the connection and its transactions.

Tables written: value_sets, ref_* (reference CSVs, all text), ndc_crosswalk, every
model of INTERMEDIATE_MODELS and MART_MODELS (named after its file), findings,
rule_stats.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from jobs import params as audit_params
from jobs.resources import sql_dir
from jobs.rules import Rule, load_rules, referenced_parameters

# Shared models, in dependency order; each is materialized as a table named after its file.
INTERMEDIATE_MODELS = (
    "int_esi_codes",
    "int_esi_claim_lines",
    "int_esi_persons",
    "int_person_claim_lines",
    "int_esi_claim_diagnoses",
    "int_esi_claim_dx_matches",
    "int_esi_claims",
    "int_esi_lines",
    "int_esi_sessions",
    "int_guidance_lines",
    "int_person_evidence",
    "int_enrollment_spans",
)
MART_MODELS = ("mart_rule_coverage", "mart_esi_lines")

VALUE_SET_COLUMNS = ("value_set", "code", "code_system", "description", "version", "source")
CROSSWALK_COLUMNS = ("ndc", "ingredient", "drug_class", "route")
STARTER_CROSSWALK = "ndc_crosswalk_starter.csv"
REFERENCE_PREFIX = "ref_"
# Code systems whose entries are words compared in lower case; all others are codes.
LOWER_CASE_SYSTEMS = ("ingredient", "route")

# The contract's exception columns (contract.md "Outputs of run"), then rule_stats.
FINDINGS_COLUMNS = (
    ("run_id", "varchar"),
    ("rule_id", "varchar"),
    ("rule_version", "varchar"),
    ("status", "varchar"),
    ("severity", "varchar"),
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
_NDC = re.compile(r"^[0-9]{11}$")


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


def value_sets_dir() -> Path:
    return sql_dir() / "value_sets"


def _value_set_files() -> list[Path]:
    return [
        p
        for p in sorted(value_sets_dir().glob("*.csv"))
        if p.name != STARTER_CROSSWALK and not p.name.startswith(REFERENCE_PREFIX)
    ]


def _reference_files() -> list[Path]:
    return sorted(value_sets_dir().glob(f"{REFERENCE_PREFIX}*.csv"))


def _read_csv(
    path: Path, expected: tuple[str, ...]
) -> tuple[tuple[str, ...], list[tuple[int, dict[str, str]]]]:
    """The header and (line number, row) pairs of a CSV whose header holds `expected`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in expected if c not in header]
            if missing:
                raise ValueError(f"{path}: header lacks column(s) {', '.join(missing)}")
            reader.fieldnames = header
            return tuple(header), [
                (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None})
                for row in reader
            ]
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path}: not a readable UTF-8 CSV: {e}") from None


def _normalize_code(code: str, code_system: str) -> str:
    if code_system in LOWER_CASE_SYSTEMS:
        return code.lower()
    return code.upper().replace(".", "")


def read_value_sets() -> list[dict[str, str]]:
    """Every value-set row, codes normalized (upper-case without dots; words lower-case)."""
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for path in _value_set_files():
        for line, row in _read_csv(path, VALUE_SET_COLUMNS)[1]:
            for column in ("value_set", "code", "code_system", "version"):
                if not row[column]:
                    raise ValueError(f"{path}: line {line}: {column} is empty")
            if row["value_set"] != path.stem:
                raise ValueError(
                    f"{path}: line {line}: value_set {row['value_set']!r} "
                    "differs from the file name"
                )
            code = _normalize_code(row["code"], row["code_system"])
            key = (row["value_set"], code, row["code_system"])
            if key in seen:
                raise ValueError(f"{path}: line {line}: code {code} appears twice")
            seen.add(key)
            rows.append({**{c: row[c] for c in VALUE_SET_COLUMNS}, "code": code})
    return rows


def value_set_versions() -> dict[str, str]:
    """{value set or reference table: version}, for the run manifest."""
    versions: dict[str, set[str]] = {}
    for row in read_value_sets():
        versions.setdefault(row["value_set"], set()).add(row["version"])
    for path in _reference_files():
        for _, row in _read_csv(path, ("version",))[1]:
            versions.setdefault(path.stem, set()).add(row["version"])
    for name, found in versions.items():
        if len(found) != 1:
            raise ValueError(f"value set {name} has several versions: {', '.join(sorted(found))}")
    return {name: found.pop() for name, found in sorted(versions.items())}


def read_ndc_crosswalk(path: Path) -> list[dict[str, str | None]]:
    """Validated crosswalk rows; a bad file raises ValueError naming the file, line and problem."""
    rows: list[dict[str, str | None]] = []
    by_ndc: dict[str, dict[str, str | None]] = {}
    for line, row in _read_csv(path, CROSSWALK_COLUMNS)[1]:
        ndc = row["ndc"]
        if not _NDC.match(ndc):
            raise ValueError(f"{path}: line {line}: ndc {ndc!r} is not 11 digits (no dashes)")
        for column in ("ingredient", "route"):
            if not row[column]:
                raise ValueError(f"{path}: line {line}: {column} is empty for ndc {ndc}")
        clean: dict[str, str | None] = {
            "ndc": ndc,
            "ingredient": row["ingredient"].lower(),
            "drug_class": row["drug_class"].lower() or None,
            "route": row["route"].lower(),
        }
        if ndc in by_ndc:
            if by_ndc[ndc] != clean:
                raise ValueError(
                    f"{path}: line {line}: ndc {ndc} is listed twice with different values"
                )
            continue
        by_ndc[ndc] = clean
        rows.append(clean)
    return rows


def _write_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], rows: list[dict]
) -> None:
    data = pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in columns})
    view = f"_claims_audit_load_{name}"
    # DuckDB 2 refuses register() while an earlier execute() result is unread.
    con.complete()
    con.register(view, data)
    try:
        con.execute(f"create or replace table {name} as select * from {view}")
    finally:
        con.unregister(view)


def load_reference_data(con: duckdb.DuckDBPyConnection, ndc_crosswalk: Path | None = None) -> None:
    """Tables value_sets, ref_* and ndc_crosswalk (a supplied crosswalk replaces the starter)."""
    _write_table(con, "value_sets", VALUE_SET_COLUMNS, read_value_sets())
    for path in _reference_files():
        columns, rows = _read_csv(path, ())
        _write_table(
            con, path.stem, columns, [{k: v or None for k, v in r.items()} for _, r in rows]
        )
    crosswalk = ndc_crosswalk or value_sets_dir() / STARTER_CROSSWALK
    _write_table(con, "ndc_crosswalk", CROSSWALK_COLUMNS, read_ndc_crosswalk(Path(crosswalk)))


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
    r.claim_id, r.claim_line_number, r.person_id, r.rendering_npi, r.service_date,
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
    and (rule_id <> $rule_id or severity <> $severity or not list_contains($statuses, status))
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
    """The rows of `rule` in _claims_audit_findings must carry its id, severity and statuses."""
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
            "disagrees with its header"
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
        order by rule_order, claim_id, claim_line_number, status, person_id, service_date,
            hcpcs_code, evidence
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
