"""Load extracts into the audit database: raw -> staged (normalized) -> the cohort.

For each table:

* ``raw_<table>``: the contract columns as read, text, with lineage
  (``source_file``, ``record_number``: 1-based position among the file's data
  records). Parquet files are read in place through a view; CSV files are
  parsed once into a Parquet copy in the run's spill folder, read through a view
  (re-parsing CSV for every check would be slow).
  Columns the contract does not list are never read, so member direct
  identifiers never reach the database.
* ``stg_<table>``: the rows validation and the audit need (jobs.validation.scan
  picks them), normalized (trimmed, '' -> NULL, codes upper-case without dots,
  NDCs as 11 digits) and converted (dates, amounts, numbers, line numbers) by
  `staged_sql`; the text of a value that does not convert is kept beside it in
  ``<column>__invalid``. Validation runs on it.
* ``<table>``: the audited cohort once validation has decided: the accepted rows
  of the persons with an ESI line (`finalize_tables`), typed, with lineage;
  ``practitioner`` whole. Other persons' rows stay in the extracts.

CSV records that cannot be parsed (wrong number of fields, bad quoting, bytes
not in the file's encoding) are counted and kept in ``csv_bad_records`` (where they
are, never what they say) so that rows read always equal rows accepted plus rows
rejected. Rows read are checked against the file itself (jobs.ingest.records): a
file whose records do not reconcile with its lines is read again, carefully.
"""

from __future__ import annotations

import bisect
import csv
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from jobs import faults
from jobs.config import Config
from jobs.errors import InputError, environment_failure, first_line
from jobs.ingest import records, schema
from jobs.ingest.discover import SourceFile
from jobs.ingest.fingerprint import mapping_key
from jobs.ingest.schema import TABLES, Table
from jobs.log import Log
from jobs.resources import sql_dir
from jobs.sqltext import lit, q


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute((sql_dir() / "staging" / "macros.sql").read_text())


def create_support_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create table if not exists csv_bad_records (
            table_name varchar, source_file varchar, record_number bigint,
            first_line bigint, last_line bigint, error_type varchar, error_message varchar,
            fields_in_record integer, fields_in_header integer
        )
        """
    )


# ---------------------------------------------------------------- raw


@dataclass
class _Mapping:
    """Which extract column feeds each contract column of one file."""

    select: list[str]  # SQL expressions, one per contract column, aliased
    found: list[str]
    sources: list[str] = field(default_factory=list)  # the extract's names of `found`


def _describe(con: duckdb.DuckDBPyConnection, reader: str) -> list[tuple[str, str]]:
    rows = con.execute(f"describe select * from {reader}").fetchall()
    return [(r[0], r[1]) for r in rows]


def _map_columns(
    table: Table, source: SourceFile, described: list[tuple[str, str]], config: Config
) -> _Mapping:
    by_name = {name.strip().lower(): (name, typ) for name, typ in described}
    select = []
    found = []
    sources = []
    for column in table.columns:
        wanted = config.source_column(table.name, column.name)
        hit = by_name.get(wanted.strip().lower())
        if hit is None:
            if column.required:
                renamed = "" if wanted == column.name else f" (configured as {wanted!r})"
                raise InputError(
                    f"{source.path}: required column {column.name}{renamed} is missing; "
                    f"rename it under [columns.{table.name}] in the config if the extract "
                    f"uses another name"
                )
            select.append(f"cast(null as varchar) as {q(column.name)}")
            continue
        name, typ = hit
        found.append(column.name)
        sources.append(name)
        expr = q(name)
        if typ.upper().startswith("TIMESTAMP"):
            expr = f"cast(cast({expr} as date) as varchar)"
        elif typ.upper() != "VARCHAR":
            expr = f"cast({expr} as varchar)"
        select.append(f"{expr} as {q(column.name)}")
    if table.one_of and not set(table.one_of) & set(found):
        raise InputError(
            f"{source.path}: table {table.name} needs column "
            f"{' or '.join(table.one_of)}; neither is present"
        )
    return _Mapping(select=select, found=found, sources=sources)


def read_csv_header(path: Path, encoding: str = "utf-8", table: str = "") -> list[str]:
    """The header record of a CSV (or CSV.gz) file, de-duplicated.

    DuckDB's dialect sniffer gives up on files whose sample holds a broken
    record, so the job reads the header itself and tells DuckDB the dialect:
    comma-separated, double-quoted (RFC 4180), every column text.
    """
    try:
        with records.open_binary(path) as fh:
            text = fh.readline().decode(encoding)
            while records.split_record(text.rstrip("\r\n"))[0] == records.OPEN:
                more = fh.readline()  # a quoted name with a line break
                if not more:
                    break
                text += more.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: the header is not valid {encoding}; {encoding_hint(table, encoding)}"
        ) from None
    except (OSError, EOFError) as exc:
        raise _read_error(exc, path, "CSV") from None
    try:
        header = next(csv.reader([text]), None) if text.strip() else None
    except csv.Error as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from None
    return header_names(header or [], path)


def encoding_hint(table: str, encoding: str) -> str:
    """What to do about bytes that are not in a table's encoding."""
    if encoding == "utf-8":
        return (
            f"if the file uses another encoding, name it in the configuration: "
            f'[input.{table or "<table>"}] encoding = "cp1252" (for example)'
        )
    return f"check [input.{table or '<table>'}] encoding in the configuration"


def _read_error(exc: BaseException, path: object, what: str) -> BaseException:
    """An error while reading an input file: the file's (InputError, exit 2), or the
    machine's (a full disk or spill directory, memory: the error itself, which the
    pipeline reports with exit 1 naming the path and what ran out)."""
    if environment_failure(exc, input_path=path) is not None:
        return exc
    return InputError(f"{path}: cannot be read as {what} ({first_line(exc)})")


def header_names(header: list[str], path: object) -> list[str]:
    """A CSV header's column names: BOM and spaces stripped, blanks named column_<i>,
    repeats numbered (name_2, ...) case-insensitively. An empty header is an error."""
    if not header:
        raise InputError(f"{path}: empty file, no header record")
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        name = raw.lstrip("\ufeff").strip() or f"column_{i + 1}"
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate.lower())
        names.append(candidate)
    return names


def _csv_reader(path: str, rejects: str, header: list[str]) -> str:
    columns = "{" + ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header) + "}"
    return (
        f"read_csv({lit(path)}, header = true, auto_detect = false, columns = {columns}, "
        f"delim = ',', quote = '\"', escape = '\"', ignore_errors = true, "
        f"store_rejects = true, rejects_table = {lit(rejects)}, "
        f"rejects_scan = {lit(rejects + '_scan')})"
    )


def load_raw(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: list[SourceFile],
    config: Config,
) -> None:
    """Create ``raw_<table>`` over `files` and count rows read per file.

    The Parquet files that map their columns the same way are read by one scan (one view
    over the list of files): a union of one relation per file would make every query on
    ``raw_<table>`` run one pipeline per file, each with its own aggregation state (the
    scan's grouping pass over a nightly folder of a hundred files needed gigabytes)."""
    parts = []
    parquet: dict[tuple[str, ...], list[SourceFile]] = {}
    for i, source in enumerate(files):
        path = str(source.path)
        if source.format == "parquet":
            reader = f"read_parquet({lit(path)}, file_row_number = true)"
            try:
                described = _describe(con, reader)
            except duckdb.Error as exc:
                raise _read_error(exc, path, "Parquet") from None
            described = [(n, t) for n, t in described if n != "file_row_number"]
            mapping = _map_columns(table, source, described, config)
            parquet.setdefault(tuple(mapping.select), []).append(source)
            # the rows the scans will read, counted from the row groups' metadata (a
            # footer of 801 row groups x 148 columns: 0.18 s, against 0.76 s through
            # parquet_metadata's row per column chunk)
            try:
                source.rows_read = con.execute(
                    f"select count(*) from read_parquet({lit(path)})"
                ).fetchone()[0]
            except duckdb.Error as exc:
                raise _read_error(exc, path, "Parquet") from None
        else:
            name = f"raw_{table.name}_{i}"
            mapping = read_csv_file(con, table, source, name, config)
            parts.append(f"select * from {name}")
        source.columns_found = mapping.found
        source.mapping = mapping_key(source.format, mapping.select)
    by_row = []
    for select, group in parquet.items():
        paths = "[" + ", ".join(lit(str(f.path)) for f in group) + "]"
        by_row.append(
            f"select _ca_file as source_file, file_row_number, {', '.join(select)} "
            f"from read_parquet({paths}, file_row_number = true, filename = '_ca_file', "
            "union_by_name = true)"
        )
    if by_row:
        con.execute(f"create or replace view {by_row_view(table)} as " + " union all ".join(by_row))
        parts.append(
            "select source_file, file_row_number + 1 as record_number, "
            f"* exclude (source_file, file_row_number) from {by_row_view(table)}"
        )
    con.execute(f"create or replace view raw_{table.name} as " + " union all ".join(parts))


def by_row_view(table: Table) -> str:
    """The view of `table`'s Parquet files with each row's Parquet ``file_row_number`` as
    read (``record_number`` less one): a filter on that column reaches the reader, which
    then decodes only the row groups and vectors holding the rows asked for
    (jobs.validation.increment.stage_old_rows); a filter on ``raw_<table>``'s computed
    ``record_number`` is applied after every column of every row is decoded."""
    return f"raw_{table.name}_by_row"


def read_csv_file(
    con: duckdb.DuckDBPyConnection, table: Table, source: SourceFile, name: str, config: Config
) -> _Mapping:
    """Parse one CSV file into the relation `name` (lineage + contract columns) and set its
    rows read; its unparseable records go to ``csv_bad_records``.

    The fast path is DuckDB's parallel reader, writing the contract's columns of the good
    records, in file order, to a Parquet copy in the connection's spill folder
    (`csv_copy_path`); `name` is a view over it that numbers the records (Parquet's
    ``file_row_number``, shifted past the records DuckDB skipped). Meanwhile a thread
    counts the file's lines (jobs.ingest.records). When the records do not reconcile
    with the lines (a quote that swallowed records, a multi-line value, a blank line,
    bytes not in the encoding), or the table's files are not UTF-8, the file is read by
    the careful reader instead.

    Issue 14: numbering with ``row_number() over ()`` and writing 51 text columns into
    the database file made reading cost 4x DuckDB's parse; the Parquet copy costs about
    1.7x (2M lines of the bench's 148-column file: 10.6 s before, 4.4 s now)."""
    path = str(source.path)
    encoding = config.encoding(table.name)
    header = read_csv_header(source.path, encoding, table.name)
    mapping = _map_columns(table, source, [(h, "VARCHAR") for h in header], config)
    if encoding == "utf-8":
        rejects = f"csv_rejects_{name}"
        copy = csv_copy_path(con, name)
        copy.parent.mkdir(parents=True, exist_ok=True)  # failing: the machine's fault (exit 1)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="count-lines") as pool:
            counted = pool.submit(records.count_lines, source.path, encoding)
            try:
                faults.at("load")
                # COPY keeps the file's record order (preserve_insertion_order).
                n_good = con.execute(
                    f"copy (select {', '.join(mapping.select)} "
                    f"from {_csv_reader(path, rejects, header)}) "
                    f"to {lit(str(copy))} (format parquet, compression 'uncompressed')"
                ).fetchone()[0]
            except duckdb.Error as exc:
                counted.cancel()
                if str(copy) in str(exc):
                    raise  # writing the copy failed: the machine's fault, not the file's
                raise _read_error(exc, path, "CSV") from None
            skipped = _collect_bad_records(con, table, source, rejects, len(header))
            try:
                lines = counted.result()
            except OSError as exc:
                raise _read_error(exc, path, "CSV") from None
        if lines.reconciles(n_good + len(skipped)):
            _number_records(con, table, name, path, copy, n_good, skipped)
            source.rows_read = n_good + len(skipped)
            return mapping
        con.execute("delete from csv_bad_records where source_file = ?", [path])
        copy.unlink(missing_ok=True)
    source.rows_read = _read_carefully(con, table, source, name, header, mapping, encoding)
    return mapping


def csv_copy_path(con: duckdb.DuckDBPyConnection, name: str) -> Path:
    """Where the fast path writes the Parquet copy of the CSV file read as `name`: the
    connection's spill folder (``temp_directory``: in a run, the run's own, removed with
    it), where DuckDB's own spill goes too. `drop_raw` removes the copy."""
    spill = con.execute("select current_setting('temp_directory')").fetchone()[0]
    folder = Path(spill or tempfile.gettempdir())
    return folder / f"{name}.csv.parquet"


# Good records per bucket of the skipped-record shifts (`_number_records`).
SHIFT_BUCKET_BITS = 16


def _number_records(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    name: str,
    path: str,
    copy: Path,
    n_good: int,
    skipped: list[int],
) -> None:
    """The view `name` over the Parquet copy of a CSV file: lineage + contract columns.

    The copy holds the good records in file order, so good record g (``file_row_number``
    + 1) is record g plus the skipped records before it. Skipped record b_j (ascending,
    j from 1) has t_j = b_j - j good records before it, so g comes after the t_j < g.
    Counting them must not sort the file's rows (an ASOF join did, and tripled the
    passes over it): ``<name>_shifts`` has a row per bucket of 2**SHIFT_BUCKET_BITS good
    records, with the t_j below the bucket (counted) and the few inside it (a list);
    each row finds its bucket by a hash join on ``file_row_number >> bits``."""
    columns = ", ".join(f"r.{q(c.name)}" for c in table.columns)
    number = "r.file_row_number + 1"
    shift = ""
    if skipped:
        shifts = f"{name}_shifts"
        size = 1 << SHIFT_BUCKET_BITS
        t = [b - j for j, b in enumerate(skipped, start=1)]
        rows = []
        for bucket in range((max(n_good - 1, 0) >> SHIFT_BUCKET_BITS) + 1):
            below = bisect.bisect_right(t, bucket * size)
            inside = t[below : bisect.bisect_left(t, (bucket + 1) * size)]
            rows.append((bucket, below, inside))
        con.execute(
            f"create or replace table {shifts} (bucket bigint, below bigint, inside bigint[])"
        )
        con.executemany(f"insert into {shifts} values (?, ?, ?)", rows)
        number = (
            f"{number} + s.below + len(list_filter(s.inside, lambda t: t < r.file_row_number + 1))"
        )
        shift = f" join {shifts} as s on r.file_row_number >> {SHIFT_BUCKET_BITS} = s.bucket"
    con.execute(
        f"create or replace view {name} as select {lit(path)} as source_file, "
        f"{number} as record_number, {columns} "
        f"from read_parquet({lit(str(copy))}, file_row_number = true) as r{shift}"
    )


def _read_carefully(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source: SourceFile,
    name: str,
    header: list[str],
    mapping: _Mapping,
    encoding: str,
) -> int:
    """Read `source` with the careful reader (jobs.ingest.records) into `name`."""
    path = str(source.path)
    positions = {h: i for i, h in enumerate(header)}
    wanted = {src: positions[src] for src in mapping.sources}
    empty = pa.schema(
        [("record_number", pa.int64()), *[(c, pa.string()) for c in wanted]]
    ).empty_table()
    select = (
        f"select {lit(path)} as source_file, record_number, {', '.join(mapping.select)} "
        f"from _careful_batch"
    )
    con.register("_careful_batch", empty)
    con.execute(f"create or replace table {name} as {select}")

    def insert(batch: pa.Table) -> None:
        con.register("_careful_batch", batch)
        con.execute(f"insert into {name} {select}")

    try:
        n_records, bad = records.read_careful(source.path, len(header), wanted, encoding, insert)
    except OSError as exc:
        raise _read_error(exc, path, "CSV") from None
    finally:
        con.unregister("_careful_batch")
    if bad:
        con.executemany(
            "insert into csv_bad_records values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [bad_record_row(table.name, path, b, len(header), encoding) for b in bad],
        )
    return n_records


def bad_record_row(
    table: str, path: str, bad: records.BadRecord, n_header: int, encoding: str
) -> tuple:
    """A careful reader's malformed record as a ``csv_bad_records`` row (both engines)."""
    message = bad.message
    if bad.error_type == "invalid encoding":
        message = f"{message}; {encoding_hint(table, encoding)}"
    return (
        table, path, bad.record_number, bad.first_line, bad.last_line, bad.error_type, message,
        bad.fields_in_record, n_header,
    )  # fmt: skip


def _collect_bad_records(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source: SourceFile,
    rejects: str,
    n_header: int,
) -> list[int]:
    """Move DuckDB's CSV rejects into ``csv_bad_records``; return their record numbers,
    ascending.

    DuckDB reports a skipped record by ``line`` = its record number + 1 (the
    header), when every record is one line (the only case this result is kept:
    `read_csv_file`). The record's text is only used to count its fields, never
    stored.
    """
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = ?", [rejects]
    ).fetchone()[0]
    if not exists:
        return []
    bad = con.execute(
        f"""
        select line - 1 as record_number,
               string_agg(distinct error_type, '; ' order by error_type) as error_type,
               min(error_message) as error_message,
               min(csv_line) as raw_line
        from {rejects}
        group by line
        order by line
        """
    ).fetchall()
    con.execute(f"drop table if exists {rejects}")
    con.execute(f"drop table if exists {rejects}_scan")
    rows = []
    for record_number, error_type, message, raw_line in bad:
        n_fields = records.field_count(raw_line)
        if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS") and n_fields is not None:
            message = f"the record has {n_fields} fields, the header {n_header}"
        line = record_number + 1
        rows.append(
            (
                table.name, str(source.path), record_number, line, line, error_type.lower(),
                message, n_fields, n_header,
            )
        )  # fmt: skip
    if rows:
        con.executemany("insert into csv_bad_records values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return [r[0] for r in bad]


# ---------------------------------------------------------------- staged


def _normalize(column: schema.Column) -> str:
    return f"{_normalized(column, q(column.name))} as {q(column.name)}"


def _normalized(column: schema.Column, ref: str) -> str:
    """The normalized text of `column`, read from the expression `ref`."""
    base = f"nullif(trim({ref}), '')"
    kind = column.kind
    if kind == schema.LOWER:
        expr = f"lower({base})"
    elif kind in (schema.HCPCS, schema.MODIFIER):
        expr = f"upper({base})"
    elif kind in (schema.DX, schema.CODE):
        expr = f"nullif(replace(upper({base}), '.', ''), '')"
    elif kind == schema.REVENUE:
        expr = (
            f"case when regexp_full_match({base}, '[0-9]{{3}}') then '0' || {base} "
            f"else upper({base}) end"
        )
    elif kind == schema.NDC:
        expr = f"ca_ndc11({base})"
    else:
        expr = base
    return expr


def _gated(name: str, regex: str, cast: str) -> str:
    # regexp_full_match anchors itself: the pattern goes in without ^ and $.
    return f"case when regexp_full_match({name}, {lit(regex[1:-1])}) then {cast} end"


def _converted(column: schema.Column, name: str | None = None) -> str:
    """The typed value of a normalized text column (or of the normalized expression
    `name`); NULL when it is missing or does not convert (``<column>__invalid`` then keeps
    the text, and validation rejects the row)."""
    name = name or q(column.name)
    kind = column.kind
    if kind == schema.DATE:
        return f"ca_parse_date({name})"
    if kind == schema.AMOUNT:
        money = schema.SQL_TYPES[schema.AMOUNT]
        return _gated(name, schema.AMOUNT_REGEX, f"try_cast({name} as {money})")
    if kind == schema.NUMBER:
        return _gated(name, schema.NUMBER_REGEX, f"try_cast({name} as double)")
    # claim_line_number: '3', '03' and '3.0' (float exports) are line 3
    return _gated(
        name, schema.LINE_NUMBER_REGEX, f"try_cast(try_cast({name} as decimal(18, 3)) as integer)"
    )


def _inexact(column: schema.Column) -> str:
    """When the typed value is not the text: it did not convert, or (an amount) it has
    more than two decimals (kept exact; a warning, not a rejection)."""
    missing = f"{q(column.name + '__t')} is null"
    if column.kind != schema.AMOUNT:
        return missing
    return f"({missing} or regexp_full_match({q(column.name)}, {lit(schema.SUB_CENT_REGEX)}))"


def staged_sql(
    table: Table, run_id: str, source: str | None = None, passthrough: tuple[str, ...] = ()
) -> str:
    """The select that stages `table` from ``raw_<table>`` (DuckDB SQL; the Spark engine
    translates it): every row read, normalized and converted, in one pass.

    `source` replaces ``raw_<table>`` (a relation with the same columns: the contract's,
    as text, and the lineage); `passthrough` names further columns of it carried to the
    end of the select unchanged.

    Columns: the contract's, converted ones typed (the loaded table's types and order),
    ``service_date`` (medical claims: the line's start date, else the claim's), the
    lineage, then ``<column>__invalid`` for each converted column: its text when present
    but not convertible (or, for an amount, not exact: more than two decimals), else
    NULL. Validation reads the typed and ``__invalid`` columns;
    the loaded table is this one without the ``__invalid`` columns, so the typed values
    are written once and the text of converted columns is never stored.
    """
    converted = [c for c in table.columns if c.converted]
    typed = ", ".join(f"{_converted(c)} as {q(c.name + '__t')}" for c in converted)
    normalized = ", ".join(_normalize(c) for c in table.columns)
    order = [
        f"{q(c.name + '__t') if c.converted else q(c.name)} as {q(c.name)}" for c in table.columns
    ]
    if table.name == "medical_claim":
        order.append('coalesce("claim_line_start_date__t", "claim_start_date__t") as service_date')
    order += ["source_file", "record_number", f"{lit(run_id)} as run_id"]
    order += [
        f"case when {_inexact(c)} then {q(c.name)} end as {q(schema.invalid_column(c.name))}"
        for c in converted
    ]
    order += [q(name) for name in passthrough]
    carried = "".join(f", {q(name)}" for name in passthrough)
    return (
        f"select {', '.join(order)} from (select n.*, {typed} from "
        f"(select source_file, record_number, {normalized}{carried} "
        f"from {source or f'raw_{table.name}'}) as n) as t"
    )


def create_staged_table(con: duckdb.DuckDBPyConnection, table: Table, run_id: str) -> None:
    """Write ``stg_<table>`` (see `staged_sql`)."""
    con.execute(f"create table stg_{table.name} as {staged_sql(table, run_id)}")


def read_tables(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, list[SourceFile]],
    config: Config,
    log: Log,
) -> None:
    """Create the raw relations of every table present in `files` (a log stage each) and
    count each file's rows read. Nothing is staged or copied yet (jobs.validation.scan)."""
    for name, table in TABLES.items():
        table_files = files.get(name)
        if not table_files:
            continue
        with log.stage(f"read:{name}", f"{len(table_files)} file(s)"):
            load_raw(con, table, table_files, config)
        log.event(
            f"read {name}", rows=sum(f.rows_read for f in table_files), files=len(table_files)
        )


# ---------------------------------------------------------------- loaded

# The persons of the audited cohort (temporary table of the job's connection).
COHORT_PERSONS = "_ca_cohort_persons"


def _accepted(alias: str, table: Table) -> str:
    return (
        f"not exists (select 1 from rejected_keys as r where r.table_name = {lit(table.name)} "
        f"and r.source_file = {alias}.source_file and r.record_number = {alias}.record_number)"
    )


def finalize_tables(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, list[SourceFile]],
    esi_codes: list[str],
    earlier: Callable[[Table], str] | None = None,
) -> dict[str, int]:
    """Once validation has decided: every contract table exists, holding the audited
    cohort, or empty; the raw and staged relations are gone. Returns the rows kept.

    The cohort (contract, "Outputs") is every accepted row of the persons with at least
    one accepted medical-claim line whose code is in `esi_codes` (reversals included);
    ``practitioner`` is kept whole. Rows are in file and record order.

    earlier: for an increment (jobs.validation.increment), the select of a table's rows
    the previous cohort holds (loaded columns, tonight's lineage); they join the staged
    rows, which hold the new files' and the few history rows staged tonight.
    """

    def rows(table: Table) -> str:
        columns = ", ".join(q(c) for c, _ in schema.loaded_columns(table))
        staged = f"select {columns} from stg_{table.name}"
        if earlier is None:
            return staged
        return (
            f"{staged} union all select * from ({earlier(table)}) as e where not exists "
            f"(select 1 from stg_{table.name} as n where n.source_file = e.source_file "
            "and n.record_number = e.record_number)"
        )

    medical = TABLES["medical_claim"]
    con.execute(
        f"create or replace temp table {COHORT_PERSONS} as "
        f"select distinct person_id from ({rows(medical)}) as s "
        f"where hcpcs_code in (select unnest($codes)) and person_id is not null "
        f"and {_accepted('s', medical)}",
        {"codes": esi_codes},
    )
    kept = {}
    for name, table in TABLES.items():
        if name not in files:
            create_empty_table(con, table)
            continue
        where = _accepted("s", table)
        if name != "practitioner":
            where += f" and s.person_id in (select person_id from {COHORT_PERSONS})"
        con.execute(
            f"create table {q(name)} as select * from ({rows(table)}) as s "
            f"where {where} order by source_file, record_number"
        )
        con.execute(f"drop table stg_{name}")
        drop_raw(con, table)
        kept[name] = con.execute(f"select count(*) from {q(name)}").fetchall()[0][0]
    con.execute(f"drop table {COHORT_PERSONS}")
    return kept


def create_empty_table(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    con.execute(schema.create_table_sql(table))


def drop_raw(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Drop the raw relations of `table` (views over input files, parsed CSV copies) and
    the fast path's Parquet copies."""
    rows = con.execute(
        "select table_name, 'table' from duckdb_tables() where table_name like ? "
        "union all select view_name, 'view' from duckdb_views() where view_name like ?",
        [f"raw_{table.name}%", f"raw_{table.name}%"],
    ).fetchall()
    con.execute(f"drop view if exists raw_{table.name}")
    for name, kind in rows:
        if name != f"raw_{table.name}":
            con.execute(f"drop {kind} if exists {q(name)}")
            csv_copy_path(con, name).unlink(missing_ok=True)


__all__ = [
    "TABLES",
    "by_row_view",
    "create_empty_table",
    "create_staged_table",
    "create_support_tables",
    "drop_raw",
    "finalize_tables",
    "install_macros",
    "load_raw",
    "read_tables",
    "staged_sql",
]
