"""Reviewers' decisions (contract: "Findings across nights", Decisions and what they change).

The decisions file is staged and validated like an extract by the pipeline (``stg_decisions``
and the ``decisions`` expectation suite; rejected rows go to ``rejected_rows`` with table
``decisions``). This module works on what validation accepted:

- ``decisions``: one row per accepted row of this run's file, with ``decision_status``
  ``current`` (the latest ``decided_on`` of its finding), ``expired`` (the current one, a
  waiver whose ``expires_on`` is before the run's date: valid through that day) or
  ``superseded`` (an older decision of the same finding);
- ``decisions_history``: one row per distinct decision row ever read (accepted or
  rejected), with the first and the last run that read it;
- ``review_state`` of every finding of ``finding_lifecycle``: its current decision, else
  ``new`` (first seen in this run) or ``open``; an expired waiver is ``open`` again. A
  decision survives the finding's resolution and reopening.

No decisions file means no decisions: ``decisions`` is empty, ``decisions_history`` is
carried over unchanged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from jobs.log import Log
from jobs.resources import sql_dir
from jobs.review.history import copy_previous, create_table, previous_database
from jobs.sqltext import q

DECISION_COLUMNS = (
    ("finding_id", "varchar"),
    ("decision", "varchar"),
    ("reviewer", "varchar"),
    ("decided_on", "date"),
    ("expires_on", "date"),
    ("recovered_amount", "decimal(18, 6)"),
    ("note", "varchar"),
)
HISTORY_COLUMNS = (
    ("row_key", "varchar"),
    *DECISION_COLUMNS,
    ("rejected_reasons", "varchar"),
    ("original_values", "varchar"),
    ("source_file", "varchar"),
    ("first_read_run_id", "varchar"),
    ("first_read_on", "date"),
    ("last_read_run_id", "varchar"),
    ("last_read_on", "date"),
)
# Decisions that take a line out of the dollars at risk (a waiver only while unexpired).
DECIDED_NOT_AT_RISK = ("not_an_error", "waived")


def apply_decisions(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    run_id: str,
    today: date,
    log: Log,
    *,
    read: bool,
) -> dict[str, Any]:
    """Write ``decisions``, ``decisions_history`` and the lifecycle's ``review_state``.

    read: a decisions file was read this run (``stg_decisions`` and its row issues exist).
    Returns the manifest's ``decisions`` counts."""
    columns = ", ".join(c for c, _ in DECISION_COLUMNS)
    create_table(
        con,
        "decisions",
        (
            *DECISION_COLUMNS,
            ("decision_status", "varchar"),
            ("source_file", "varchar"),
            ("record_number", "bigint"),
        ),
    )
    if read:
        con.execute(
            f"""
            insert into decisions
            with accepted as (
                select *
                from stg_decisions as s
                where not exists (
                    select 1 from row_issues as i
                    where i.table_name = 'decisions' and i.level = 'blocking'
                        and i.source_file = s.source_file and i.record_number = s.record_number
                )
            ),
            ranked as (
                select *,
                    row_number() over (partition by finding_id order by decided_on desc)
                        as recency
                from accepted
            )
            select {columns},
                case
                    when recency > 1 then 'superseded'
                    when decision = 'waived' and expires_on < $today then 'expired'
                    else 'current'
                end as decision_status,
                source_file, record_number
            from ranked
            order by finding_id, decided_on desc
            """,
            {"today": today},
        )
    _carry_history(con, db_path, run_id, today, log, read=read)
    _review_states(con, run_id)
    return decision_counts(con)


def _carry_history(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    run_id: str,
    today: date,
    log: Log,
    *,
    read: bool,
) -> None:
    create_table(con, "decisions_history", HISTORY_COLUMNS)
    with previous_database(con, db_path, log) as previous:
        copy_previous(con, previous, "decisions_history", "decisions_history")
    if not read:
        return
    # Every row read this run: accepted ones typed, rejected ones with their reasons and
    # their values as read. A row is the same row when its text as read is the same.
    raw_columns = ", ".join(f"'{c}', r.{q(c)}" for c, _ in DECISION_COLUMNS)
    typed = ", ".join(f"s.{c}" for c, _ in DECISION_COLUMNS)
    con.execute(
        f"""
        create or replace temp table _decisions_read as
        with read_rows as (
            select s.source_file, s.record_number, {typed},
                   cast(json_object({raw_columns}) as varchar) as original_values
            from stg_decisions as s
            join raw_decisions as r
                on r.source_file = s.source_file and r.record_number = s.record_number
        ),
        rejected as (
            select source_file, record_number, reasons from rejected_rows
            where table_name = 'decisions'
        )
        select distinct on (md5(read_rows.original_values))
            md5(read_rows.original_values) as row_key,
            read_rows.* exclude (source_file, record_number, original_values),
            rejected.reasons as rejected_reasons,
            case when rejected.reasons is not null then read_rows.original_values end
                as original_values,
            read_rows.source_file
        from read_rows
        left join rejected
            on rejected.source_file = read_rows.source_file
            and rejected.record_number = read_rows.record_number
        order by md5(read_rows.original_values), read_rows.record_number
        """
    )
    con.execute(
        """
        update decisions_history as h
        set last_read_run_id = $run_id, last_read_on = $today, source_file = d.source_file,
            rejected_reasons = d.rejected_reasons, original_values = d.original_values
        from _decisions_read as d
        where h.row_key = d.row_key
        """,
        {"run_id": run_id, "today": today},
    )
    con.execute(
        """
        insert into decisions_history by name
        select d.*, $run_id as first_read_run_id, $today as first_read_on,
               $run_id as last_read_run_id, $today as last_read_on
        from _decisions_read as d
        where not exists (select 1 from decisions_history as h where h.row_key = d.row_key)
        order by d.finding_id, d.decided_on, d.row_key
        """,
        {"run_id": run_id, "today": today},
    )
    con.execute("drop table _decisions_read")


def _review_states(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """``review_state`` (and the current decision) of every finding in the lifecycle."""
    for column in ("review_state", "decision", "decided_on"):
        con.execute(f"alter table finding_lifecycle drop column if exists {column}")
    con.execute("alter table finding_lifecycle add column review_state varchar")
    con.execute("alter table finding_lifecycle add column decision varchar")
    con.execute("alter table finding_lifecycle add column decided_on date")
    con.execute(
        """
        update finding_lifecycle as l
        set review_state = case
                when d.decision_status = 'current' then d.decision
                when d.decision_status = 'expired' then 'open'
                when l.first_seen_run_id = $run_id then 'new'
                else 'open'
            end,
            decision = case when d.decision_status = 'current' then d.decision end,
            decided_on = case when d.decision_status = 'current' then d.decided_on end
        from (
            select l2.finding_id, d2.decision, d2.decided_on, d2.decision_status
            from finding_lifecycle as l2
            left join decisions as d2
                on d2.finding_id = l2.finding_id and d2.decision_status <> 'superseded'
        ) as d
        where l.finding_id = d.finding_id
        """,
        {"run_id": run_id},
    )


def decision_counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    by_status = dict(
        con.execute(
            "select decision_status, count(*) from decisions group by 1 order by 1"
        ).fetchall()
    )
    current = dict(
        con.execute(
            "select decision, count(*) from decisions where decision_status = 'current' "
            "group by 1 order by 1"
        ).fetchall()
    )
    return {"rows_accepted": sum(by_status.values()), "by_status": by_status, "current": current}


def finalize_findings(con: duckdb.DuckDBPyConnection, exception_columns: str) -> None:
    """``findings`` with the exception columns of the contract, in their order: its own,
    plus finding_id, first_seen_on and review_state from the lifecycle."""
    con.execute(
        f"""
        create or replace table findings as
        select {exception_columns}
        from (
            select f.*, l.finding_id, l.first_seen_on, l.review_state
            from findings as f
            join finding_lifecycle as l
                on l.rule_id = f.rule_id
                and l.claim_id = f.claim_id
                and l.claim_line_number = f.claim_line_number
                and l.data_source is not distinct from f.data_source
            order by f.rowid
        )
        """
    )


def dollar_totals(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Dollars at risk as the contract counts them, with the decided and confirmed amounts.

    A line counts once (data_source, claim_id, claim_line_number). At risk: lines with a
    ``fail`` finding, except those whose ``fail`` findings are all decided ``not_an_error``
    or (unexpired) ``waived``: those are ``dollars_decided``. Confirmed: lines with a
    finding decided ``confirmed`` (open or resolved), and the recovered amounts of the
    current confirmed decisions."""
    not_at_risk = ", ".join(f"'{d}'" for d in DECIDED_NOT_AT_RISK)
    at_risk, n_at_risk, decided, n_decided = con.execute(
        f"""
        with fail_lines as (
            select data_source, claim_id, claim_line_number, max(paid_amount) as paid_amount,
                   bool_and(review_state in ({not_at_risk})) as is_decided
            from findings
            where status = 'fail'
            group by data_source, claim_id, claim_line_number
        )
        select coalesce(sum(paid_amount) filter (where not is_decided), 0),
               count(*) filter (where not is_decided),
               coalesce(sum(paid_amount) filter (where is_decided), 0),
               count(*) filter (where is_decided)
        from fail_lines
        """
    ).fetchone()
    confirmed, n_confirmed = con.execute(
        """
        select coalesce(sum(paid_amount), 0), count(*)
        from (
            select data_source, claim_id, claim_line_number, max(paid_amount) as paid_amount
            from finding_lifecycle
            where decision = 'confirmed'
            group by data_source, claim_id, claim_line_number
        )
        """
    ).fetchone()
    (recovered,) = con.execute(
        "select coalesce(sum(recovered_amount), 0) from decisions "
        "where decision_status = 'current' and decision = 'confirmed'"
    ).fetchone()
    return {
        "dollars_at_risk": float(at_risk),
        "lines_at_risk": n_at_risk,
        "dollars_decided": float(decided),
        "lines_decided": n_decided,
        "confirmed_amount": float(confirmed),
        "lines_confirmed": n_confirmed,
        "recovered_amount": float(recovered),
    }


def build_worklist(con: duckdb.DuckDBPyConnection, run_id: str, today: date) -> int:
    """Table ``worklist`` (worklist.csv): open findings without a current decision, in
    queue order (sql/review/worklist.sql); returns its row count."""
    sql = (sql_dir() / "review" / "worklist.sql").read_text(encoding="utf-8")
    con.execute(f"create or replace table worklist as {sql}", {"run_id": run_id, "run_date": today})
    (n,) = con.execute("select count(*) from worklist").fetchone()
    return n
