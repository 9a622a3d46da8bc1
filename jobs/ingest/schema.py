"""The input contract as data: tables, columns, and what kind of value each holds.

This module is the single description of the Tuva Input Layer subset the audit
reads (see the contract's "Input" section). The loader, the validator and the
generator all derive their work from it, so a column is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds decide normalization (staging) and validation (expectations).
ID = "id"  # identifier: trimmed string, leading zeros kept
TEXT = "text"  # free text / category: trimmed string
LOWER = "lower"  # category compared case-insensitively: trimmed, lower-case
DATE = "date"  # YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY -> DATE
HCPCS = "hcpcs"  # HCPCS/CPT code: trimmed, upper-case, 5 characters
MODIFIER = "modifier"  # HCPCS modifier: trimmed, upper-case, 2 characters
DX = "dx"  # ICD-10-CM code: trimmed, upper-case, dots removed
CODE = "code"  # other code (procedure source code, revenue code): trimmed, upper, no dots
REVENUE = "revenue"  # revenue center code: 4 digits (a 3-digit code gets its leading zero)
NPI = "npi"  # 10 digits with a Luhn check digit
NDC = "ndc"  # 11 digits after normalization
AMOUNT = "amount"  # money -> DECIMAL(18, 6): exact to the millionth of a dollar
NUMBER = "number"  # quantity -> DOUBLE
INTEGER = "integer"  # line number -> INTEGER


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False

    @property
    def converted(self) -> bool:
        """Staged typed, converted from text (CONVERTED_KINDS)."""
        return self.kind in CONVERTED_KINDS


@dataclass(frozen=True)
class Table:
    name: str
    needed: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Columns of which at least one must be present (procedure/condition codes).
    one_of: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _cols(spec: str, kind: str, required: bool = False) -> list[Column]:
    return [Column(n, kind, required) for n in spec.split()]


DIAGNOSIS_COLUMNS = [f"diagnosis_code_{i}" for i in range(1, 26)]
MODIFIER_COLUMNS = [f"hcpcs_modifier_{i}" for i in range(1, 6)]

MEDICAL_CLAIM = Table(
    "medical_claim",
    needed=True,
    key=("claim_id", "claim_line_number", "data_source"),
    columns=tuple(
        _cols("claim_id", ID, True)
        + _cols("claim_line_number", INTEGER, True)
        + _cols("person_id", ID, True)
        + _cols("claim_type", LOWER)
        + _cols("claim_start_date", DATE, True)
        + _cols("claim_end_date claim_line_start_date claim_line_end_date", DATE)
        + _cols("place_of_service_code bill_type_code", CODE)
        + _cols("revenue_center_code", REVENUE)
        + _cols("service_unit_quantity", NUMBER)
        + _cols("hcpcs_code", HCPCS, True)
        + [Column(c, MODIFIER) for c in MODIFIER_COLUMNS]
        + _cols("rendering_npi", NPI, True)
        + _cols("billing_npi facility_npi", NPI)
        + _cols("paid_amount allowed_amount charge_amount", AMOUNT)
        + _cols("diagnosis_code_type", LOWER)
        + [Column("diagnosis_code_1", DX, True)]
        + [Column(c, DX) for c in DIAGNOSIS_COLUMNS[1:]]
        + _cols("data_source", TEXT)
    ),
)

PHARMACY_CLAIM = Table(
    "pharmacy_claim",
    needed=False,
    key=("claim_id", "claim_line_number", "data_source"),
    columns=tuple(
        _cols("claim_id", ID, True)
        + _cols("claim_line_number", INTEGER, True)
        + _cols("person_id", ID, True)
        + _cols("dispensing_date", DATE, True)
        + _cols("ndc_code", NDC, True)
        + _cols("days_supply quantity", NUMBER)
        + _cols("prescribing_provider_npi", NPI)
        + _cols("paid_amount", AMOUNT)
        + _cols("data_source", TEXT)
    ),
)

ELIGIBILITY = Table(
    "eligibility",
    needed=False,
    key=("person_id",),
    columns=tuple(
        _cols("person_id", ID, True)
        + _cols("enrollment_start_date", DATE, True)
        + _cols("enrollment_end_date", DATE)
        + _cols("payer plan", TEXT)
    ),
)

PROCEDURE = Table(
    "procedure",
    needed=False,
    key=("procedure_id",),
    one_of=("source_code", "normalized_code"),
    columns=tuple(
        _cols("procedure_id", ID, True)
        + _cols("person_id", ID, True)
        + _cols("procedure_date", DATE, True)
        + _cols("source_code normalized_code", CODE)
        + _cols("encounter_id", ID)
        + _cols("source_code_type normalized_code_type", LOWER)
        + _cols("modifier_1 modifier_2 modifier_3 modifier_4 modifier_5", MODIFIER)
        + _cols("practitioner_id", ID)
    ),
)

ENCOUNTER = Table(
    "encounter",
    needed=False,
    key=("encounter_id",),
    columns=tuple(
        _cols("encounter_id", ID, True)
        + _cols("person_id", ID, True)
        + _cols("encounter_start_date", DATE, True)
        + _cols("encounter_type", LOWER)
        + _cols("encounter_end_date", DATE)
        + _cols("attending_provider_id", ID)
        + _cols("primary_diagnosis_code", DX)
    ),
)

CONDITION = Table(
    "condition",
    needed=False,
    key=("condition_id",),
    one_of=("source_code", "normalized_code"),
    columns=tuple(
        _cols("condition_id", ID, True)
        + _cols("person_id", ID, True)
        + _cols("recorded_date", DATE, True)
        + _cols("source_code normalized_code", DX)
        + _cols("encounter_id", ID)
        + _cols("source_code_type normalized_code_type", LOWER)
    ),
)

PRACTITIONER = Table(
    "practitioner",
    needed=False,
    key=("npi",),
    columns=tuple(
        _cols("npi", NPI, True)
        + _cols("practitioner_id", ID)
        + _cols("first_name last_name practice_affiliation specialty", TEXT)
    ),
)

# The reviewers' decisions file (contract: "Findings across nights", Decisions): not an
# extract, but read, staged and validated the same way (`run --decisions`).
DECISIONS = Table(
    "decisions",
    needed=False,
    key=("finding_id", "decided_on"),
    columns=tuple(
        _cols("finding_id", ID, True)
        + _cols("decision", LOWER, True)
        + _cols("reviewer", TEXT, True)
        + _cols("decided_on", DATE, True)
        + _cols("expires_on", DATE)
        + _cols("recovered_amount", AMOUNT)
        + _cols("note", TEXT)
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MEDICAL_CLAIM,
        PHARMACY_CLAIM,
        ELIGIBILITY,
        PROCEDURE,
        ENCOUNTER,
        CONDITION,
        PRACTITIONER,
    )
}


# What converts: a text value that does not match its kind's pattern (or does not
# fit the type) is unconvertible, and validation rejects the row.
# A positive whole number that fits an INTEGER; "3.0" (a float export) is accepted.
LINE_NUMBER_REGEX = "^0*[1-9][0-9]{0,8}([.]0*)?$"
# Money that fits DECIMAL(18, 6): optional sign, up to 12 integer digits, any decimals.
AMOUNT_REGEX = "^[+-]?([0-9]{1,12}([.][0-9]*)?|[.][0-9]+)$"
# An amount with a non-zero digit after the cents (150.129): kept exact, as the contract
# says, and warned (amount_sub_cent). The loaded type keeps six decimals, so an amount
# with more than six (no claims system pays in them) is the one case rounded: to the
# millionth of a dollar, half away from zero, both engines. For regexp_full_match.
SUB_CENT_REGEX = "[+-]?[0-9]*[.][0-9]{2}0*[1-9][0-9]*"
# A plain decimal number, optionally with an exponent (fits DOUBLE).
NUMBER_REGEX = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$"

# Kinds the loader converts from text (the rest stay text).
CONVERTED_KINDS = (DATE, AMOUNT, NUMBER, INTEGER)
# The staged table keeps a converted column's text in `<column>__invalid` when,
# and only when, it is present but does not convert (validation rejects those rows)
# or, for an amount, has more than two decimals (validation warns: amount_sub_cent).
INVALID_SUFFIX = "__invalid"


def invalid_column(name: str) -> str:
    """The staged column holding `name`'s text when it is present but does not convert."""
    return name + INVALID_SUFFIX


# Lineage columns stamped on every loaded row.
LINEAGE_COLUMNS = (
    ("source_file", "VARCHAR"),
    ("record_number", "BIGINT"),
    ("run_id", "VARCHAR"),
)

SQL_TYPES = {
    DATE: "DATE",
    AMOUNT: "DECIMAL(18, 6)",
    NUMBER: "DOUBLE",
    INTEGER: "INTEGER",
}


def sql_type(column: Column) -> str:
    """DuckDB type of a loaded (accepted) column."""
    return SQL_TYPES.get(column.kind, "VARCHAR")


def loaded_columns(table: Table) -> list[tuple[str, str]]:
    """(name, type) of the loaded table: contract columns, derived columns, lineage."""
    cols = [(c.name, sql_type(c)) for c in table.columns]
    if table.name == "medical_claim":
        # The policy's service date: claim_line_start_date, else claim_start_date.
        cols.append(("service_date", "DATE"))
    return cols + list(LINEAGE_COLUMNS)


def create_table_sql(table: Table, name: str | None = None) -> str:
    """CREATE TABLE statement for the loaded form of `table` (used for empty tables and tests)."""
    body = ",\n    ".join(f"{n} {t}" for n, t in loaded_columns(table))
    return f"create table {name or table.name} (\n    {body}\n)"
