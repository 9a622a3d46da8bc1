"""Quarantine: rows with a blocking issue, or that the CSV reader could not parse at all,
are rejected: they go to ``rejected_rows`` with every reason and their original values.
Warning rows are kept and counted. Rows read = accepted + rejected, for every file, and
a table with too large a rejected share stops the run (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from jobs.errors import InputError
from jobs.ingest.discover import SourceFile
from jobs.ingest.load import encoding_hint
from jobs.ingest.schema import Table
from jobs.safecsv import copy_csv
from jobs.sqltext import lit, q
from jobs.validation.scan import ORIGINAL, original_json


def build_rejections(
    con: duckdb.DuckDBPyConnection,
    tables: list[Table],
    run_id: str,
    carried: str | None = None,
    originals: str | None = None,
) -> None:
    """Create ``rejected_keys`` and ``rejected_rows`` from issues and CSV bad records.

    The original values of a rejected row come from ``stg_<table>`` (jobs.validation.scan
    keeps every row a check can fail, with its text as read), or from `originals` when
    given (table_name, source_file, record_number, original_values: the Spark engine's),
    or, for a reused file's row, from `carried` (the earlier run's rejected rows). A
    rejected row without them is an error, never a row left out."""
    con.execute(
        """
        create or replace table rejected_keys as
        select distinct table_name, source_file, record_number
        from row_issues where level = 'blocking'
        union
        select table_name, source_file, record_number from csv_bad_records
        """
    )
    create_rejected_rows_table(con)
    for table in tables:
        earlier = (
            f"left join {carried} as c on c.table_name = {lit(table.name)} "
            "and c.source_file = i.source_file and c.record_number = i.record_number"
            if carried
            else ""
        )
        source = (
            f"(select source_file, record_number, original_values as {ORIGINAL} "
            f"from {originals} where table_name = {lit(table.name)})"
            if originals
            else f"stg_{table.name}"
        )
        # the JSON text of only the rejected rows' structs (jobs.validation.scan)
        kept = f"s.{ORIGINAL}" if originals else original_json(f"s.{ORIGINAL}")
        con.execute(
            f"""
            insert into rejected_rows
            {_issues(table)}
            select {lit(run_id)}, {lit(table.name)}, i.source_file, i.record_number,
                   i.reasons, i.details,
                   coalesce({kept}{", c.original_values" if carried else ""})
            from issues as i
            left join {source} as s
                on s.source_file = i.source_file and s.record_number = i.record_number
            {earlier}
            """
        )
    missing = con.execute(
        "select table_name, source_file, record_number from rejected_rows "
        "where original_values is null limit 1"
    ).fetchone()
    if missing:
        raise RuntimeError(
            f"rejected row {missing[2]} of {missing[1]} ({missing[0]}) has no original values"
        )
    insert_malformed_records(con, run_id)


def _issues(table: Table) -> str:
    """The CTE ``issues``: each row of `table` with a blocking issue, its reasons and
    details (every one, in a stable order)."""
    return f"""with issues as (
        select source_file, record_number,
               string_agg(reason || coalesce(':' || column_name, ''), '; '
                          order by reason, column_name) as reasons,
               string_agg(description, '; ' order by reason, column_name) as details
        from row_issues
        where table_name = {lit(table.name)} and level = 'blocking'
        group by source_file, record_number
    )"""


def insert_rejected_rows(con: duckdb.DuckDBPyConnection, table: Table, run_id: str) -> None:
    """The rows of `table` with a blocking issue, into ``rejected_rows`` with every reason
    and their original values (from ``raw_<table>``)."""
    values = ", ".join(f"{lit(c)}, r.{q(c)}" for c in table.column_names)
    con.execute(
        f"""
        insert into rejected_rows
        {_issues(table)}
        select {lit(run_id)}, {lit(table.name)}, i.source_file, i.record_number,
               i.reasons, i.details, cast(json_object({values}) as varchar)
        from issues as i
        join raw_{table.name} as r
            on r.source_file = i.source_file and r.record_number = i.record_number
        """
    )


def create_rejected_rows_table(con: duckdb.DuckDBPyConnection) -> None:
    """``rejected_rows``. Its original values (JSON text, about 1.2 KB a row) are stored
    with ZSTD: DuckDB's default for text (dictionary and FSST) took twice as long to write
    them and three times the space (260,000 rows of a 100M-line history: 0.41 s and 21 MB
    against 0.80 s and 74 MB), which a night pays again for every rejected row it carries."""
    con.execute(
        """
        create or replace table rejected_rows (
            run_id varchar, table_name varchar, source_file varchar, record_number bigint,
            reasons varchar, details varchar, original_values varchar using compression zstd
        )
        """
    )


def insert_malformed_records(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """CSV records the reader could not parse, as rejected rows (reason malformed_record)
    with their physical line numbers and field counts, never their text: a record that
    does not parse has no reliable columns, and any of its fields could be one the audit
    must not copy (a member's SSN shifted into the claim_id position)."""
    con.execute(
        f"""
        insert into rejected_rows
        with located as (
            select *,
                   case when first_line = last_line then cast(first_line as varchar)
                        else first_line || '-' || last_line end as lines
            from csv_bad_records
        )
        select {lit(run_id)}, table_name, source_file, record_number,
               'malformed_record',
               'the CSV record (line ' || lines || ') could not be parsed: ' || error_message,
               cast(json_object(
                   'lines', lines, 'error', error_type,
                   'fields_in_record', fields_in_record, 'fields_in_header', fields_in_header
               ) as varchar)
        from located
        """
    )


def count_rows(
    con: duckdb.DuckDBPyConnection, files: dict[str, list[SourceFile]], tables: list[Table]
) -> list[SourceFile]:
    """Set each file's rejected and warned row counts from ``rejected_rows`` and
    ``row_issues``; returns the files of `tables`, in order."""
    rejected = dict(
        con.execute(
            "select source_file, count(*) from rejected_rows group by source_file"
        ).fetchall()
    )
    warned = dict(
        con.execute(
            "select source_file, count(distinct record_number) from row_issues "
            "where level = 'warning' group by source_file"
        ).fetchall()
    )
    counted = []
    for table in tables:
        for f in files[table.name]:
            f.rows_rejected = rejected.get(str(f.path), 0)
            f.rows_with_warnings = warned.get(str(f.path), 0)
            counted.append(f)
    return counted


def check_rejected_share(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, list[SourceFile]],
    tables: list[Table],
    limit: float,
    failed_dir: Path,
) -> None:
    """Raise InputError (exit 2) for the first table whose rejected share exceeds `limit`,
    after staging its rejected rows in `failed_dir` so the cause can be found."""
    for table in tables:
        read = sum(f.rows_read for f in files[table.name])
        rejected = sum(f.rows_rejected for f in files[table.name])
        if read and rejected / read > limit:
            failed_dir.mkdir(parents=True, exist_ok=True)
            copy_rejected(con, failed_dir / STAGED_REJECTS)
            raise InputError(
                f"{table.name}: {rejected} of {read} rows rejected "
                f"({rejected / read:.1%} > max_rejected_share {limit:.1%}); "
                f"most frequent: {_top_reasons(con, table.name)}; see "
                f"{failed_dir}/rejected_rows.csv{_encoding_note(con, table.name)}"
            )


# The failed run's rejected rows while it is being recorded (renamed rejected_rows.csv).
STAGED_REJECTS = ".rejected_rows.csv.partial"


def _encoding_note(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The configuration setting to name, when records were rejected for their bytes."""
    (n,) = con.execute(
        "select count(*) from csv_bad_records where table_name = ? and error_type = ?",
        [table, "invalid encoding"],
    ).fetchone()
    if not n:
        return ""
    return f"; {n} of them have bytes not valid in the file's encoding: " + encoding_hint(
        table, "utf-8"
    )


def _top_reasons(con: duckdb.DuckDBPyConnection, table: str) -> str:
    rows = con.execute(
        "select reasons, count(*) as n from rejected_rows where table_name = ? "
        "group by reasons order by n desc, reasons limit 3",
        [table],
    ).fetchall()
    return ", ".join(f"{r} ({n})" for r, n in rows)


def copy_rejected(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """``rejected_rows`` (without run_id) as a formula-safe CSV file, in a stable order."""
    order = ("table_name", "source_file", "record_number")
    copy_csv(con, "select * exclude (run_id) from rejected_rows", target, order)
