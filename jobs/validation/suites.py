"""Expectation suites: what makes an input row rejected (blocking) or flagged (warning).

The shipped suites are Great Expectations ExpectationSuite JSON files in
`expectations/<table>.json`, one per input table, loadable with
`ExpectationSuite(**json.load(f))`. Every expectation carries
`meta = {"reason", "level", "description"}` (and `column` for SQL checks), which is
what the loader writes into `rejected_rows` and the report shows.

The JSON is generated from the input contract (`jobs/ingest/schema.py`) by `build_suite`, so a
column added to the schema gets its checks; regenerate with

    python -m jobs.validation.suites --write      # rewrite expectations/*.json
    python -m jobs.validation.suites --check      # exit 1 when the shipped JSON is stale

(`tests/validation` fails when the shipped JSON and `build_suite` disagree.)

Two kinds of expectations are used:
- GX column-map expectations (not null, regex) for single-column shape checks; GX
  gives the failing-row query itself;
- `unexpected_rows_expectation` with plain DuckDB SQL for what GX has no built-in
  for on SQL (real calendar dates, NPI check digit, duplicate keys, cross-column
  warnings). Each such query selects `source_file, record_number, value` from the
  staging table (`{batch}`), one row per failing input row; `value` is a short
  text shown as an example in the report. The queries may call the staging macros
  (`ca_parse_date`, `ca_npi_is_valid`), the `code_validity` reference table, and
  ``stg_<table>_repeated_keys`` (the keys occurring more than once, computed once
  when the table is staged: `repeated_keys_sql`).

Rules for that SQL (checked by the tests): literal braces are doubled (GX formats
`{batch}` with str.format), no `:` (SQLAlchemy's text() would read `:name` as a bind
parameter) and no `%` (the psycopg2-derived dialect escapes it).

Importing this module does not import Great Expectations.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.ingest import schema
from jobs.resources import expectations_dir

BLOCKING = "blocking"
WARNING = "warning"

CODE_VALIDITY_CSV = "code_validity.csv"
CODE_VALIDITY_TABLE = "code_validity"

# ---------------------------------------------------------------------------
# Shapes (anchored: GX's regex expectations compile to DuckDB's `~`, which
# matches anywhere in the string).
# ---------------------------------------------------------------------------
# CPT 5 digits, HCPCS Level II letter + 4 digits, CPT Category II/III (and PLA) 4 digits + letter.
HCPCS_REGEX = "^([0-9]{5}|[A-Z][0-9]{4}|[0-9]{4}[A-Z])$"
# ICD-10-CM without the dot: letter, digit, then alphanumerics; 3 to 7 characters.
ICD10CM_REGEX = "^[A-Z][0-9][A-Z0-9]{1,5}$"
NDC11_REGEX = "^[0-9]{11}$"

# Code types (LOWER kind: already lower-case) under which procedure codes are HCPCS/CPT.
HCPCS_CODE_TYPES = ("hcpcs", "cpt")


@dataclass(frozen=True)
class SuiteEntry:
    """One expectation of a suite, as the loader and the report see it."""

    table: str
    reason: str
    level: str  # 'blocking' | 'warning'
    column: str | None
    description: str
    expectation_type: str


# ---------------------------------------------------------------------------
# Loading the shipped suites (no GX import)
# ---------------------------------------------------------------------------


def suite_path(table: str) -> Path:
    return expectations_dir() / f"{table}.json"


def suite_tables() -> list[str]:
    """Every table with a shipped suite: the input tables, then the reviewers' decisions."""
    return [*schema.TABLES, schema.DECISIONS.name]


def load_suite(table: str) -> dict[str, Any]:
    """The shipped suite of `table` as a dict (`ExpectationSuite(**load_suite(t))` builds it)."""
    if table not in suite_tables():
        raise KeyError(f"no expectation suite for unknown table {table!r}")
    with suite_path(table).open(encoding="utf-8") as f:
        return json.load(f)


def entry_of(table: str, expectation: dict[str, Any]) -> SuiteEntry:
    """(reason, level, column, description) of one expectation dict of a suite."""
    meta = expectation.get("meta") or {}
    kwargs = expectation.get("kwargs") or {}
    missing = [k for k in ("reason", "level", "description") if not meta.get(k)]
    if missing:
        raise ValueError(
            f"expectation {expectation.get('type')} of suite {table!r} lacks meta {missing}"
        )
    if meta["level"] not in (BLOCKING, WARNING):
        raise ValueError(f"expectation level must be blocking or warning, got {meta['level']!r}")
    return SuiteEntry(
        table=table,
        reason=meta["reason"],
        level=meta["level"],
        column=meta.get("column") or kwargs.get("column"),
        description=meta["description"],
        expectation_type=expectation["type"],
    )


def spans_files(expectation: dict[str, Any]) -> bool:
    """True for a check that spans the files of a run (duplicate keys): it is run on every
    file each time, never reused with a file's earlier validation."""
    return bool(((expectation.get("meta") or {}).get("prefilter") or {}).get("keys"))


def spanning_reasons(table: str) -> list[str]:
    """The reasons of the checks of `table` that span files (duplicate keys)."""
    return [e["meta"]["reason"] for e in load_suite(table)["expectations"] if spans_files(e)]


def suite_entries(table: str, suite: dict[str, Any] | None = None) -> list[SuiteEntry]:
    """Every expectation of the suite of `table` (shipped one unless given), in suite order."""
    suite = load_suite(table) if suite is None else suite
    return [entry_of(table, e) for e in suite["expectations"]]


def reasons(table: str | None = None) -> dict[str, str]:
    """reason id -> level, for one table or all tables."""
    tables = [table] if table else list(schema.TABLES)
    out: dict[str, str] = {}
    for t in tables:
        for e in suite_entries(t):
            out[e.reason] = e.level
    return out


def load_code_validity(con: Any, path: Path | None = None) -> None:
    """(Re)create table `code_validity` (code, valid_from, valid_to, note) from the shipped CSV.

    valid_from / valid_to are inclusive; empty means open-ended. A code listed here is
    valid on a date when one of its rows covers the date; codes not listed are not
    checked.
    """
    path = path or expectations_dir() / CODE_VALIDITY_CSV
    con.execute(
        f"""
        create or replace table {CODE_VALIDITY_TABLE} as
        select cast(code as varchar) as code,
               cast(valid_from as date) as valid_from,
               cast(valid_to as date) as valid_to,
               cast(note as varchar) as note
        from read_csv($path, header = true, all_varchar = true)
        """,
        {"path": str(path)},
    )


# ---------------------------------------------------------------------------
# Building the suites from the contract
# ---------------------------------------------------------------------------


def _exp(
    type_: str,
    kwargs: dict[str, Any],
    reason: str,
    level: str,
    description: str,
    column: str | None = None,
    prefilter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"reason": reason, "level": level, "description": description}
    if column is not None and column != kwargs.get("column"):
        meta["column"] = column
    if prefilter is None:
        raise ValueError(f"expectation {reason} on {column} declares no prefilter")
    meta["prefilter"] = prefilter
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": meta,
        "description": description,
        "severity": "critical" if level == BLOCKING else "warning",
    }


def _plain(sql: str) -> str:
    """SQL written for GX's str.format (literal braces doubled) as plain SQL."""
    return sql.replace("{{", "{").replace("}}", "}")


def _values(columns: list[str], bad: str) -> dict[str, Any]:
    """Prefilter of a check that depends on the values of `columns` only: `bad` is a
    condition on their staged values (and ``<column>__invalid``) that holds for every
    value combination the check can fail (jobs.validation.scan)."""
    return {"values": list(columns), "bad": _plain(bad)}


def _rows(condition: str) -> dict[str, Any]:
    """Prefilter of a check across the columns of one row: `condition` on the row's text
    as read (the contract's column names) holds for every row the check can fail whose
    values all convert (a row with a value that does not convert is a candidate anyway,
    by its value checks), so it may convert the cheap way (`ca_loose_date`, `try_cast`)."""
    return {"row": _plain(condition)}


def _loose_date(column: str) -> str:
    return f"ca_loose_date({column})"


def _loose_amount(column: str) -> str:
    return f"try_cast({column} as {schema.SQL_TYPES[schema.AMOUNT].lower()})"


# Prefilter of a check that spans the files of a run (duplicate keys).
_KEYS: dict[str, Any] = {"keys": True}
# Prefilter of a check on a table staged whole, never scanned (the reviewers' decisions):
# every row is a candidate.
_EVERY_ROW: dict[str, Any] = {"row": "true"}


def _not_null(column: str, reason: str, level: str, description: str) -> dict[str, Any]:
    return _exp(
        "expect_column_values_to_not_be_null",
        {"column": column},
        reason,
        level,
        description,
        prefilter=_values([column], f"{column} is null"),
    )


def _regex(column: str, regex: str, reason: str, description: str) -> dict[str, Any]:
    """`column`, when present, must match `regex` (anchored).

    Checked once per distinct value, then the failing values' rows are found:
    at 100M rows a regular expression per row costs seconds per column, while
    codes, amounts and line numbers repeat a lot. (GX's own
    expect_column_values_to_match_regex evaluates the expression on every row.)
    """
    pattern = regex[1:-1].replace("{", "{{").replace("}", "}}")
    return _sql_on_values(
        reason,
        BLOCKING,
        column,
        description,
        [column],
        f"not regexp_full_match({column}, '{pattern}')",
        column,
        rows=f"{column} is not null",
    )


def _sql(
    reason: str,
    level: str,
    column: str | None,
    description: str,
    where: str,
    value: str,
    ctes: str = "",
    qualify: str = "",
    prefilter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # NOT MATERIALIZED: `b` is read twice by the value and key checks (grouping, then
    # the rows), and DuckDB 2.0 would otherwise copy the whole batch into a CTE buffer
    # first (100M lines: the rendering_npi check's count 7.3 s -> 2.5 s, its rows
    # 13.8 s -> 1.4 s). The Spark translation drops the hint.
    query = (
        "with b as not materialized (select * from {batch})" + ctes + "\n"
        f"select source_file, record_number, {value} as value\n"
        "from b\n"
        f"where {where}" + (f"\nqualify {qualify}" if qualify else "")
    )
    return _exp(
        "unexpected_rows_expectation",
        {"unexpected_rows_query": query},
        reason,
        level,
        description,
        column=column,
        prefilter=prefilter,
    )


def _sql_on_values(
    reason: str,
    level: str,
    column: str | None,
    description: str,
    columns: list[str],
    invalid: str,
    value: str,
    rows: str = "",
    prefilter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A check that depends only on the values of `columns`: each distinct combination is
    checked once (codes, dates and NPIs repeat a lot), then the rows holding a failing
    combination are returned. Unless `prefilter` says otherwise, the scan finds the
    candidate rows the same way (`invalid` on the distinct values).

    `invalid` is a condition on `columns`; `rows` an extra condition on the rows that are
    checked at all. The `case when n > 0` keeps DuckDB from pushing `invalid` below the
    GROUP BY, where it would run once per row again.
    """
    names = ", ".join(columns)
    checked_where = f"\nwhere {rows}" if rows else ""
    if len(columns) == 1:
        match = f"{columns[0]} in (select {columns[0]} from bad)"
    else:
        pairs = " and ".join(f"bad.{c} is not distinct from b.{c}" for c in columns)
        match = f"exists (select 1 from bad where {pairs})"
    ctes = (
        f",\nchecked as (select {names}, count(*) as n from b{checked_where} group by all),\n"
        f"bad as (select {names} from checked where case when n > 0 then {invalid} else false end)"
    )
    where = f"{rows} and {match}" if rows else match
    if prefilter is None:
        prefilter = _values(columns, f"({rows}) and ({invalid})" if rows else invalid)
    return _sql(reason, level, column, description, where, value, ctes=ctes, prefilter=prefilter)


def _invalid_npi(column: str) -> dict[str, Any]:
    return _sql_on_values(
        "invalid_npi",
        BLOCKING,
        column,
        f"{column} is present but is not a valid NPI (10 digits with a correct check digit).",
        [column],
        # The CASE guards ca_npi_is_valid: as shipped, its AND does not short-circuit on a
        # column, so a value shorter than 10 characters raises a conversion error.
        f"not (case when regexp_full_match({column}, '[0-9]{{{{10}}}}') "
        f"then coalesce(ca_npi_is_valid({column}), false) else false end)",
        column,
        rows=f"{column} is not null",
    )


def _dates_out_of_order(start: str, end: str, what: str) -> dict[str, Any]:
    return _sql(
        "dates_out_of_order",
        WARNING,
        end,
        f"The {what} ends ({end}) before it starts ({start}).",
        f"{end} < {start}",
        f"cast({start} as varchar) || ' > ' || cast({end} as varchar)",
        # The texts compared first: equal texts are the same date, never out of order, and
        # most lines start and end on the same day, so most rows skip both conversions
        # (issue 14: 0.5 s of pass 2 at 10M lines).
        prefilter=_rows(f"{end} <> {start} and {_loose_date(end)} < {_loose_date(start)}"),
    )


# Duplicate keys: the tables checked, their key, and the rows the check applies to.
# (The key is the contract's; eligibility has none: a person has many spans.)
_CLAIM_KEY_ROWS = "claim_id is not null and claim_line_number is not null"
DUPLICATE_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "medical_claim": (schema.MEDICAL_CLAIM.key, _CLAIM_KEY_ROWS),
    "pharmacy_claim": (schema.PHARMACY_CLAIM.key, _CLAIM_KEY_ROWS),
    **{
        t.name: (t.key, f"{t.key[0]} is not null")
        for t in (schema.PROCEDURE, schema.ENCOUNTER, schema.CONDITION, schema.PRACTITIONER)
    },
}


def repeated_keys_table(table: str) -> str:
    """The staging helper holding the keys of ``stg_<table>`` that occur more than once."""
    return f"stg_{table}_repeated_keys"


def repeated_keys_sql(table: str) -> str | None:
    """The select that fills `repeated_keys_table` from ``stg_<table>`` (None: no key check).

    One pass over the staged table, run once when the table is staged (the duplicate-key
    expectation reads the result: Great Expectations runs an SQL expectation twice and
    the job keeps its failing rows once more, and this grouping is the costly part). A
    first grouping of a 64-bit hash of the key (8 bytes a row, however long the ids)
    finds the candidate keys; only their rows are grouped on the real key, so the result
    is exact. NULL is a value here (a missing data_source is one source). `keyed` is not
    materialized: scanning the three columns twice is cheaper than DuckDB copying them
    (100M lines: 10 s instead of 17 s).
    """
    if table not in DUPLICATE_KEYS:
        return None
    key, rows = DUPLICATE_KEYS[table]
    keys = ", ".join(key)
    return (
        f"with keyed as not materialized (select {keys}, hash({keys}) as key_hash "
        f"from stg_{table} "
        f"where {rows}),\n"
        "repeated as (select key_hash from keyed group by key_hash having count(*) > 1)\n"
        f"select {keys}, count(*) as copies from keyed\n"
        "where key_hash in (select key_hash from repeated)\n"
        f"group by {keys} having count(*) > 1"
    )


def create_repeated_keys(con: Any, table: str) -> None:
    """Write `repeated_keys_table` of a staged table (no-op for a table without a key)."""
    sql = repeated_keys_sql(table)
    if sql:
        con.execute(f"create or replace table {repeated_keys_table(table)} as {sql}")


def drop_repeated_keys(con: Any, table: str) -> None:
    con.execute(f"drop table if exists {repeated_keys_table(table)}")


def _duplicates(table: str, reason_column: str | None, description: str, value: str) -> dict:
    """Rows whose key occurs more than once (every copy), from `repeated_keys_table`."""
    key, rows = DUPLICATE_KEYS[table]
    same = " and ".join(f"k.{c} is not distinct from b.{c}" for c in key)
    where = f"{rows} and exists (select 1 from {repeated_keys_table(table)} as k where {same})"
    return _sql(
        "duplicate_key", BLOCKING, reason_column, description, where, value, prefilter=_KEYS
    )


def _duplicate_claim_key(table: str) -> dict[str, Any]:
    return _duplicates(
        table,
        None,
        "The key (claim_id, claim_line_number, data_source) occurs more than once in the "
        "input; every copy is rejected.",
        # the staged line number is an INTEGER: '01', '1' and '1.0' are line 1
        "claim_id || ' / ' || claim_line_number || ' / ' || coalesce(data_source, '(none)')",
    )


def _duplicate_id(table: str) -> dict[str, Any]:
    (column,) = DUPLICATE_KEYS[table][0]
    description = f"{column} occurs more than once in the input; every copy is rejected."
    return _duplicates(table, column, description, column)


def _missing(column: str, table: schema.Table) -> dict[str, Any]:
    description = f"The required value {column} is missing."
    if table.column(column).converted:
        # NULL in a converted column is missing *or* unconvertible; only the first is this.
        missing = f"{column} is null and {schema.invalid_column(column)} is null"
        return _sql(
            f"missing_{column}",
            BLOCKING,
            column,
            description,
            missing,
            "'(missing)'",
            prefilter=_values([column], missing),
        )
    return _not_null(column, f"missing_{column}", BLOCKING, description)


def _unconverted(column: str, reason: str, description: str, rows: str = "") -> dict[str, Any]:
    """A converted column (date, amount, number, line number) whose text did not convert.

    The loader converts once while staging and keeps the failing text in
    `<column>__invalid`, so this is a null check, not a per-row parse.
    """
    # `rows` narrows the check to some rows; the candidates are every row whose value
    # does not convert (a superset).
    unconverted = _values([column], f"{schema.invalid_column(column)} is not null")
    if not rows:
        return _exp(
            "expect_column_values_to_be_null",
            {"column": schema.invalid_column(column)},
            reason,
            BLOCKING,
            description,
            column=column,
            prefilter=unconverted,
        )
    return _sql(
        reason,
        BLOCKING,
        column,
        description,
        f"{schema.invalid_column(column)} is not null and {rows}",
        schema.invalid_column(column),
        prefilter=unconverted,
    )


def _shape_checks(table: schema.Table, skip: set[str]) -> list[dict[str, Any]]:
    """Per-column value checks driven by the column kinds of the contract."""
    out: list[dict[str, Any]] = []
    for col in table.columns:
        name = col.name
        if name in skip:
            continue
        if col.kind == schema.INTEGER:
            out.append(
                _unconverted(
                    name,
                    f"invalid_{name}",
                    f"{name} is present but is not a positive whole number.",
                )
            )
        elif col.kind == schema.DATE:
            out.append(
                _unconverted(
                    name, "invalid_date", f"{name} is present but is not a real calendar date."
                )
            )
        elif col.kind == schema.HCPCS:
            out.append(
                _regex(
                    name,
                    HCPCS_REGEX,
                    "malformed_hcpcs_code",
                    f"{name} is present but is not a 5-character HCPCS/CPT code "
                    "(5 digits, a letter and 4 digits, or 4 digits and a letter).",
                )
            )
        elif col.kind == schema.DX:
            out.append(
                _regex(
                    name,
                    ICD10CM_REGEX,
                    "malformed_diagnosis_code",
                    f"{name} is present but is not shaped like an ICD-10-CM code "
                    "(a letter, a digit, then letters or digits; 3 to 7 characters).",
                )
            )
        elif col.kind == schema.NDC:
            out.append(
                _regex(
                    name,
                    NDC11_REGEX,
                    "malformed_ndc_code",
                    f"{name} is present but is not an NDC of 11 digits.",
                )
            )
        elif col.kind == schema.NPI:
            out.append(_invalid_npi(name))
        elif col.kind == schema.AMOUNT:
            invalid = schema.invalid_column(name)
            out.append(
                _unconverted(
                    name,
                    "invalid_amount",
                    f"{name} is present but is not an amount of money.",
                    rows=f"{name} is null",
                )
            )
            out.append(
                _sql(
                    "amount_sub_cent",
                    WARNING,
                    name,
                    f"{name} has more than two decimals; it is kept exact.",
                    f"{invalid} is not null and {name} is not null",
                    invalid,
                    prefilter=_values([name], f"{invalid} is not null and {name} is not null"),
                )
            )
        elif col.kind == schema.NUMBER:
            out.append(
                _unconverted(name, "invalid_number", f"{name} is present but is not a number.")
            )
    return out


def _medical_claim() -> list[dict[str, Any]]:
    t = schema.MEDICAL_CLAIM
    exps = [_missing(c, t) for c in ("claim_id", "claim_line_number", "person_id")]
    line_invalid = schema.invalid_column("claim_line_start_date")
    line_date_given = f"(claim_line_start_date is not null or {line_invalid} is not null)"
    no_start_date = (
        f"claim_start_date is null and {schema.invalid_column('claim_start_date')} is null"
    )
    exps.append(
        _sql(
            "missing_service_date",
            BLOCKING,
            "claim_start_date",
            "The service date is missing: neither claim_line_start_date nor "
            "claim_start_date is present.",
            f"not {line_date_given} and {no_start_date}",
            "'(missing)'",
            # candidates: every row without a claim_start_date (a superset)
            prefilter=_values(["claim_start_date"], no_start_date),
        )
    )
    exps.append(
        _unconverted(
            "claim_line_start_date",
            "invalid_service_date",
            "The service date claim_line_start_date is not a real calendar date.",
        )
    )
    exps.append(
        _unconverted(
            "claim_start_date",
            "invalid_service_date",
            "The service date claim_start_date (the line has no claim_line_start_date) "
            "is not a real calendar date.",
            rows=f"not {line_date_given}",
        )
    )
    exps.append(
        _unconverted(
            "claim_start_date",
            "invalid_date",
            "claim_start_date is present but is not a real calendar date.",
            rows=line_date_given,
        )
    )
    exps += _shape_checks(t, skip={"claim_start_date", "claim_line_start_date"})
    exps.append(_duplicate_claim_key("medical_claim"))
    # Warnings
    exps.append(
        _not_null(
            "rendering_npi",
            "missing_rendering_npi",
            WARNING,
            "rendering_npi is missing: findings on this line go to 'unknown provider'.",
        )
    )
    exps.append(_dates_out_of_order("claim_start_date", "claim_end_date", "claim"))
    exps.append(_dates_out_of_order("claim_line_start_date", "claim_line_end_date", "claim line"))

    def inconsistent(lower: str, higher: str) -> str:
        return f"{lower} >= 0 and {higher} >= 0 and {lower} > {higher}"

    for lower, higher in (("paid_amount", "allowed_amount"), ("allowed_amount", "charge_amount")):
        exps.append(
            _sql(
                "amounts_inconsistent",
                WARNING,
                lower,
                f"{lower} is greater than {higher} (both present and not negative).",
                # both staged as DECIMAL(18, 6)
                inconsistent(lower, higher),
                f"'{lower} ' || {lower} || ' > {higher} ' || {higher}",
                prefilter=_rows(inconsistent(_loose_amount(lower), _loose_amount(higher))),
            )
        )
    service_date = "service_date"  # staged: claim_line_start_date, else claim_start_date
    loose_service_date = (
        f"coalesce({_loose_date('claim_line_start_date')}, {_loose_date('claim_start_date')})"
    )
    code = "upper(nullif(trim(hcpcs_code), ''))"  # as staged
    exps.append(
        _sql_on_values(
            "code_not_valid_on_date",
            WARNING,
            "hcpcs_code",
            "hcpcs_code is well-formed but not valid on the service date "
            "(see expectations/code_validity.csv).",
            ["hcpcs_code", "service_date"],
            f"""{service_date} is not null and not exists (
    select 1 from {CODE_VALIDITY_TABLE} v
    where v.code = checked.hcpcs_code
      and {service_date} >= coalesce(v.valid_from, date '0001-01-01')
      and {service_date} <= coalesce(v.valid_to, date '9999-12-31'))""",
            f"hcpcs_code || ' on ' || cast({service_date} as varchar)",
            rows=f"hcpcs_code in (select code from {CODE_VALIDITY_TABLE})",
            # the same test row by row, only on the lines whose code has validity dates (a
            # correlated subquery would be decorrelated over every line). The line's code and
            # service date are put in a one-element list first, so they are computed once
            # per line, not once per validity row (issue 14: 0.7 s to 0.4 s at 10M lines).
            prefilter=_rows(
                f"""case when {code} in (select code from {CODE_VALIDITY_TABLE})
    then list_transform([{{
        'code': {code},
        'day': {loose_service_date},
        'validity': (select list({{'code': code, 'valid_from': valid_from, 'valid_to': valid_to}})
            from {CODE_VALIDITY_TABLE})}}],
        lambda line: coalesce(len(list_filter(line.validity, lambda v: v.code = line.code
            and line.day >= coalesce(v.valid_from, date '0001-01-01')
            and line.day <= coalesce(v.valid_to, date '9999-12-31'))) = 0, false))[1]
    else false end"""
            ),
        )
    )
    return exps


def _pharmacy_claim() -> list[dict[str, Any]]:
    t = schema.PHARMACY_CLAIM
    # A fill without its dispensing date cannot be placed in a look-back window.
    exps = [
        _missing(c, t) for c in ("claim_id", "claim_line_number", "person_id", "dispensing_date")
    ]
    exps += _shape_checks(t, skip=set())
    exps.append(_duplicate_claim_key("pharmacy_claim"))
    return exps


def _eligibility() -> list[dict[str, Any]]:
    t = schema.ELIGIBILITY
    exps = [_missing(c, t) for c in ("person_id", "enrollment_start_date")]
    exps += _shape_checks(t, skip=set())
    exps.append(_dates_out_of_order("enrollment_start_date", "enrollment_end_date", "enrollment"))
    return exps


def _coded_check(
    column: str, type_column: str, applies: str, regex: str, reason: str, description: str
) -> dict[str, Any]:
    """`column` must match `regex` on the rows where `applies` (a condition on its type)."""
    pattern = regex[1:-1].replace("{", "{{").replace("}", "}}")
    return _sql_on_values(
        reason,
        BLOCKING,
        column,
        description,
        [column, type_column],
        f"({applies}) and not regexp_full_match({column}, '{pattern}')",
        column,
        rows=f"{column} is not null",
    )


def _procedure() -> list[dict[str, Any]]:
    t = schema.PROCEDURE
    exps = [_missing(c, t) for c in ("procedure_id", "person_id", "procedure_date")]
    exps += _shape_checks(t, skip=set())
    types = ", ".join(f"'{x}'" for x in HCPCS_CODE_TYPES)
    for col in ("source_code", "normalized_code"):
        type_col = f"{col}_type"
        exps.append(
            _coded_check(
                col,
                type_col,
                f"{type_col} in ({types})",
                HCPCS_REGEX,
                "malformed_hcpcs_code",
                f"{col} is typed HCPCS/CPT ({type_col}) but is not a 5-character HCPCS/CPT code.",
            )
        )
    exps.append(_duplicate_id("procedure"))
    return exps


def _encounter() -> list[dict[str, Any]]:
    t = schema.ENCOUNTER
    exps = [_missing(c, t) for c in ("encounter_id", "person_id", "encounter_start_date")]
    exps += _shape_checks(t, skip=set())
    exps.append(_duplicate_id("encounter"))
    exps.append(_dates_out_of_order("encounter_start_date", "encounter_end_date", "encounter"))
    return exps


def _condition() -> list[dict[str, Any]]:
    t = schema.CONDITION
    exps = [_missing(c, t) for c in ("condition_id", "person_id", "recorded_date")]
    # source_code / normalized_code are DX-kind, but a condition may be coded in another
    # system (snomed-ct, icd-9-cm): check the ICD-10-CM shape only when the type is
    # missing or ICD-10 (the type is not trusted between -cm and -pcs, as on claims).
    exps += _shape_checks(t, skip={"source_code", "normalized_code"})
    for col in ("source_code", "normalized_code"):
        type_col = f"{col}_type"
        exps.append(
            _coded_check(
                col,
                type_col,
                f"{type_col} is null or starts_with({type_col}, 'icd-10')",
                ICD10CM_REGEX,
                "malformed_diagnosis_code",
                f"{col} (no type, or an ICD-10 type) is not shaped like an ICD-10-CM code.",
            )
        )
    exps.append(_duplicate_id("condition"))
    return exps


def _practitioner() -> list[dict[str, Any]]:
    t = schema.PRACTITIONER
    exps = [_missing("npi", t)]
    exps += _shape_checks(t, skip=set())
    exps.append(_duplicate_id("practitioner"))
    return exps


# The reviewers' decisions (contract: "Findings across nights"). The file is staged like
# an extract (stg_decisions) and validated after the run's finding lifecycle is built:
# `unknown_finding_id` reads ``finding_lifecycle`` (every finding ever seen).
DECISION_KINDS = ("confirmed", "not_an_error", "education", "waived")


def _decisions() -> list[dict[str, Any]]:
    t = schema.DECISIONS
    exps = [_missing(c, t) for c in ("finding_id", "decision", "reviewer", "decided_on")]
    exps += _shape_checks(t, skip=set())
    exps.append(
        _exp(
            "expect_column_values_to_be_in_set",
            {"column": "decision", "value_set": list(DECISION_KINDS)},
            "unknown_decision",
            BLOCKING,
            "decision is not one of " + ", ".join(DECISION_KINDS) + ".",
            prefilter=_EVERY_ROW,
        )
    )
    exps.append(
        _sql(
            "unknown_finding_id",
            BLOCKING,
            "finding_id",
            "finding_id names no finding this audit database has ever seen.",
            "finding_id is not null and not exists "
            "(select 1 from finding_lifecycle as l where l.finding_id = b.finding_id)",
            "finding_id",
            prefilter=_EVERY_ROW,
        )
    )
    exps.append(
        _sql(
            "negative_amount",
            BLOCKING,
            "recovered_amount",
            "recovered_amount is negative.",
            "recovered_amount < 0",
            "cast(recovered_amount as varchar)",
            prefilter=_EVERY_ROW,
        )
    )
    exps.append(
        _sql(
            "recovered_amount_not_confirmed",
            BLOCKING,
            "recovered_amount",
            "recovered_amount is given for a decision other than confirmed.",
            "recovered_amount is not null and decision <> 'confirmed'",
            "decision || ' ' || cast(recovered_amount as varchar)",
            prefilter=_EVERY_ROW,
        )
    )
    exps.append(
        _sql(
            "expires_before_decided",
            BLOCKING,
            "expires_on",
            "expires_on is before decided_on.",
            "expires_on < decided_on",
            "cast(decided_on as varchar) || ' > ' || cast(expires_on as varchar)",
            prefilter=_EVERY_ROW,
        )
    )
    exps.append(
        _sql(
            "duplicate_decision",
            BLOCKING,
            None,
            "Two or more decisions for one finding on the same decided_on: the latest "
            "cannot be told apart, so every copy is rejected.",
            "exists (select 1 from repeated as r "
            "where r.finding_id = b.finding_id and r.decided_on = b.decided_on)",
            "finding_id || ' on ' || cast(decided_on as varchar)",
            ctes=",\nrepeated as (select finding_id, decided_on from b "
            "where finding_id is not null and decided_on is not null "
            "group by finding_id, decided_on having count(*) > 1)",
            prefilter=_EVERY_ROW,
        )
    )
    return exps


_BUILDERS = {
    "medical_claim": _medical_claim,
    "pharmacy_claim": _pharmacy_claim,
    "eligibility": _eligibility,
    "procedure": _procedure,
    "encounter": _encounter,
    "condition": _condition,
    "practitioner": _practitioner,
    "decisions": _decisions,
}


def build_suite(table: str) -> dict[str, Any]:
    """The suite of `table` as generated from the contract (what the JSON file should hold)."""
    return {
        "name": table,
        "id": None,
        "expectations": _BUILDERS[table](),
        "meta": {
            "great_expectations_version": "1.24.1",
            "claims_audit": (
                f"Input checks of stg_{table}; generated by `python -m jobs.validation.suites`."
            ),
        },
        "notes": None,
    }


def _render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.validation.suites", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="rewrite expectations/*.json")
    group.add_argument("--check", action="store_true", help="exit 1 when a JSON file is stale")
    args = parser.parse_args(argv)
    stale = []
    for table in suite_tables():
        text = _render(build_suite(table))
        path = suite_path(table)
        if args.write:
            path.write_text(text, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
    if stale:
        print("stale expectation suites: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
