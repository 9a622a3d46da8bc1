"""Findings across nights: the finding id and the lifecycle (contract: "Findings across nights").

``finding_id`` is the first 16 hex digits of the SHA-256 of ``data_source``, ``claim_id``,
``claim_line_number`` and ``rule_id`` joined by the unit separator (U+001F), a missing
value as empty text and the line number as a decimal integer (``7``, never ``07``): the
same line and rule give the same id in every run and on both engines (it is computed in
the local audit database, after the findings came back from either engine).

``finding_lifecycle`` (one row per finding ever seen) is rebuilt in the database being
built from the published one (the last successful run) and this run's findings
(sql/review/finding_lifecycle.sql says how each resolution is told apart). A failed run
never publishes its database, so it changes nothing.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from jobs.audit.catalog import RUNTIME_PARAMETERS, load_rules
from jobs.audit.runner import FINDINGS_COLUMNS
from jobs.errors import AuditError, InputError
from jobs.log import Log
from jobs.resources import sql_dir
from jobs.review.history import (
    PREVIOUS,
    copy_previous,
    create_table,
    previous_columns,
    previous_database,
)

UNIT_SEPARATOR = "\x1f"
RESOLUTIONS = ("passes_now", "not_audited_now", "not_in_extract", "rule_changed")
STATES = ("open", "resolved")
# The run's date (first_seen_on, ages, waiver expiry) is today in UTC unless this names one.
RUN_DATE_ENV = "CLAIMS_AUDIT_RUN_DATE"


def finding_id_sql(alias: str = "") -> str:
    """DuckDB SQL computing finding_id from the columns of a findings row (`alias.`)."""
    a = f"{alias}." if alias else ""
    parts = ", ".join(
        f"coalesce({expr}, '')"
        for expr in (
            f"{a}data_source",
            f"{a}claim_id",
            f"cast({a}claim_line_number as varchar)",
            f"{a}rule_id",
        )
    )
    return f"left(sha256(concat_ws(chr(31), {parts})), 16)"


def run_date() -> date:
    """The run's date: ``CLAIMS_AUDIT_RUN_DATE`` (YYYY-MM-DD) when set, else today (UTC)."""
    text = os.environ.get(RUN_DATE_ENV, "").strip()
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{RUN_DATE_ENV}={text!r} is not a date (YYYY-MM-DD)") from None


def rule_fingerprints(parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule_id, fingerprint) of every rule: its version and the values of the parameters
    its header lists (the runtime ones, like eligibility_supplied, are data, not settings).
    A finding resolved while its rule's fingerprint changed is `rule_changed`."""
    out = []
    for rule in load_rules():
        values = {
            name: parameters.get(name)
            for name in sorted(rule.parameters)
            if name not in RUNTIME_PARAMETERS
        }
        out.append((rule.id, f"{rule.version} {json.dumps(values, sort_keys=True)}"))
    return out


# Identity and life of a finding, then its latest values (the findings' columns).
_KEY = ("finding_id", "rule_id", "data_source", "claim_id", "claim_line_number")
LIFECYCLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("finding_id", "varchar"),
    *((c, t) for c, t in FINDINGS_COLUMNS if c in _KEY),
    ("state", "varchar"),
    ("resolution", "varchar"),
    ("first_seen_run_id", "varchar"),
    ("first_seen_on", "date"),
    ("last_seen_run_id", "varchar"),
    ("last_seen_on", "date"),
    ("resolved_run_id", "varchar"),
    ("resolved_on", "date"),
    ("times_reopened", "integer"),
    *((c, t) for c, t in FINDINGS_COLUMNS if c not in _KEY and c != "run_id"),
    ("rule_fingerprint", "varchar"),
)


def build_lifecycle(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    run_id: str,
    today: date,
    parameters: dict[str, Any],
    log: Log,
) -> dict[str, Any]:
    """Write ``finding_lifecycle`` from the published database's and this run's findings;
    returns the manifest's ``lifecycle`` counts."""
    con.execute(
        f"create or replace temp table _current_findings as "
        f"select {finding_id_sql()} as finding_id, * from findings"
    )
    dup = con.execute(
        "select finding_id, rule_id, claim_id, claim_line_number from _current_findings "
        "group by all having count(*) > 1 limit 1"
    ).fetchone()
    if dup:
        raise AuditError(
            f"rule {dup[1]} flagged line {dup[2]}/{dup[3]} twice: a finding must be one row"
        )
    create_table(con, "_previous_lifecycle", LIFECYCLE_COLUMNS, temp=True)
    fingerprint_columns = (("rule_id", "varchar"), ("rule_fingerprint", "varchar"))
    create_table(con, "_rule_fingerprints", fingerprint_columns, temp=True)
    con.executemany("insert into _rule_fingerprints values (?, ?)", rule_fingerprints(parameters))
    with previous_database(con, db_path, log) as previous:
        if (
            not copy_previous(con, previous, "finding_lifecycle", "_previous_lifecycle")
            and "findings_history" in previous
        ):
            _bootstrap(con)
    sql = (sql_dir() / "review" / "finding_lifecycle.sql").read_text(encoding="utf-8")
    con.execute(
        f"create or replace table finding_lifecycle as {sql}",
        {"run_id": run_id, "run_date": today},
    )
    counts = lifecycle_counts(con, run_id)
    (counts["reopened_this_run"],) = con.execute(
        "select count(*) from _previous_lifecycle as p join _current_findings as c "
        "using (finding_id) where p.state = 'resolved'"
    ).fetchone()
    for name in ("_previous_lifecycle", "_rule_fingerprints", "_current_findings"):
        con.execute(f"drop table {name}")
    return counts


def _bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """A database from before the lifecycle: the previous run's findings become open, first
    seen at their earliest run in ``findings_history`` (the run id's date)."""
    have = set(previous_columns(con, "findings_history"))
    fid = "finding_id" if "finding_id" in have else finding_id_sql()
    source = "data_source" if "data_source" in have else "cast(null as varchar) as data_source"
    con.execute(
        f"""
        insert into _previous_lifecycle by name
        with history as (
            select {fid} as finding_id, *
            from (select * exclude (data_source), {source}
                  from {PREVIOUS}.findings_history) as h
        ),
        latest as (select max(run_id) as run_id from {PREVIOUS}.findings),
        first_seen as (
            select finding_id, min(run_id) as run_id from history group by finding_id
        )
        select h.finding_id, h.rule_id, h.data_source, h.claim_id, h.claim_line_number,
               'open' as state, f.run_id as first_seen_run_id,
               coalesce(try_strptime(left(f.run_id, 8), '%Y%m%d')::date, current_date)
                   as first_seen_on,
               h.run_id as last_seen_run_id,
               coalesce(try_strptime(left(h.run_id, 8), '%Y%m%d')::date, current_date)
                   as last_seen_on,
               0 as times_reopened, h.rule_version, h.status, h.severity, h.person_id,
               h.rendering_npi, h.service_date, h.hcpcs_code, h.paid_amount, h.evidence
        from history as h
        join latest on h.run_id = latest.run_id
        join first_seen as f on h.finding_id = f.finding_id
        """
    )
    # the rules' settings back then are unknown: taken to be today's
    con.execute(
        """
        update _previous_lifecycle as p set rule_fingerprint = r.rule_fingerprint
        from _rule_fingerprints as r where p.rule_id = r.rule_id
        """
    )


def lifecycle_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """The manifest's summary of the lifecycle after this run."""
    row = con.execute(
        """
        select
            count(*) filter (where state = 'open'),
            count(*) filter (where state = 'open' and first_seen_run_id = $run_id),
            count(*) filter (where state = 'open' and first_seen_run_id <> $run_id),
            count(*) filter (where resolved_run_id = $run_id),
            count(*) filter (where state = 'resolved'),
            count(*)
        from finding_lifecycle
        """,
        {"run_id": run_id},
    ).fetchone()
    resolved = dict(
        con.execute(
            "select resolution, count(*) from finding_lifecycle where resolved_run_id = ? "
            "group by resolution order by resolution",
            [run_id],
        ).fetchall()
    )
    return {
        "open": row[0],
        "new": row[1],
        "persisting": row[2],
        "resolved_this_run": row[3],
        "resolved_this_run_by_resolution": resolved,
        "resolved": row[4],
        "findings_ever_seen": row[5],
    }
