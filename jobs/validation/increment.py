"""A night after the previous run (contract: "Work follows what changed").

When the previous run's published database holds a validation of most of tonight's files
(an extract laid out as one file per load date, which grows by new files), it already
holds what those history files give the audit: their row issues (jobs.validation.reuse),
the audited cohort's rows of them, the persons with an ESI line, and the coverage
counts. Such a run ("an increment") validates the new files (and any file that changed)
and reads of the history files only what tonight can change:

* the rows whose key occurs in a new file: a new copy of a key rejects every copy
  (duplicate keys span files), so those rows are staged with the new files' and the
  duplicate-key check sees every copy; when a file of the previous run is gone (or
  changed), also the rows of every key the previous run found repeated, decided again
  without the gone file's copies;
* the rows of the persons who enter the cohort tonight (an ESI line in a new file, none
  before): the cohort holds every accepted row of its persons.

That is one scan of the key columns and ``person_id`` of the history (joins on the ids as
read, in the files where they have no blank at either end), and the rows found are read
whole by their row numbers. Everything else
comes from the previous database: the cohort's rows of the history files (their lineage
moved to tonight's paths; a gone file's rows left out), the duplicate-key issues of
history rows that no key of tonight touches, and the coverage counts (counted again
over every file when a file is gone). A run without a usable previous database, or
whose files the previous run did not validate with this validation version, reads
every file as a first run does; both give the same database, which the tests compare.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from jobs.ingest import load, schema
from jobs.ingest.discover import SourceFile
from jobs.ingest.fingerprint import Retained
from jobs.ingest.schema import Table
from jobs.sqltext import lit, q
from jobs.validation import reuse, scan, suites

# Temporary tables: each reused file's path in the previous run and tonight; the persons
# who enter the cohort tonight.
FILE_MAP = "_ca_file_map"
ENTERING = "_ca_entering"
# The previous database's tables an increment reads.
NEEDS = ("input_files", "input_coverage", "row_issues", "rejected_rows", *schema.TABLES)


@dataclass
class Increment:
    """Tonight's files split into the previous run's (reused) and the new ones."""

    new: dict[str, list[str]] = field(default_factory=dict)
    old: dict[str, list[str]] = field(default_factory=dict)
    # the previous run's files not here tonight, or changed: path in that run -> table
    gone: dict[str, str] = field(default_factory=dict)

    def tables(self) -> list[str]:
        """The tables read as an increment: all of them. practitioner, kept whole, too:
        its previous rows are carried like the cohort's (staging its 121,000 rows again
        each night took 0.45 s of a 20 s night at 100M lines)."""
        return list(self.new)


def plan(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, list[SourceFile]],
    retained: list[Retained],
    database: str,
) -> Increment | None:
    """The increment of tonight's `files` over the previous run (`retained`, recorded by
    the attached `database`), or None when tonight is not one: nothing reused, two files
    reusing one earlier file, a table of the previous database missing, a cohort row
    from a file the previous run did not record, or no medical claims."""
    if not retained or "medical_claim" not in files:
        return None
    present = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ?", [database]
        ).fetchall()
    }
    if not set(NEEDS) <= present:
        return None
    reused = [f for fs in files.values() for f in fs if f.validation == "reused"]
    if not reused:
        return None
    earlier = {f.earlier_path: f for f in reused}
    previous = {r.path: r for r in retained}
    if len(earlier) != len(reused) or len(previous) != len(retained):
        return None  # two files reuse one earlier file, or one path twice: read them all
    if any(p not in previous or previous[p].table != f.table for p, f in earlier.items()):
        return None
    increment = Increment(gone={p: r.table for p, r in previous.items() if p not in earlier})
    for table, table_files in files.items():
        increment.new[table] = [str(f.path) for f in table_files if f.validation != "reused"]
        increment.old[table] = [str(f.path) for f in table_files if f.validation == "reused"]
    con.execute(
        f"create or replace temp table {FILE_MAP} (previous_path varchar, source_file varchar)"
    )
    con.executemany(
        f"insert into {FILE_MAP} values (?, ?)",
        [(path, str(f.path)) for path, f in earlier.items()],
    )
    # every row of the previous cohort must come from a file mapped to tonight's or gone
    # (a database whose lineage names other files, e.g. written elsewhere, is not used)
    for table in schema.TABLES:
        ((unmapped,),) = con.execute(
            f"select count(*) from {database}.{q(table)} "
            f"where source_file not in (select previous_path from {FILE_MAP}) "
            "and source_file not in (select unnest($gone))",
            {"gone": sorted(increment.gone)},
        ).fetchall()
        if unmapped:
            con.execute(f"drop table {FILE_MAP}")
            return None
    return increment


def create_views(con: duckdb.DuckDBPyConnection, table: Table, increment: Increment) -> None:
    """Views ``raw_<table>_new`` and ``raw_<table>_old``: the raw rows of tonight's new files
    and of the previous run's."""
    for part, paths in (("new", increment.new[table.name]), ("old", increment.old[table.name])):
        con.execute(
            f"create or replace view raw_{table.name}_{part} as "
            f"select * from raw_{table.name} where {scan.file_filter(paths)}"
        )


def add_previous_persons(con: duckdb.DuckDBPyConnection, database: str, codes: list[str]) -> int:
    """Complete the cohort's candidates (`scan.CANDIDATES`, the new files' persons with an
    ESI line, when pass 1 found them) with the previous cohort's, and write `ENTERING`:
    the candidates who were not in the previous cohort. Returns how many enter."""
    con.execute(f"create temp table if not exists {scan.CANDIDATES} (person_id varchar)")
    earlier = (
        f"select distinct person_id from {database}.medical_claim "
        "where hcpcs_code in (select unnest($codes)) and person_id is not null"
    )
    con.execute(
        f"create or replace temp table {ENTERING} as "
        f"select person_id from {scan.CANDIDATES} except {earlier}",
        {"codes": codes},
    )
    con.execute(
        f"insert into {scan.CANDIDATES} {earlier} except select person_id from {scan.CANDIDATES}",
        {"codes": codes},
    )
    return scan.count(con, ENTERING)


def _hits(table: Table) -> str:
    return f"_ca_old_{table.name}"


def _matched(table: Table) -> str:
    return f"_ca_matched_{table.name}"


def find_old_rows(
    con: duckdb.DuckDBPyConnection,
    scan_plan: scan.ScanPlan,
    found: scan.ScanResult,
    increment: Increment,
    database: str,
    entering: int,
    trimmed: set[str] | frozenset[str] = frozenset(),
    persons_trimmed: set[str] | frozenset[str] = frozenset(),
) -> int:
    """One scan of the history files of a table for the rows tonight can change: those
    whose (coarse) key is a new file's, or (when a file of the table is gone) a key the
    previous run found repeated, and (`entering`: how many persons enter the cohort, from
    `add_previous_persons`) those of the persons entering the cohort.

    Those keys join the repeated keys, so that pass 2 keeps the new files' copies too,
    and the duplicate-key check decides them again with every copy there is tonight.
    `trimmed`: the history files whose key ids are all their own trimmed text
    (input_files.key_ids_trimmed), whose rows are found by joining their ids as read;
    `persons_trimmed`: those whose person ids are (input_files.person_ids_trimmed), whose
    entering persons' rows are found by joining their person ids as read. A file that is
    both is searched by those joins only. Returns the rows found."""
    table = scan_plan.table
    key = scan.coarse_key(table) if scan_plan.keys else None
    first = key.text_column if key else None
    persons = "person_id" in table.column_names and bool(entering)
    terms = []
    if key:
        ids = scan.trimmed(q(first)) if first else "null::varchar"
        con.execute(
            f"create or replace temp table _ca_new_keys as select distinct {ids} as _ca_id, "
            f"{key.hash} as _ca_key from raw_{table.name}_new where {key.condition}"
        )
        if table.name in increment.gone.values():
            con.execute(
                f"insert into _ca_new_keys select distinct {ids}, {key.hash} "
                f"from ({_earlier_duplicates(table, database)}) as r where {key.condition}"
            )
        new_key = f"{key.condition} and {key.hash} in (select _ca_key from _ca_new_keys)"
        term = new_key
        if first:
            # Most rows fail on the raw text of the key's first column alone, which is
            # cheaper than the key's hash: a text that is not `maybe_blank_ended` is its
            # own trimmed text.
            raw = q(first)
            term = (
                f"({raw} in (select _ca_id from _ca_new_keys) "
                f"or {scan.maybe_blank_ended(raw)}) and {term}"
            )
        terms.append(f"({term})")
    if persons:
        terms.append(f"{scan.trimmed('person_id')} in (select person_id from {ENTERING})")
    hashed = f"case when {key.condition} then {key.hash} end" if key else "null::ubigint"
    where = " or ".join(terms) or "false"
    scan_old = (
        f"select o.source_file, o.record_number, {hashed} as _ca_key from raw_{table.name}_old as o"
    )
    old = increment.old[table.name]
    joined = [
        path
        for path in old
        if (not key or (first and path in trimmed)) and (not persons or path in persons_trimmed)
    ]
    if joined and (key or persons):
        # In a file whose key ids are all their own trimmed text, a row can only have a
        # new key if its id as read is a new id: an inner join on it, which hashes the
        # key of the matching rows only (100M medical lines: 2.3 s, against 4.0 s to
        # 4.6 s for the test above, whose blank test and hash run on every row). The
        # same for the entering persons in a file whose person ids are their own trimmed
        # text: a join on person_id as read, which the reader is handed as a filter on
        # that column (the dynamic filter threshold raised to their count below: the
        # bench's second night, 100 persons entering, 100M lines: 1.8 s against 9.8 s
        # for the test above on every row).
        files = scan.file_filter(joined)
        parts = []
        if key:
            parts.append(
                f"{scan_old} join (select distinct _ca_id from _ca_new_keys) as n "
                f"on o.{q(first)} = n._ca_id where {files} and {new_key}"
            )
        if persons:
            parts.append(
                f"{scan_old} join {ENTERING} as e on o.person_id = e.person_id where {files}"
            )
        rest = [path for path in old if path not in joined]
        if rest:
            parts.append(f"{scan_old} where {scan.file_filter(rest)} and ({where})")
        # a row found by both joins once
        found_sql = " union ".join(parts)
    else:
        found_sql = f"{scan_old} where {where}"
    with dynamic_filters(con, entering if persons else 0):
        con.execute(f"create or replace temp table {_hits(table)} as {found_sql}")
    con.execute(
        f"create or replace temp table {_matched(table)} as select distinct _ca_key "
        f"from {_hits(table)} where _ca_key in (select _ca_key from _ca_new_keys)"
        if key
        else f"create or replace temp table {_matched(table)} (_ca_key ubigint)"
    )
    con.execute("drop table if exists _ca_new_keys")
    if key:
        repeated = scan.repeated_table(table)
        con.execute(f"create temp table if not exists {repeated} (_ca_key ubigint)")
        con.execute(
            f"insert into {repeated} select _ca_key from {_matched(table)} "
            f"except select _ca_key from {repeated}"
        )
        found.repeated_keys = scan.count(con, repeated)
    return scan.count(con, _hits(table))


def stage_old_rows(
    con: duckdb.DuckDBPyConnection, table: Table, run_id: str, parquet: Collection[str] = ()
) -> int:
    """Append the history rows `find_old_rows` found to ``stg_<table>``; returns how many.

    `parquet`: the table's Parquet files. Their rows are read through
    `load.by_row_view` on their row numbers, with DuckDB's dynamic filter threshold
    raised to the rows' count (`dynamic_filters`), so that the join hands the reader the
    row numbers themselves and it decodes only the vectors that hold them (100M history
    lines, the 5,233 rows of the persons entering the cohort on the bench's second
    night: 8.3 s, against 13.0 s for finding them on ``raw_<table>``'s computed
    record_number after every column of every row is decoded). The rows of other files
    (CSV, read through their Parquet copies) are found on that record_number."""
    hits = _hits(table)
    in_parquet = scan.file_filter(sorted(parquet))
    ((found, elsewhere),) = con.execute(
        f"select count(*), count(*) filter (where not ({in_parquet})) from {hits}"
    ).fetchall()
    if not found:
        return 0
    columns = ", ".join(q(c) for c in table.column_names)
    parts = [
        f"select source_file, file_row_number + 1 as record_number, {columns} "
        f"from {load.by_row_view(table)} where (source_file, file_row_number) in "
        f"(select source_file, record_number - 1 from {hits} where {in_parquet})"
    ] if parquet else []  # fmt: skip
    if elsewhere:
        parts.append(
            f"select source_file, record_number, {columns} from raw_{table.name}_old "
            f"where not ({in_parquet}) and (source_file, record_number) in "
            f"(select source_file, record_number from {hits})"
        )
    with dynamic_filters(con, found):
        scan.stage_rows(con, table, "(" + " union all ".join(parts) + ")", "true", run_id)
    return found


# The most keys `dynamic_filters` hands a reader. Such a filter's cost grows with the
# keys times the vectors read: 100M history lines read whole by row number, 10,000 rows:
# 9.1 s against 11.0 s without it, but 20,000 rows: 13.6 s against 11.4 s (500,000
# rows: 277 s against 9.7 s).
DYNAMIC_FILTER_LIMIT = 10_000


@contextmanager
def dynamic_filters(con: duckdb.DuckDBPyConnection, values: int) -> Iterator[None]:
    """Within the block, a join whose build side has at most `values` distinct keys hands
    them to the probe side's scan as a filter on its column (DuckDB's
    ``dynamic_or_filter_threshold``, 50 by default; restored after), when `values` is at
    most `DYNAMIC_FILTER_LIMIT`. A Parquet reader handed such a filter decodes only the
    vectors that hold a key."""
    ((threshold,),) = con.execute(
        "select current_setting('dynamic_or_filter_threshold')"
    ).fetchall()
    if values <= DYNAMIC_FILTER_LIMIT:
        con.execute(f"set dynamic_or_filter_threshold = {max(int(threshold), values)}")
    try:
        yield
    finally:
        con.execute(f"set dynamic_or_filter_threshold = {int(threshold)}")


def note_trimmed_persons(
    con: duckdb.DuckDBPyConnection, table: Table, increment: Increment, files: list[SourceFile]
) -> int:
    """Learn, for each history file of `table` not known yet, whether its person ids are all
    their own trimmed text (`SourceFile.persons_trimmed`, kept in
    input_files.person_ids_trimmed and carried to later nights): one scan of their
    person_id, paid by the first night that looks persons up in them (`find_old_rows`;
    100M lines, standalone: 2.9 s once, then 1.8 s a night against 9.8 s). A cold run
    does not pay it. Returns how many files were checked."""
    if "person_id" not in table.column_names:
        return 0
    old = set(increment.old[table.name])
    unknown = [f for f in files if str(f.path) in old and f.persons_trimmed is None]
    if not unknown:
        return 0
    paths = [str(f.path) for f in unknown]
    untrimmed = {
        path
        for (path,) in con.execute(
            f"select distinct source_file from raw_{table.name}_old "
            f"where {scan.file_filter(paths)} and {scan.maybe_blank_ended('person_id')}"
        ).fetchall()
    }
    for f in unknown:
        f.persons_trimmed = str(f.path) not in untrimmed
    return len(unknown)


def _earlier_duplicates(table: Table, database: str) -> str:
    """The key columns, as read, of the history rows the previous run rejected for a
    check that spans files (from their original values)."""
    key, _ = suites.DUPLICATE_KEYS[table.name]
    columns = ", ".join(
        f"json_extract_string(p.original_values, {lit('$.' + c)}) as {q(c)}" for c in key
    )
    reasons = ", ".join(lit(r) for r in suites.spanning_reasons(table.name)) or "null"
    return (
        f"select {columns} from {database}.rejected_rows as p "
        f"join {FILE_MAP} as m on m.previous_path = p.source_file "
        f"where p.table_name = {lit(table.name)} and exists (select 1 from "
        f"{database}.row_issues as i where i.table_name = p.table_name "
        "and i.source_file = p.source_file and i.record_number = p.record_number "
        f"and i.reason in ({reasons}))"
    )


def carry_spanning(con: duckdb.DuckDBPyConnection, table: Table, database: str) -> None:
    """The duplicate-key issues the previous run found in history rows that no new key
    touches (their copies are all in the history, so the finding stands), into
    ``row_issues``; once each, beside what tonight's check found."""
    spanning = suites.spanning_reasons(table.name)
    if not spanning:
        return
    con.execute(
        f"""
        insert into row_issues
        select p.table_name, m.source_file, p.record_number, p.reason, p.level,
               p.column_name, p.description
        from {database}.row_issues as p
        join {FILE_MAP} as m on m.previous_path = p.source_file
        where p.table_name = ? and p.reason in (select unnest(?))
            and not exists (
                select 1 from {_hits(table)} as h
                where h.source_file = m.source_file and h.record_number = p.record_number
                    and h._ca_key in (select _ca_key from {_matched(table)})
            )
            and not exists (
                select 1 from row_issues as r
                where r.table_name = p.table_name and r.source_file = m.source_file
                    and r.record_number = p.record_number and r.reason = p.reason
            )
        """,
        [table.name, spanning],
    )


def earlier_rows(database: str, table: Table, run_id: str) -> str:
    """The previous cohort's rows of `table` (the loaded columns), under tonight's paths
    and run id."""
    columns = ", ".join(
        "m.source_file" if c == "source_file" else lit(run_id) if c == "run_id" else f"p.{q(c)}"
        for c, _ in schema.loaded_columns(table)
    )
    return (
        f"select {columns} from {database}.{q(table.name)} as p "
        f"join {FILE_MAP} as m on m.previous_path = p.source_file"
    )


def write_coverage(
    con: duckdb.DuckDBPyConnection, increment: Increment, database: str, codes: list[str]
) -> bool:
    """``input_coverage`` from the previous run's, plus the new files' accepted lines,
    less the history lines rejected tonight (a new copy of their key), not before (their
    file's rejected rows are carried: `reuse.CARRIED_REJECTED`). False, writing
    nothing, when that cannot be exact: a file is gone, or a line rejected tonight is out
    of scope, has no service date, or one at or beyond the previous first or last (the
    caller then counts every file again: `scan.write_coverage`)."""
    if increment.gone:
        return False  # a file gone took lines with it: count every file again
    newly = (
        "select s.service_date, s.hcpcs_code in (select unnest($codes)) as is_out_of_scope, "
        "s.paid_amount from stg_medical_claim as s "
        f"join {FILE_MAP} as m on m.source_file = s.source_file "
        "where exists (select 1 from rejected_keys as k where k.table_name = 'medical_claim' "
        "and k.source_file = s.source_file and k.record_number = s.record_number) "
        f"and not exists (select 1 from {reuse.CARRIED_REJECTED} as p "
        "where p.table_name = 'medical_claim' and p.source_file = s.source_file "
        "and p.record_number = s.record_number)"
    )
    ((edge,),) = con.execute(
        f"select count(*) from ({newly}) as n, {database}.input_coverage as c "
        "where n.is_out_of_scope or n.service_date is null "
        "or n.service_date <= c.first_service_date or n.service_date >= c.last_service_date",
        {"codes": codes},
    ).fetchall()
    if edge:
        return False
    scan.create_coverage_table(con)
    con.execute(
        f"""
        insert into input_coverage
        with new_lines as ({scan.accepted_lines("raw_medical_claim_new")}),
        added as (
            select count(*) as n, min(service_date) as first_date, max(service_date) as last_date,
                   count(*) filter (where is_out_of_scope) as n_out,
                   sum(paid_amount) filter (where is_out_of_scope) as paid_out
            from new_lines
        ),
        removed as (select count(*) as n from ({newly}) as n)
        select c.n_claim_lines + a.n - r.n,
               least(c.first_service_date, a.first_date),
               greatest(c.last_service_date, a.last_date),
               c.n_out_of_scope_lines + a.n_out,
               case when c.out_of_scope_paid_amount is null then a.paid_out
                    when a.paid_out is null then c.out_of_scope_paid_amount
                    else c.out_of_scope_paid_amount + a.paid_out end
        from {database}.input_coverage as c, added as a, removed as r
        """,
        {"codes": codes},
    )
    return True
