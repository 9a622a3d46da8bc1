"""Reference data of the audit: the value sets (sql/value_sets/*.csv), the per-code
reference tables (ref_*.csv) and the NDC crosswalk, read and checked in Python and
written into the audit database as text tables.

`check_reference_data` runs when a job starts: every problem the rules would otherwise
meet silently (an ESI code without its attributes, an evidence value set that does not
exist, a malformed crosswalk) is a ReferenceDataError with one line naming the file and
the problem; `user_supplied` says whether it is the configured crosswalk (exit 2) or
the shipped reference data (exit 1).
"""

from __future__ import annotations

import csv
import datetime as dt
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
# A crosswalk route lists one or more routes (FDA: "INTRAMUSCULAR; INTRAVENOUS").
ROUTE_SEPARATOR = "; "

ESI_VALUE_SET = "esi_cervical_thoracic"
ESI_REFERENCE = "ref_esi_codes"
LABELS_REFERENCE = "ref_value_set_labels"
# What each attribute of ref_esi_codes may hold ("" = empty); policy section 1 table.
ESI_KINDS = ("interlaminar", "transforaminal", "catheter")
ESI_GUIDANCE = ("built_in", "separate", "none", "ultrasound")
ESI_LEVEL_GROUPS = ("", "interlaminar", "transforaminal")
# The kinds of evidence the rules select from int_person_evidence (ref_value_set_labels).
EVIDENCE_KINDS = ("conservative_care", "imaging", "emg", "radiograph")


class ReferenceDataError(ValueError):
    """Reference data the rules cannot use; `user_supplied`: it is the configured crosswalk."""

    def __init__(self, message: str, *, user_supplied: bool = False) -> None:
        super().__init__(message)
        self.user_supplied = user_supplied


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
            "route": normalize_route(row["route"]),
        }
        if not clean["route"]:
            raise ValueError(f"{path}: line {line}: route is empty for ndc {ndc}")
        if ndc in by_ndc:
            if by_ndc[ndc] != clean:
                raise ValueError(
                    f"{path}: line {line}: ndc {ndc} is listed twice with different values"
                )
            continue
        by_ndc[ndc] = clean
        rows.append(clean)
    return rows


def normalize_route(route: str) -> str:
    """A crosswalk route as lower-case routes joined by '; ' ("Oral;SUBLINGUAL" ->
    "oral; sublingual"); a fill counts when any of them counts for its ingredient."""
    parts = (part.strip().lower() for part in route.split(";"))
    return ROUTE_SEPARATOR.join(part for part in parts if part)


def _reference_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    path = value_sets_dir() / f"{name}.csv"
    if not path.is_file():
        raise ValueError(f"{path}: the reference file is missing")
    return read_csv(path, ())[1]


def check_esi_codes(value_sets: list[dict[str, str]]) -> None:
    """Every code of esi_cervical_thoracic has a row in ref_esi_codes.csv with the
    attributes the rules need; raises ValueError naming the file, code and problem."""
    path = value_sets_dir() / f"{ESI_REFERENCE}.csv"
    codes = [r["code"] for r in value_sets if r["value_set"] == ESI_VALUE_SET]
    if not codes:
        raise ValueError(f"value set {ESI_VALUE_SET} is missing or empty")
    rows = {
        row.get("code", "").upper(): (line, row) for line, row in _reference_rows(ESI_REFERENCE)
    }
    for code in codes:
        if code not in rows:
            raise ValueError(f"{path}: code {code} of value set {ESI_VALUE_SET} has no row")
        line, row = rows[code]
        where = f"{path}: line {line}: code {code}"
        for column, allowed in (
            ("kind", ESI_KINDS),
            ("guidance", ESI_GUIDANCE),
            ("is_addon", ("true", "false")),
            ("level_group", ESI_LEVEL_GROUPS),
        ):
            value = row.get(column, "")
            if value not in allowed:
                shown = ", ".join(a or "(empty)" for a in allowed)
                raise ValueError(f"{where}: {column} {value!r} is not one of {shown}")
        primary = row.get("addon_primary_code", "")
        if (row["is_addon"] == "true") != bool(primary):
            raise ValueError(f"{where}: an add-on needs addon_primary_code, and only an add-on")
        if primary and primary not in codes:
            raise ValueError(f"{where}: addon_primary_code {primary} is not in {ESI_VALUE_SET}")
        for column in ("guidance_built_in_from", "bundles_guidance_from"):
            value = row.get(column, "")
            try:
                if value:
                    dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{where}: {column} {value!r} is not a YYYY-MM-DD date") from None


def check_evidence_labels(value_sets: list[dict[str, str]]) -> None:
    """Every row of ref_value_set_labels.csv names an existing value set, a label and a
    known evidence kind."""
    path = value_sets_dir() / f"{LABELS_REFERENCE}.csv"
    names = {r["value_set"] for r in value_sets}
    for line, row in _reference_rows(LABELS_REFERENCE):
        where = f"{path}: line {line}"
        if row.get("value_set") not in names:
            raise ValueError(f"{where}: value set {row.get('value_set')!r} does not exist")
        if not row.get("evidence_label"):
            raise ValueError(f"{where}: evidence_label is empty")
        if row.get("evidence_kind") not in EVIDENCE_KINDS:
            raise ValueError(
                f"{where}: evidence_kind {row.get('evidence_kind')!r} is not one of "
                f"{', '.join(EVIDENCE_KINDS)}"
            )


def check_reference_data(ndc_crosswalk: Path | None = None) -> None:
    """Check the reference data a run will use before the run does any work.

    Raises ReferenceDataError (one line: file and problem); `user_supplied` is true
    only for a problem in the configured crosswalk.
    """
    try:
        value_sets = read_value_sets()
        check_esi_codes(value_sets)
        check_evidence_labels(value_sets)
        value_set_versions()
        if ndc_crosswalk is None:
            read_ndc_crosswalk(value_sets_dir() / STARTER_CROSSWALK)
    except ValueError as exc:
        raise ReferenceDataError(str(exc)) from None
    if ndc_crosswalk is not None:
        try:
            read_ndc_crosswalk(Path(ndc_crosswalk))
        except ValueError as exc:
            raise ReferenceDataError(str(exc), user_supplied=True) from None


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
    """Tables value_sets, ref_* and ndc_crosswalk (a supplied crosswalk replaces the starter),
    after check_reference_data."""
    check_reference_data(ndc_crosswalk)
    _write_table(con, "value_sets", VALUE_SET_COLUMNS, read_value_sets())
    for path in reference_files():
        columns, rows = read_csv(path, ())
        _write_table(
            con, path.stem, columns, [{k: v or None for k, v in r.items()} for _, r in rows]
        )
    crosswalk = ndc_crosswalk or value_sets_dir() / STARTER_CROSSWALK
    _write_table(con, "ndc_crosswalk", CROSSWALK_COLUMNS, read_ndc_crosswalk(Path(crosswalk)))
