"""Reference data of the audit: the value sets (sql/value_sets/*.csv), the per-code
reference tables (ref_*.csv) and the NDC crosswalk, read and checked in Python and
written into the audit database as text tables."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from jobs.resources import sql_dir

VALUE_SET_COLUMNS = ("value_set", "code", "code_system", "description", "version", "source")
CROSSWALK_COLUMNS = ("ndc", "ingredient", "drug_class", "route")
STARTER_CROSSWALK = "ndc_crosswalk_starter.csv"
REFERENCE_PREFIX = "ref_"
# Code systems whose entries are words compared in lower case; all others are codes.
LOWER_CASE_SYSTEMS = ("ingredient", "route")
_NDC = re.compile(r"^[0-9]{11}$")


def value_sets_dir() -> Path:
    return sql_dir() / "value_sets"


def _value_set_files() -> list[Path]:
    return [
        p
        for p in sorted(value_sets_dir().glob("*.csv"))
        if p.name != STARTER_CROSSWALK and not p.name.startswith(REFERENCE_PREFIX)
    ]


def reference_files() -> list[Path]:
    return sorted(value_sets_dir().glob(f"{REFERENCE_PREFIX}*.csv"))


def read_csv(
    path: Path, expected: tuple[str, ...]
) -> tuple[tuple[str, ...], list[tuple[int, dict[str, str]]]]:
    """The header and (line number, row) pairs of a CSV whose header holds `expected`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in expected if c not in header]
            if missing:
                raise ValueError(f"{path}: header lacks column(s) {', '.join(missing)}")
            reader.fieldnames = header
            return tuple(header), [
                (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None})
                for row in reader
            ]
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path}: not a readable UTF-8 CSV: {e}") from None


def _normalize_code(code: str, code_system: str) -> str:
    if code_system in LOWER_CASE_SYSTEMS:
        return code.lower()
    return code.upper().replace(".", "")


def read_value_sets() -> list[dict[str, str]]:
    """Every value-set row, codes normalized (upper-case without dots; words lower-case)."""
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for path in _value_set_files():
        for line, row in read_csv(path, VALUE_SET_COLUMNS)[1]:
            for column in ("value_set", "code", "code_system", "version"):
                if not row[column]:
                    raise ValueError(f"{path}: line {line}: {column} is empty")
            if row["value_set"] != path.stem:
                raise ValueError(
                    f"{path}: line {line}: value_set {row['value_set']!r} "
                    "differs from the file name"
                )
            code = _normalize_code(row["code"], row["code_system"])
            key = (row["value_set"], code, row["code_system"])
            if key in seen:
                raise ValueError(f"{path}: line {line}: code {code} appears twice")
            seen.add(key)
            rows.append({**{c: row[c] for c in VALUE_SET_COLUMNS}, "code": code})
    return rows


def value_set_versions() -> dict[str, str]:
    """{value set or reference table: version}, for the run manifest."""
    versions: dict[str, set[str]] = {}
    for row in read_value_sets():
        versions.setdefault(row["value_set"], set()).add(row["version"])
    for path in reference_files():
        for _, row in read_csv(path, ("version",))[1]:
            versions.setdefault(path.stem, set()).add(row["version"])
    for name, found in versions.items():
        if len(found) != 1:
            raise ValueError(f"value set {name} has several versions: {', '.join(sorted(found))}")
    return {name: found.pop() for name, found in sorted(versions.items())}


def read_ndc_crosswalk(path: Path) -> list[dict[str, str | None]]:
    """Validated crosswalk rows; a bad file raises ValueError naming the file, line and problem."""
    rows: list[dict[str, str | None]] = []
    by_ndc: dict[str, dict[str, str | None]] = {}
    for line, row in read_csv(path, CROSSWALK_COLUMNS)[1]:
        ndc = row["ndc"]
        if not _NDC.match(ndc):
            raise ValueError(f"{path}: line {line}: ndc {ndc!r} is not 11 digits (no dashes)")
        for column in ("ingredient", "route"):
            if not row[column]:
                raise ValueError(f"{path}: line {line}: {column} is empty for ndc {ndc}")
        clean: dict[str, str | None] = {
            "ndc": ndc,
            "ingredient": row["ingredient"].lower(),
            "drug_class": row["drug_class"].lower() or None,
            "route": row["route"].lower(),
        }
        if ndc in by_ndc:
            if by_ndc[ndc] != clean:
                raise ValueError(
                    f"{path}: line {line}: ndc {ndc} is listed twice with different values"
                )
            continue
        by_ndc[ndc] = clean
        rows.append(clean)
    return rows


def _write_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], rows: list[dict]
) -> None:
    data = pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in columns})
    view = f"_claims_audit_load_{name}"
    # DuckDB 2 refuses register() while an earlier execute() result is unread.
    con.complete()
    con.register(view, data)
    try:
        con.execute(f"create or replace table {name} as select * from {view}")
    finally:
        con.unregister(view)


def load_reference_data(con: duckdb.DuckDBPyConnection, ndc_crosswalk: Path | None = None) -> None:
    """Tables value_sets, ref_* and ndc_crosswalk (a supplied crosswalk replaces the starter)."""
    _write_table(con, "value_sets", VALUE_SET_COLUMNS, read_value_sets())
    for path in reference_files():
        columns, rows = read_csv(path, ())
        _write_table(
            con, path.stem, columns, [{k: v or None for k, v in r.items()} for _, r in rows]
        )
    crosswalk = ndc_crosswalk or value_sets_dir() / STARTER_CROSSWALK
    _write_table(con, "ndc_crosswalk", CROSSWALK_COLUMNS, read_ndc_crosswalk(Path(crosswalk)))
