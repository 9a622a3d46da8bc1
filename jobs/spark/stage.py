"""Raw -> staged -> loaded on Spark, with the DuckDB engine's column mapping and normalization.

For each input table the run registers (in its own Spark session):

* ``raw_<table>``: the contract columns as read (text), with ``source_file`` and
  ``record_number`` (1-based position among the file's data records);
* ``stg_<table>``: the DuckDB engine's staging select (jobs.ingest.load `staged_sql`:
  normalized, converted, the unconvertible text in ``<column>__invalid``) through
  the translation layer, staging macros included;
* ``<table>``: the accepted rows (``stg_<table>`` without the ``__invalid``
  columns), once validation has decided the rejected keys.

Column mapping (renames from the configuration, missing optional columns as NULL,
timestamps to dates, other types to text) is jobs.ingest.load's `_map_columns`, translated.

Record numbers:

* Parquet: ``_metadata.row_index`` (the row's position in its file, which Spark
  reads from the file's row groups) + 1.
* CSV: files are read with ``multiLine`` (quoted line breaks, as DuckDB reads
  them), which Spark never splits: one task reads a whole file, front to back.
  ``monotonically_increasing_id()`` is then consecutive and increasing within a
  file (partition index in the upper bits, position within the partition below;
  the files of one partition are read one after the other), so the record
  number is the id minus the file's smallest id, plus one. The parsed rows are
  materialized once (like the DuckDB engine's CSV table), so the ids are computed
  once. Records Spark cannot parse (a wrong number of fields) come back with the
  raw text in the corrupt-record column: they keep their place in the numbering
  and are rejected as ``malformed_record``, as on DuckDB (their text only counts
  their fields; it is never stored).
* CSV files whose records do not reconcile with their physical lines (a stray
  quote swallowed records, a multi-line value, a blank line, bytes not in the
  encoding), and every file of a table whose configured encoding is not UTF-8, are
  read by the DuckDB engine's careful reader (jobs.ingest.records) on the driver,
  exactly as there: same records, same numbers, same rejections. Lines are counted
  on the driver for local files and by Spark's text source for URIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jobs.config import Config
from jobs.errors import InputError
from jobs.ingest import load, records, schema
from jobs.ingest.discover import SourceFile
from jobs.ingest.fingerprint import mapping_key
from jobs.ingest.schema import Table
from jobs.spark.files import download, file_key, is_local, local_path, spark_path
from jobs.spark.session import error_line
from jobs.spark.translate import spark_expression, to_spark_sql
from jobs.sqltext import lit
from jobs.validation import suites


def materialize(df: DataFrame) -> DataFrame:
    """Compute `df` once and keep it on the executors (memory, then disk), lineage cut."""
    return df.localCheckpoint(eager=True)


if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CORRUPT = "_ca_corrupt_record"
SPARK_TYPES = {
    "VARCHAR": "string",
    "DATE": "date",
    "DECIMAL(18, 6)": "decimal(18,6)",
    "DOUBLE": "double",
    "INTEGER": "int",
    "BIGINT": "bigint",
}


@dataclass
class StagedTable:
    table: Table
    files: list[SourceFile]
    bad: DataFrame  # unparseable CSV records: source_file, record_number, raw_line
    headers: dict[str, list[str]]  # source_file -> CSV header (field counts of bad records)
    n_bad: int = 0
    # csv_bad_records rows of the files read carefully (raw_line is NULL for those in `bad`)
    careful_bad: list[tuple] = field(default_factory=list)


def _duckdb_type(data_type) -> str:
    """The DuckDB type name jobs.ingest.load._map_columns expects for a Spark type."""
    name = data_type.simpleString().upper()
    if name == "STRING":
        return "VARCHAR"
    if name.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    return name


def _csv_header(
    spark: SparkSession, source: SourceFile, encoding: str = "utf-8", table: str = ""
) -> list[str]:
    if is_local(str(source.path)):
        return load.read_csv_header(local_path(str(source.path)), encoding, table)
    try:
        names = (
            spark.read.option("header", "true")
            .option("multiLine", "true")
            .option("escape", '"')
            .option("encoding", encoding)
            .csv(spark_path(source))
            .columns
        )
    except Exception as exc:
        raise InputError(f"{source.path}: cannot be read as CSV ({error_line(exc)})") from None
    return load.header_names(names, source.path)


def _file_lookup(column: str, values: dict[str, object]):
    """An expression mapping Spark's `_metadata.file_path` to a per-file value."""
    from pyspark.sql import functions as F

    pairs = []
    for key, value in values.items():
        pairs += [F.lit(key), F.lit(value)]
    return F.element_at(F.create_map(*pairs), F.col(column)) if pairs else F.lit(None)


def read_table(
    spark: SparkSession, table: Table, files: list[SourceFile], config: Config, run_id: str
) -> StagedTable:
    """Register raw_<table> and stg_<table>; count rows read per file."""
    from pyspark.sql import functions as F

    parts: list[DataFrame] = []
    counts: list = []  # per file: _ca_file, n (records), n_bad (unparseable records)
    headers: dict[str, list[str]] = {}
    parquet = [f for f in files if f.format == "parquet"]
    csv_files = [f for f in files if f.format != "parquet"]

    if parquet:
        paths = [spark_path(f) for f in parquet]
        try:
            df = spark.read.option("mergeSchema", "true").parquet(*paths)
            described = [(f.name, _duckdb_type(f.dataType)) for f in df.schema.fields]
        except Exception as exc:
            raise InputError(
                f"{parquet[0].path}: cannot be read as Parquet ({error_line(exc)})"
            ) from None
        mapping = load._map_columns(table, parquet[0], described, config)
        for f in parquet:
            f.columns_found = mapping.found
            f.mapping = mapping_key(f.format, mapping.select)
        part = df.select(
            F.col("_metadata.file_path").alias("_ca_file"),
            (F.col("_metadata.row_index") + 1).alias("_ca_position"),
            *[F.expr(spark_expression(e)) for e in mapping.select],
            F.lit(None).cast("string").alias(CORRUPT),
        )
        counts += (
            df.select(F.col("_metadata.file_path").alias("_ca_file"))
            .groupBy("_ca_file")
            .agg(F.count("*").alias("n"), F.lit(0).alias("n_bad"))
            .collect()
        )
        parts.append(part)

    encoding = config.encoding(table.name)
    by_header: dict[tuple[str, ...], list[SourceFile]] = {}
    for f in csv_files:
        header = _csv_header(spark, f, encoding, table.name)
        headers[str(f.path)] = header
        by_header.setdefault(tuple(header), []).append(f)
    careful_bad: list[tuple] = []
    for header, group in by_header.items():
        from pyspark.sql.types import StringType, StructField, StructType

        described = [(h, "VARCHAR") for h in header]
        mapping = load._map_columns(table, group[0], described, config)
        for f in group:
            f.columns_found = mapping.found
            f.mapping = mapping_key(f.format, mapping.select)
        careful = group if encoding != "utf-8" else []
        if not careful:
            fields = [StructField(h, StringType()) for h in header]
            reader = (
                spark.read.schema(StructType([*fields, StructField(CORRUPT, StringType())]))
                .option("header", "true")
                .option("multiLine", "true")
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", CORRUPT)
                .option("quote", '"')
                .option("escape", '"')
                .option("encoding", "UTF-8")
            )
            df = reader.csv([spark_path(f) for f in group]).select(
                F.col("_metadata.file_path").alias("_ca_file"),
                F.monotonically_increasing_id().alias("_ca_id"),
                *[F.expr(spark_expression(e)) for e in mapping.select],
                F.col(CORRUPT),
            )
            try:
                df = materialize(df)
            except Exception as exc:
                raise InputError(
                    f"{group[0].path}: cannot be read as CSV ({error_line(exc)})"
                ) from None
            stats = (
                df.groupBy("_ca_file")
                .agg(
                    F.min("_ca_id").alias("first"),
                    F.count("*").alias("n"),
                    F.count(CORRUPT).alias("n_bad"),
                )
                .collect()
            )
            careful = _unreconciled(spark, group, stats)
            drop = {r["_ca_file"] for r in stats if _source_of(group, r["_ca_file"]) in careful}
            counts += [r for r in stats if r["_ca_file"] not in drop]
            first = {r["_ca_file"]: r["first"] for r in stats}
            position = F.col("_ca_id") - _file_lookup("_ca_file", first) + 1
            if drop:
                df = df.where(~F.col("_ca_file").isin(sorted(drop)))
            parts.append(
                df.select(
                    "_ca_file",
                    position.alias("_ca_position"),
                    *[c for c in df.columns if c not in ("_ca_file", "_ca_id", CORRUPT)],
                    CORRUPT,
                )
            )
        for f in careful:
            part, n, bad = _read_carefully(spark, table, f, header, mapping, encoding)
            parts.append(part)
            counts.append({"_ca_file": str(f.path), "n": n, "n_bad": len(bad)})
            careful_bad += bad

    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part)
    # Per-file counts (rows read, unparseable records): the only data that leaves Spark here.
    by_key = {file_key(str(f.path)): f for f in files}
    display: dict[str, str] = {}
    n_bad = 0
    for r in counts:
        source = by_key.get(file_key(r["_ca_file"]))
        if source is None:
            raise RuntimeError(f"Spark read a file that was not discovered: {r['_ca_file']}")
        source.rows_read += int(r["n"])
        n_bad += int(r["n_bad"])
        display[r["_ca_file"]] = str(source.path)
    rows = rows.select(
        _file_lookup("_ca_file", display).alias("source_file"),
        F.col("_ca_position").cast("bigint").alias("record_number"),
        *table.column_names,
        CORRUPT,
    )
    good = rows.where(F.col(CORRUPT).isNull()).drop(CORRUPT)
    bad = rows.where(F.col(CORRUPT).isNotNull()).select(
        "source_file", "record_number", F.col(CORRUPT).alias("raw_line")
    )
    if careful_bad:
        keys = spark.createDataFrame(
            [(r[1], r[2]) for r in careful_bad], "source_file string, record_number bigint"
        )
        bad = bad.unionByName(keys.withColumn("raw_line", F.lit(None).cast("string")))
    good.createOrReplaceTempView(f"raw_{table.name}")
    # Normalized and converted (the unconvertible text beside), computed once and kept
    # on the executors, as the DuckDB engine's staged table.
    staged = materialize(spark.sql(staged_sql(table, run_id)))
    staged.createOrReplaceTempView(f"stg_{table.name}")
    register_repeated_keys(spark, table)
    return StagedTable(
        table=table, files=files, bad=bad, headers=headers, n_bad=n_bad, careful_bad=careful_bad
    )


def _source_of(group: list[SourceFile], spark_file: str) -> SourceFile | None:
    key = file_key(spark_file)
    return next((f for f in group if file_key(str(f.path)) == key), None)


def _unreconciled(spark: SparkSession, group: list[SourceFile], stats: list) -> list[SourceFile]:
    """The files of `group` whose records (as Spark parsed them) are not their physical
    lines less the header (jobs.ingest.records: the careful reader must read them)."""
    from pyspark.sql import functions as F

    parsed = {}
    for r in stats:
        source = _source_of(group, r["_ca_file"])
        if source is not None:
            parsed[str(source.path)] = int(r["n"])
    remote = [f for f in group if not is_local(str(f.path))]
    remote_lines: dict[str, int] = {}
    if remote:
        for r in (
            spark.read.option("lineSep", "\n")
            .text([spark_path(f) for f in remote])
            .groupBy(F.col("_metadata.file_path").alias("f"))
            .count()
            .collect()
        ):
            source = _source_of(remote, r["f"])
            if source is not None:
                remote_lines[str(source.path)] = int(r["count"])
    careful = []
    for f in group:
        path = str(f.path)
        if is_local(path):
            counted = records.count_lines(local_path(path))
        else:
            counted = records.LineCount(lines=remote_lines.get(path, 0), decodable=True)
        if not counted.reconciles(parsed.get(path, 0)):
            careful.append(f)
    return careful


def _read_carefully(
    spark: SparkSession,
    table: Table,
    source: SourceFile,
    header: list[str],
    mapping: load._Mapping,
    encoding: str,
) -> tuple[DataFrame, int, list[tuple]]:
    """One file through the careful reader on the driver (a URI is copied there first):
    its rows as a frame shaped like the CSV reader's, its record count, and its
    csv_bad_records rows."""
    import tempfile
    from pathlib import Path

    import pyarrow as pa
    from pyspark.sql import functions as F

    path = str(source.path)
    positions = {h: i for i, h in enumerate(header)}
    wanted = {src: positions[src] for src in mapping.sources}
    batches: list[pa.Table] = []
    with tempfile.TemporaryDirectory(prefix="claims-audit-careful-") as tmp:
        local = local_path(path) if is_local(path) else Path(tmp) / Path(path).name
        if not is_local(path):
            download(spark, path, local)
        try:
            n, bad = records.read_careful(local, len(header), wanted, encoding, batches.append)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read as CSV ({exc})") from None
    schema_ = pa.schema([("record_number", pa.int64()), *[(c, pa.string()) for c in wanted]])
    rows = pa.concat_tables(batches) if batches else schema_.empty_table()
    part = spark.createDataFrame(rows).select(
        F.lit(path).alias("_ca_file"),
        F.col("record_number").alias("_ca_position"),
        *[F.expr(spark_expression(e)) for e in mapping.select],
        F.lit(None).cast("string").alias(CORRUPT),
    )
    return part, n, [load.bad_record_row(table.name, path, b, len(header), encoding) for b in bad]


def staged_sql(table: Table, run_id: str) -> str:
    """stg_<table>: the DuckDB engine's staging select (jobs.ingest.load.staged_sql), translated."""
    return to_spark_sql(load.staged_sql(table, run_id), pretty=False)


def register_repeated_keys(spark: SparkSession, table: Table) -> None:
    """The duplicate-key check's helper (jobs.validation.suites `repeated_keys_sql`), translated."""
    sql = suites.repeated_keys_sql(table.name)
    if sql:
        keys = materialize(spark.sql(to_spark_sql(sql, pretty=False)))
        keys.createOrReplaceTempView(suites.repeated_keys_table(table.name))


def loaded_sql(table: Table) -> str:
    """The accepted rows of stg_<table>, in the loaded table's column order."""
    cols = ", ".join(f"s.`{name}`" for name, _ in schema.loaded_columns(table))
    return f"""
        select {cols}
        from stg_{table.name} as s
        left anti join rejected_keys as r
            on r.table_name = {lit(table.name)}
            and r.source_file = s.source_file
            and r.record_number = s.record_number
        """


def cohort_persons(spark: SparkSession, esi_codes: list[str]) -> DataFrame:
    """The persons of the audited cohort (jobs.ingest.load.finalize_tables): those with an
    accepted medical-claim line whose code is in `esi_codes`."""
    from pyspark.sql import functions as F

    return (
        spark.table("medical_claim")
        .where(F.col("hcpcs_code").isin(esi_codes) & F.col("person_id").isNotNull())
        .select("person_id")
        .distinct()
    )


def cohort_rows(spark: SparkSession, table: Table, persons: DataFrame) -> DataFrame:
    """The loaded rows of `table` that belong to the cohort (`practitioner`: all of them)."""
    rows = spark.table(table.name)
    if table.name == "practitioner":
        return rows
    return rows.join(persons, "person_id", "left_semi").select(*rows.columns)


def coverage_sql(codes: list[str]) -> str:
    """jobs.validation.scan.write_coverage's numbers from the loaded medical claims (Spark SQL)."""
    listed = ", ".join(lit(c) for c in codes) or "null"
    return f"""
        select count(*) as n_claim_lines, min(service_date) as first_service_date,
               max(service_date) as last_service_date,
               count(case when hcpcs_code in ({listed}) then 1 end) as n_out_of_scope_lines,
               sum(case when hcpcs_code in ({listed}) then paid_amount end)
                   as out_of_scope_paid_amount
        from medical_claim
        """


def loaded_schema(table: Table) -> str:
    """The Spark DDL schema of the loaded table (jobs.ingest.schema.loaded_columns)."""
    return ", ".join(f"`{n}` {SPARK_TYPES[t]}" for n, t in schema.loaded_columns(table))


def create_loaded_view(spark: SparkSession, table: Table) -> DataFrame:
    df = spark.sql(loaded_sql(table))
    df.createOrReplaceTempView(table.name)
    return df


def create_empty_view(spark: SparkSession, table: Table) -> DataFrame:
    df = spark.createDataFrame([], loaded_schema(table))
    df.createOrReplaceTempView(table.name)
    return df
