"""Find the input tables in an input directory (contract: "Input").

An input directory holds one entry per table: `<table>.csv`, `<table>.csv.gz`,
`<table>.parquet`, or a folder `<table>/` of such files. Other files are
ignored. An entry named after a table that cannot be read (a symbolic link that
loops or points nowhere, a file that is not a regular file, no permission) is
unusable input, and so is such a file inside a table's folder: never skipped.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.errors import InputError
from jobs.ingest.schema import TABLES

SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet"}


@dataclass
class SourceFile:
    table: str
    path: Path
    format: str  # "csv" or "parquet"
    bytes: int = 0
    rows_read: int = 0
    rows_rejected: int = 0
    rows_with_warnings: int = 0
    sha256: str = ""
    columns_found: list[str] = field(default_factory=list)
    # Work follows what changed (jobs.ingest.fingerprint): the modification time and file
    # id, how the SHA-256 was obtained ("hashed", or "index": kept from the previous run
    # for the same file, size and time), the column mapping's key, and whether the file was
    # "validated" in this run or "reused" from the run `validated_by`.
    modified_ns: int = 0
    file_id: str = ""  # device:inode (a hard link is the same file under another path)
    sha256_from: str = ""
    mapping: str = ""
    validation: str = ""
    validated_by: str = ""
    earlier_path: str = ""  # a reused file's path in the run it is reused from
    # Whether every value of the table's key id (its key's first column, compared as text)
    # is its own trimmed text: found by the validation scan, carried for a reused file;
    # None when not known (jobs.validation.increment.find_old_rows)
    keys_trimmed: bool | None = None
    # The same for person_id: learnt by the first night that looks up persons entering the
    # cohort in the file, then carried (jobs.validation.increment.note_trimmed_persons)
    persons_trimmed: bool | None = None

    @property
    def rows_accepted(self) -> int:
        return self.rows_read - self.rows_rejected

    def manifest_entry(self) -> dict[str, Any]:
        """The file's entry in the run manifest's ``inputs``."""
        return {
            "table": self.table,
            "path": str(self.path),
            "format": self.format,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "sha256_from": self.sha256_from,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rows_with_warnings": self.rows_with_warnings,
            "validation": self.validation,
            "validated_by": self.validated_by,
        }


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, fmt in SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    return None


def _table_of(path: Path) -> str | None:
    name = path.name.lower()
    if name in TABLES:
        return name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in TABLES:
            return name[: -len(suffix)]
    return None


def _kind(path: Path) -> str:
    """'dir' or 'file' (after following links); InputError for anything unreadable."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    raise InputError(f"{path}: cannot be read (not a regular file)")


def discover(input_dir: Path) -> dict[str, list[SourceFile]]:
    """Map each table present in `input_dir` to its files (sorted, stable)."""
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise InputError(f"input {input_dir}: not a directory")
    entries: dict[str, Path] = {}
    for entry in sorted(input_dir.iterdir()):
        table = _table_of(entry)
        if table is None:
            continue
        kind = _kind(entry)
        if (kind == "dir") != (entry.name.lower() == table):
            continue  # a folder named like a file entry, or a file named like a folder
        if table in entries:
            raise InputError(
                f"input {input_dir}: table {table} has two entries, "
                f"{entries[table].name} and {entry.name}; keep one"
            )
        entries[table] = entry

    found: dict[str, list[SourceFile]] = {}
    for table, entry in entries.items():
        if entry.is_dir():
            files = sorted(
                p
                for p in entry.rglob("*")
                if not p.name.startswith(".") and _format_of(p) and _kind(p) == "file"
            )
            if not files:
                raise InputError(
                    f"{entry}: folder for table {table} holds no .csv, .csv.gz or .parquet files"
                )
        else:
            files = [entry]
        found[table] = [
            SourceFile(table=table, path=p.resolve(), format=_format_of(p) or "csv", bytes=_size(p))
            for p in files
        ]

    require_needed_tables(found, input_dir)
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def require_needed_tables(found: dict[str, list[SourceFile]], root: object) -> None:
    for name, table in TABLES.items():
        if table.needed and name not in found:
            raise InputError(
                f"input {root}: required table {name} is missing "
                f"(expected {name}.csv, {name}.csv.gz, {name}.parquet or a folder {name}/)"
            )


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file, read in 4 MB chunks (hashlib releases the GIL)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
