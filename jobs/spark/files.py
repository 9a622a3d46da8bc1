"""Input discovery and file transfer for URIs (local paths, file:, s3a:, abfss:, gs:, hdfs:, dbfs:).

Local paths (and `file:` URIs) are discovered exactly as on DuckDB (jobs.ingest.discover).
Other URIs are listed by Spark itself (the `binaryFile` source lists files and
their size and modification time without reading their contents), so anything
the session can read can be audited, with the same rules: one entry per table,
`<table>.csv`, `<table>.csv.gz`, `<table>.parquet` or a folder `<table>/`.

Outputs and the audit database are written on the driver's local disk; for an
`--out` or `--db` URI they are copied there with Hadoop's FileSystem API through
the session's JVM (not available on Spark Connect: use a local or mounted path,
e.g. /dbfs/... or /Volumes/... on Databricks).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from jobs.errors import InputError
from jobs.ingest.discover import SUFFIXES, SourceFile, discover, require_needed_tables
from jobs.ingest.schema import TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_local(uri: str | Path) -> bool:
    """True for a plain path or a file: URI (a Windows drive letter is not a scheme)."""
    text = str(uri)
    if isinstance(uri, Path) or not _SCHEME.match(text) or re.match(r"^[A-Za-z]:[\\/]", text):
        return True
    return text.lower().startswith("file:")


def local_path(uri: str | Path) -> Path:
    """The local path of a plain path or file: URI."""
    text = str(uri)
    if text.lower().startswith("file:"):
        text = unquote(urlparse(text).path)
    return Path(text).expanduser().resolve()


def file_key(uri: str) -> str:
    """A file's identity, comparable between listings and Spark's _metadata.file_path.

    Spark's file paths are URIs (percent-encoded, `file:` for local files); the
    listing and jobs.ingest.discover give plain paths. Both map to the decoded path, with
    `file:` removed for local files.
    """
    text = str(uri)
    if text.lower().startswith("file:"):
        return unquote(urlparse(text).path)
    if not _SCHEME.match(text):
        return text
    parsed = urlparse(text)
    return f"{parsed.scheme}://{parsed.netloc}{unquote(parsed.path)}"


def spark_path(source: SourceFile) -> str:
    """The path Spark is given for a source file."""
    return str(source.path)


# ------------------------------------------------------------------ discovery


def discover_uri(spark: SparkSession, uri: str) -> dict[str, list[SourceFile]]:
    """Map each table present under `uri` to its files; modification times in `.modified`."""
    if is_local(uri):
        found = discover(local_path(uri))
        for files in found.values():
            for f in files:
                stat = os.stat(f.path)
                f.modified = _iso(dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC))  # type: ignore[attr-defined]
        return found
    return _discover_remote(spark, uri.rstrip("/"))


def _format_of(name: str) -> str | None:
    lower = name.lower()
    for suffix, fmt in SUFFIXES.items():
        if lower.endswith(suffix):
            return fmt
    return None


def _entry_table(name: str, is_dir: bool) -> str | None:
    lower = name.lower()
    if is_dir:
        return lower if lower in TABLES else None
    for suffix in SUFFIXES:
        if lower.endswith(suffix) and lower[: -len(suffix)] in TABLES:
            return lower[: -len(suffix)]
    return None


def _discover_remote(spark: SparkSession, root: str) -> dict[str, list[SourceFile]]:
    try:
        listing = (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(root)
            .select("path", "length", "modificationTime")
            .collect()
        )
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise InputError(f"input {root}: cannot be listed ({text[0] if text else exc})") from None
    root_key = file_key(root).rstrip("/") + "/"
    entries: dict[str, tuple[str, bool]] = {}  # table -> (entry name, is a folder)
    files: dict[str, list[SourceFile]] = {}
    for row in sorted(listing, key=lambda r: r["path"]):
        key = file_key(row["path"])
        if not key.startswith(root_key):
            continue
        relative = key[len(root_key) :]
        first, _, rest = relative.partition("/")
        is_dir = bool(rest)
        table = _entry_table(first, is_dir)
        if table is None:
            continue
        name = os.path.basename(relative)
        if is_dir and (name.startswith(".") or _format_of(name) is None):
            continue
        known = entries.setdefault(table, (first, is_dir))
        if known != (first, is_dir):
            raise InputError(
                f"input {root}: table {table} has two entries, {known[0]} and {first}; keep one"
            )
        source = SourceFile(
            table=table,
            path=row["path"],  # type: ignore[arg-type]  # a URI, kept as text
            format=_format_of(name) or "csv",
            bytes=int(row["length"]),
        )
        source.modified = _iso(row["modificationTime"])  # type: ignore[attr-defined]
        files.setdefault(table, []).append(source)
    require_needed_tables(files, root)
    return files


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------ copies to and from URIs


def _filesystem(spark: SparkSession, uri: str):  # pragma: no cover - needs a JVM session
    try:
        jvm = spark.sparkContext._jvm
        conf = spark.sparkContext._jsc.hadoopConfiguration()
    except Exception:
        raise InputError(
            f"{uri}: writing to a URI needs a classic Spark session (not Spark Connect); "
            "use a local or mounted path"
        ) from None
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(conf), path, jvm


def exists(spark: SparkSession, uri: str) -> bool:
    if is_local(uri):
        return local_path(uri).exists()
    fs, path, _ = _filesystem(spark, uri)
    return bool(fs.exists(path))


def download(spark: SparkSession, uri: str, target: Path) -> bool:
    """Copy `uri` to the local file `target`; False when `uri` does not exist."""
    fs, path, jvm = _filesystem(spark, uri)
    if not fs.exists(path):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fs.copyToLocalFile(False, path, jvm.org.apache.hadoop.fs.Path(str(target)), True)
    return True


def upload(spark: SparkSession, source: Path, uri: str) -> None:
    """Copy the local file `source` to `uri` (written beside it, then renamed into place)."""
    fs, path, jvm = _filesystem(spark, uri)
    staging = jvm.org.apache.hadoop.fs.Path(uri.rstrip("/") + ".uploading")
    fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(str(source)), staging)
    if fs.exists(path):
        fs.delete(path, False)
    if not fs.rename(staging, path):
        raise OSError(f"cannot move {staging} to {uri}")


def join(uri: str, name: str) -> str:
    return uri.rstrip("/") + "/" + name
