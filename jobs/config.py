"""The TOML configuration file: schema, defaults and validation.

Every section is optional::

    [columns.medical_claim]        # contract column = column name in the extract
    person_id = "patient_id"

    [parameters]                   # policy section 6
    conservative_min_days = 28

    [input.practitioner]           # per table: the CSV files' encoding (default UTF-8;
    encoding = "cp1252"            # [input.decisions] for the decisions file)

    [validation]
    max_rejected_share = 0.05      # more rejected rows than this share: exit 2
    max_volume_drop = 0.5          # rows read fell by more than this share: exit 2

    [reference]
    ndc_crosswalk = "ndc.csv"      # full NDC crosswalk (ndc,ingredient,drug_class,route)

    [report]
    member_ids = "hashed"          # "hashed" (default) or "raw" (internal use only)
    max_lines_per_provider = 200
    min_provider_lines = 10
    max_drilldown_lines = 10000    # flagged lines detailed in the report in all (file size)

    [review]
    decisions = "decisions.csv"    # the reviewers' decisions (also `run --decisions PATH`)

    [engine]
    memory_limit = "1.7GB"         # DuckDB memory limit; larger work spills to disk
    threads = 2
    temp_directory = "/var/tmp/claims-audit"

Relative paths are relative to the configuration file.
"""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.audit import params as params_module
from jobs.errors import InputError
from jobs.ingest.schema import DECISIONS, TABLES

MEMBER_ID_MODES = ("hashed", "raw")


@dataclass
class Config:
    path: Path | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    parameters: dict[str, int | bool] = field(default_factory=lambda: dict(params_module.DEFAULTS))
    max_rejected_share: float = 0.05
    max_volume_drop: float = 0.5
    encodings: dict[str, str] = field(default_factory=dict)
    ndc_crosswalk: Path | None = None
    member_ids: str = "hashed"
    max_lines_per_provider: int = 200
    min_provider_lines: int = 10
    max_drilldown_lines: int = 10_000
    memory_limit: str = "1.7GB"
    threads: int = 2
    temp_directory: Path | None = None
    decisions: Path | None = None

    def engine_settings(self, default_temp_directory: Path) -> dict[str, str | int]:
        """DuckDB connection settings of the [engine] section (spilling to
        `default_temp_directory` unless one is configured)."""
        return {
            "memory_limit": self.memory_limit,
            "threads": self.threads,
            "temp_directory": str(self.temp_directory or default_temp_directory),
        }

    def encoding(self, table: str) -> str:
        """The encoding of `table`'s CSV files (Python's codec name; default utf-8)."""
        return self.encodings.get(table, "utf-8")

    def source_column(self, table: str, column: str) -> str:
        """Name of a contract column in the extract (after renames)."""
        return self.columns.get(table, {}).get(column, column)


_SECTIONS = {
    "columns",
    "input",
    "parameters",
    "validation",
    "reference",
    "report",
    "review",
    "engine",
}


def load_config(path: Path | None) -> Config:
    """Read and validate a configuration file; `None` gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    where = f"config {path}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: invalid TOML: {exc}") from None
    return _from_dict(raw, path, where)


def _from_dict(raw: dict[str, Any], path: Path, where: str) -> Config:
    unknown = set(raw) - _SECTIONS
    if unknown:
        raise InputError(
            f"{where}: unknown section [{sorted(unknown)[0]}] "
            f"(known: {', '.join(sorted(_SECTIONS))})"
        )
    for name, value in raw.items():
        if not isinstance(value, dict):
            raise InputError(f"{where}: [{name}] must be a table of settings")
    cfg = Config(path=path)
    base = path.parent

    for table, renames in raw.get("columns", {}).items():
        if table not in TABLES:
            raise InputError(
                f"{where}: [columns.{table}] names no input table (tables: {', '.join(TABLES)})"
            )
        if not isinstance(renames, dict):
            raise InputError(f"{where}: [columns.{table}] must map contract columns to names")
        known = set(TABLES[table].column_names)
        for column, source in renames.items():
            if column not in known:
                raise InputError(
                    f"{where}: [columns.{table}] {column} is not a column of {table} "
                    f"(the key is the contract's name, the value the extract's)"
                )
            if not isinstance(source, str) or not source.strip():
                raise InputError(f"{where}: [columns.{table}] {column} must be a column name")
        cfg.columns[table] = {k: v.strip() for k, v in renames.items()}

    encoded = (*TABLES, DECISIONS.name)  # the decisions file is read like an extract
    for table in raw.get("input", {}):
        if table not in encoded:
            raise InputError(
                f"{where}: [input.{table}] names no input table (tables: {', '.join(encoded)})"
            )
        section = _section(raw["input"], table, {"encoding"}, where, f"input.{table}")
        if "encoding" in section:
            cfg.encodings[table] = _encoding(section["encoding"], where, f"[input.{table}]")

    try:
        cfg.parameters = params_module.resolve(raw.get("parameters"))
    except ValueError as exc:
        raise InputError(f"{where}: [parameters] {exc}") from None

    section = _section(raw, "validation", {"max_rejected_share", "max_volume_drop"}, where)
    for key in ("max_rejected_share", "max_volume_drop"):
        if key in section:
            share = section[key]
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise InputError(f"{where}: [validation] {key} must be between 0 and 1")
            setattr(cfg, key, float(share))

    section = _section(raw, "reference", {"ndc_crosswalk"}, where)
    if "ndc_crosswalk" in section:
        crosswalk = _path(section["ndc_crosswalk"], base, where, "[reference] ndc_crosswalk")
        if not crosswalk.is_file():
            raise InputError(f"{where}: [reference] ndc_crosswalk {crosswalk} does not exist")
        cfg.ndc_crosswalk = crosswalk

    keys = {"member_ids", "max_lines_per_provider", "min_provider_lines", "max_drilldown_lines"}
    section = _section(raw, "report", keys, where)
    if "member_ids" in section:
        if section["member_ids"] not in MEMBER_ID_MODES:
            raise InputError(f"{where}: [report] member_ids must be one of {MEMBER_ID_MODES}")
        cfg.member_ids = section["member_ids"]
    for key in ("max_lines_per_provider", "min_provider_lines", "max_drilldown_lines"):
        if key in section:
            setattr(cfg, key, _positive_int(section[key], where, f"[report] {key}"))

    section = _section(raw, "review", {"decisions"}, where)
    if "decisions" in section:
        # a missing file is reported when a run starts (exit 2), not here
        cfg.decisions = _path(section["decisions"], base, where, "[review] decisions")

    section = _section(raw, "engine", {"memory_limit", "threads", "temp_directory"}, where)
    if "memory_limit" in section:
        if not isinstance(section["memory_limit"], str):
            raise InputError(f'{where}: [engine] memory_limit must be a size such as "4GB"')
        cfg.memory_limit = section["memory_limit"]
    if "threads" in section:
        cfg.threads = _positive_int(section["threads"], where, "[engine] threads")
    if "temp_directory" in section:
        cfg.temp_directory = _path(
            section["temp_directory"], base, where, "[engine] temp_directory"
        )
    return cfg


def _section(
    raw: dict[str, Any], name: str, keys: set[str], where: str, title: str | None = None
) -> dict[str, Any]:
    section = raw.get(name, {})
    if not isinstance(section, dict):
        raise InputError(f"{where}: [{title or name}] must be a table of settings")
    unknown = set(section) - keys
    if unknown:
        raise InputError(
            f"{where}: [{title or name}] has unknown setting {sorted(unknown)[0]!r} "
            f"(known: {', '.join(sorted(keys))})"
        )
    return section


def _encoding(value: Any, where: str, what: str) -> str:
    """A text encoding Python knows, by its codec name (cp1252, latin-1 -> iso8859-1)."""
    try:
        if not isinstance(value, str):
            raise LookupError
        return codecs.lookup(value).name
    except LookupError:
        raise InputError(
            f'{where}: {what} encoding {value!r} is not a known text encoding (e.g. "cp1252")'
        ) from None


def _path(value: Any, base: Path, where: str, what: str) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: {what} must be a path")
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def _positive_int(value: Any, where: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{where}: {what} must be a positive integer")
    return value
