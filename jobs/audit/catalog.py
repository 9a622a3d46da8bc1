"""The rule catalog: one SQL file per rule, its metadata in a `-- key: value` header.

A rule file (sql/rules/<rule_id>.sql) starts with a block of comment lines:

    -- rule_id: conservative_care
    -- version: 1.0.0
    -- title: Six weeks of conservative care before the injection
    -- severity: high
    -- statuses: fail, insufficient_history
    -- grain: one row per audited ESI line ...
    -- value_sets: conservative_care_pt, conservative_care_ot, ...
    -- parameters: conservative_min_days, conservative_lookback_days, eligibility_supplied
    -- citation: Policy section 2.2 and 4; LCD L39240/A58993 ...

A line `--   more text` (two or more spaces after `--`) continues the previous key;
the header ends at the first line that is neither. Every key above is required;
`parameters` lists exactly the `$name` parameters the SQL uses (it may be empty).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from jobs.audit import params as audit_params
from jobs.resources import sql_dir

# The policy's order (sections 2 and 3); files not listed follow alphabetically.
RULE_ORDER = (
    "qualifying_dx",
    "conservative_care",
    "prior_imaging",
    "imaging_guidance",
    "session_frequency",
    "guidance_unbundled",
    "myelopathy_review",
    "interlaminar_levels",
    "transforaminal_levels",
)
HEADER_KEYS = (
    "rule_id",
    "version",
    "title",
    "severity",
    "statuses",
    "grain",
    "value_sets",
    "parameters",
    "citation",
)
SEVERITIES = ("high", "medium", "review")
STATUSES = ("fail", "insufficient_history", "review")
# Bound by the runner from the run itself, not configured by users.
RUNTIME_PARAMETERS = ("eligibility_supplied",)
OUTPUT_COLUMNS = (
    "rule_id",
    "status",
    "severity",
    "data_source",
    "claim_id",
    "claim_line_number",
    "person_id",
    "rendering_npi",
    "service_date",
    "hcpcs_code",
    "paid_amount",
    "evidence",
)

_KEY_LINE = re.compile(r"^--\s?([a-z_]+):(.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# Comments, string literals and quoted identifiers are skipped; `$name` outside them is a parameter.
_SQL_TOKENS = re.compile(
    r"(?P<skip>--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)",
    re.DOTALL,
)


class RuleHeaderError(ValueError):
    """A rule file whose header is missing, incomplete or inconsistent with its SQL."""


@dataclass(frozen=True)
class Rule:
    id: str
    version: str
    title: str
    severity: str
    statuses: tuple[str, ...]
    grain: str
    value_sets: tuple[str, ...]
    parameters: tuple[str, ...]
    citation: str
    path: Path
    sql: str


def rules_dir() -> Path:
    return sql_dir() / "rules"


def known_parameters() -> tuple[str, ...]:
    return tuple(audit_params.DEFAULTS) + RUNTIME_PARAMETERS


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_header(sql: str, path: Path | str = "<sql>") -> dict[str, str]:
    """The `-- key: value` block at the top of a rule file, as a dict of stripped strings."""
    header: dict[str, str] = {}
    last_key: str | None = None
    for line in sql.splitlines():
        line = line.rstrip()
        key_match = _KEY_LINE.match(line)
        if key_match and key_match.group(1) in HEADER_KEYS:
            last_key = key_match.group(1)
            if last_key in header:
                raise RuleHeaderError(f"{path}: header key {last_key!r} appears twice")
            header[last_key] = key_match.group(2).strip()
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and last_key is not None:
            header[last_key] = f"{header[last_key]} {continuation.group(1).strip()}".strip()
            continue
        break
    missing = [key for key in HEADER_KEYS if key not in header]
    if missing:
        raise RuleHeaderError(f"{path}: rule header is missing {', '.join(missing)}")
    return header


def referenced_parameters(sql: str) -> list[str]:
    """Names of the `$name` parameters the SQL uses, in order of first use."""
    names: list[str] = []
    for match in _SQL_TOKENS.finditer(sql):
        name = match.group("name")
        if name and name not in names:
            names.append(name)
    return names


def load_rule(path: Path) -> Rule:
    """Parse and check one rule file; raises RuleHeaderError naming the file and the problem."""
    sql = path.read_text(encoding="utf-8")
    header = parse_header(sql, path)
    rule_id = header["rule_id"]
    if rule_id != path.stem:
        raise RuleHeaderError(f"{path}: rule_id {rule_id!r} does not match the file name")
    if not _VERSION.match(header["version"]):
        raise RuleHeaderError(f"{path}: version {header['version']!r} is not MAJOR.MINOR.PATCH")
    if header["severity"] not in SEVERITIES:
        raise RuleHeaderError(
            f"{path}: severity {header['severity']!r} is not one of {', '.join(SEVERITIES)}"
        )
    statuses = _split_list(header["statuses"])
    unknown_statuses = [s for s in statuses if s not in STATUSES]
    if not statuses or unknown_statuses:
        raise RuleHeaderError(f"{path}: statuses {header['statuses']!r} must be among {STATUSES}")
    for key in ("title", "grain", "citation"):
        if not header[key]:
            raise RuleHeaderError(f"{path}: header key {key!r} is empty")
    declared = _split_list(header["parameters"])
    unknown = [p for p in declared if p not in known_parameters()]
    if unknown:
        raise RuleHeaderError(f"{path}: unknown parameter(s) {', '.join(unknown)}")
    used = referenced_parameters(sql)
    if set(declared) != set(used):
        raise RuleHeaderError(
            f"{path}: header parameters {sorted(declared)} differ from those "
            f"the SQL uses {sorted(used)}"
        )
    return Rule(
        id=rule_id,
        version=header["version"],
        title=header["title"],
        severity=header["severity"],
        statuses=statuses,
        grain=header["grain"],
        value_sets=_split_list(header["value_sets"]),
        parameters=declared,
        citation=header["citation"],
        path=path,
        sql=sql,
    )


def load_rules(directory: Path | None = None) -> list[Rule]:
    """Every rule of sql/rules, in the policy's order."""
    paths = sorted((directory or rules_dir()).glob("*.sql"))
    rules = [load_rule(p) for p in paths]
    position = {rule_id: i for i, rule_id in enumerate(RULE_ORDER)}
    return sorted(rules, key=lambda r: (position.get(r.id, len(RULE_ORDER)), r.id))


def get_rule(rule_id: str) -> Rule:
    for rule in load_rules():
        if rule.id == rule_id:
            return rule
    known = ", ".join(r.id for r in load_rules())
    raise KeyError(f"unknown rule {rule_id!r} (known: {known})")


def sql_literal(value: object) -> str:
    """A typed SQL literal for a parameter value (configuration values, never data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a SQL literal")


def bind_sql(sql: str, params: dict[str, object]) -> str:
    """The SQL with every `$name` replaced by the literal of params[name].

    Comments and string literals are left as they are. Raises KeyError naming a
    parameter the SQL uses but `params` lacks.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is None:
            return match.group(0)
        if name not in params:
            raise KeyError(f"SQL parameter ${name} has no value")
        return sql_literal(params[name])

    return _SQL_TOKENS.sub(replace, sql)


def to_spark_sql(sql: str, params: dict[str, object]) -> str:
    """The SQL bound with `params` and translated by sqlglot from DuckDB to Spark SQL.

    DuckDB needs `interval ($n) day` for a bound parameter; once bound, the
    parentheses are dropped so Spark receives `INTERVAL '180' DAY`.
    """
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(bind_sql(sql, params), read="duckdb")

    def unwrap_interval(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Interval) and isinstance(node.this, exp.Paren):
            inner = node.this.this
            if isinstance(inner, exp.Literal):
                return exp.Interval(this=exp.Literal.string(inner.name), unit=node.args.get("unit"))
        return node

    return tree.transform(unwrap_interval).sql(dialect="spark", pretty=True)
