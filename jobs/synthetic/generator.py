"""Synthetic Tuva Input Layer extracts with planted violations (`claims-audit generate`).

Everything is generated inside DuckDB: each table streams out of `range()`
through hash-based pseudo-random columns (sql/generate/*.sql) into the file
(`COPY ... TO` for CSV, Arrow batches written by pyarrow for Parquet), so 100M
claim lines need no more memory than 1M, and the same seed gives the same bytes.

Two kinds of persons:
- general persons (~98%): ordinary claims of every kind (office visits, labs,
  imaging of other regions, lumbar ESIs, therapy, inpatient stays, ...), fills,
  EHR procedures, 1-3 enrollment spans. They never have a cervical/thoracic
  ESI, so they can produce no finding. They alone carry the planted invalid
  and warning-only rows.
- ESI persons: each lives one scenario of jobs/synthetic/scenarios/, whose
  stated findings are the answer key (`expected_findings.csv`).

Outputs in `out_dir`: medical_claim, pharmacy_claim, eligibility, procedure,
practitioner (`.parquet` with every column VARCHAR, or `.csv` with a header),
expected_findings.csv, expected_rejections.csv, expected_warnings.csv,
expected_scenarios.csv and README.md.
"""

from __future__ import annotations

import csv
import hashlib
import math
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jobs import __version__
from jobs.resources import sql_dir
from jobs.sqltext import lit, q
from jobs.synthetic import drugs
from jobs.synthetic.scenarios import Scenario, catalog, template_rows

# ------------------------------------------------------------ Tuva layouts
# Column order of real extracts (Tuva Input Layer, current layout).


def _n(prefix: str, k: int = 25) -> list[str]:
    return [f"{prefix}_{i}" for i in range(1, k + 1)]


LAYOUTS: dict[str, list[str]] = {
    "medical_claim": [
        "claim_id",
        "claim_line_number",
        "claim_type",
        "person_id",
        "member_id",
        "payer",
        "plan",
        "claim_start_date",
        "claim_end_date",
        "claim_line_start_date",
        "claim_line_end_date",
        "admission_date",
        "discharge_date",
        "admit_source_code",
        "admit_type_code",
        "discharge_disposition_code",
        "place_of_service_code",
        "bill_type_code",
        "drg_code_type",
        "drg_code",
        "revenue_center_code",
        "service_unit_quantity",
        "hcpcs_code",
        *_n("hcpcs_modifier", 5),
        "rendering_npi",
        "rendering_tin",
        "billing_npi",
        "billing_tin",
        "facility_npi",
        "paid_date",
        "paid_amount",
        "allowed_amount",
        "charge_amount",
        "coinsurance_amount",
        "copayment_amount",
        "deductible_amount",
        "total_cost_amount",
        "diagnosis_code_type",
        *_n("diagnosis_code"),
        *_n("diagnosis_poa"),
        "procedure_code_type",
        *_n("procedure_code"),
        *_n("procedure_date"),
        "in_network_flag",
        "data_source",
        "file_name",
        "file_date",
        "ingest_datetime",
    ],
    "pharmacy_claim": [
        "claim_id",
        "claim_line_number",
        "person_id",
        "member_id",
        "payer",
        "plan",
        "prescribing_provider_npi",
        "dispensing_provider_npi",
        "dispensing_date",
        "ndc_code",
        "quantity",
        "days_supply",
        "refills",
        "paid_date",
        "paid_amount",
        "allowed_amount",
        "charge_amount",
        "coinsurance_amount",
        "copayment_amount",
        "deductible_amount",
        "in_network_flag",
        "data_source",
        "file_name",
        "file_date",
        "ingest_datetime",
    ],
    "eligibility": [
        "person_id",
        "member_id",
        "subscriber_id",
        "gender",
        "race",
        "birth_date",
        "death_date",
        "death_flag",
        "enrollment_start_date",
        "enrollment_end_date",
        "payer",
        "payer_type",
        "plan",
        "original_reason_entitlement_code",
        "dual_status_code",
        "medicare_status_code",
        "group_id",
        "group_name",
        "name_suffix",
        "first_name",
        "middle_name",
        "last_name",
        "social_security_number",
        "subscriber_relation",
        "address",
        "city",
        "state",
        "zip_code",
        "phone",
        "email",
        "ethnicity",
        "data_source",
        "file_name",
        "file_date",
        "ingest_datetime",
        "enrollment_status",
        "hospice_flag",
        "institutional_snp_flag",
        "long_term_institutional_flag",
    ],
    "procedure": [
        "procedure_id",
        "person_id",
        "patient_id",
        "encounter_id",
        "claim_id",
        "procedure_date",
        "source_code_type",
        "source_code",
        "source_description",
        "normalized_code_type",
        "normalized_code",
        "normalized_description",
        *_n("modifier", 5),
        "practitioner_id",
        "data_source",
        "file_name",
        "ingest_datetime",
    ],
    "practitioner": [
        "practitioner_id",
        "npi",
        "first_name",
        "last_name",
        "practice_affiliation",
        "specialty",
        "sub_specialty",
        "data_source",
        "file_name",
        "ingest_datetime",
    ],
}

# ------------------------------------------------------------ sizes
SPANS_PER_PERSON = 1.65  # mean of gen_n_spans: 1 (50%), 2 (35%), 3 (15%)
ELIGIBILITY_SHARE = 0.04  # enrollment spans per medical line
PHARMACY_SHARE = 0.20  # pharmacy lines per medical line
PROCEDURE_SHARE = 0.03  # EHR procedures per medical line
ESI_PERSON_SHARE = 0.02  # ESI persons per general person
ESI_LINE_BUDGET = 0.5  # at most this share of the medical lines belong to ESI persons
ESI_PRACTITIONERS = 40  # the injectors' index range (gen_prac_start in macros.sql)


@dataclass(frozen=True)
class Profile:
    """Who bills the ESIs. The default is `generate`'s population (same seed, same bytes);
    the demo's (DEMO_PROFILE) has more ESI persons and fewer injectors, so that every
    injector reaches the report's peer comparison, and one outlier among them."""

    esi_person_share: float = ESI_PERSON_SHARE  # ESI persons per general person
    n_esi_practitioners: int = ESI_PRACTITIONERS  # injectors who bill ESIs
    outlier_pct: int = 0  # % of persons with a planted `fail` whom injector 0 treats


DEFAULT_PROFILE = Profile()

# Labelers for NDCs outside the crosswalk (those jobs.synthetic.drugs uses are dropped).
FILLER_LABELERS = [
    "00093",
    "00378",
    "00781",
    "68180",
    "16729",
    "00172",
    "00228",
    "29300",
    "43547",
    "50090",
    "49999",
    "00071",
    "00310",
    "00006",
    "00173",
    "00169",
    "59762",
    "60505",
    "68382",
    "70010",
    "72205",
    "76282",
    "51079",
    "31722",
    "65862",
]
MEMORY_LIMIT = "4GB"
PARQUET_BATCH_ROWS = 122_880  # rows per Arrow batch = per Parquet row group

MACRO_FILES = ("macros.sql", "catalog.sql")  # sql/generate, in this order
TABLE_FILES = ("medical_claim.sql", "pharmacy_claim.sql", "eligibility.sql", "procedure.sql",
               "practitioner.sql")  # fmt: skip


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    paths: dict[str, Path]  # table or output name -> file written
    row_counts: dict[str, int]  # table -> rows written
    n_expected_findings: int
    n_expected_rejections: int
    n_esi_persons: int
    seed: int


def generate(
    out_dir: Path,
    lines: int,
    seed: int = 0,
    fmt: str = "parquet",
    progress: Callable[[str], None] | None = None,
    profile: Profile = DEFAULT_PROFILE,
) -> GenerateResult:
    """Write a synthetic data set of exactly `lines` medical claim lines to `out_dir`."""
    check_arguments(lines, fmt, profile)
    say = progress or (lambda _message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with session(lines, seed, out_dir / ".generate-tmp", profile) as con:
        result = write_data_set(con, out_dir, lines, seed, fmt, say)
    say(f"done in {time.monotonic() - started:.1f} s")
    return result


def check_arguments(lines: int, fmt: str, profile: Profile = DEFAULT_PROFILE) -> None:
    if lines < 1:
        raise ValueError("lines must be at least 1")
    if not 1 <= profile.n_esi_practitioners <= ESI_PRACTITIONERS:
        raise ValueError(f"n_esi_practitioners must be 1..{ESI_PRACTITIONERS}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, not {fmt!r}")


@contextmanager
def session(
    lines: int, seed: int, tmp: Path, profile: Profile = DEFAULT_PROFILE
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection holding a data set of `lines` medical lines (who bills the ESIs:
    `profile`), ready to be written: the macros, the seed and sizes, the scenario
    templates, the ESI persons and their canonical rows, and the table views
    (``gen_<table>_out``)."""
    scenarios = catalog()
    n_persons = max(1, round(lines * ELIGIBILITY_SHARE / SPANS_PER_PERSON))
    con = duckdb.connect()
    try:
        con.execute(f"set memory_limit = {lit(MEMORY_LIMIT)}")
        con.execute(f"set temp_directory = {lit(str(tmp))}")
        con.execute("set preserve_insertion_order = true")
        con.execute("set enable_progress_bar = false")
        _set(
            con,
            gen_seed_key=_seed_key(seed),
            gen_n_persons=n_persons,
            gen_n_prac=160 + max(40, n_persons // 20),
            gen_n_esi_prac=profile.n_esi_practitioners,
        )
        _crosswalk_variables(con)
        for name in MACRO_FILES:
            con.execute(_sql(name))
        _register_templates(con, scenarios)
        _set(
            con,
            gen_esi_first=0,
            gen_esi_target=max(math.ceil(n_persons * profile.esi_person_share), len(scenarios)),
            gen_esi_budget=int(lines * ESI_LINE_BUDGET),
            gen_outlier_pct=profile.outlier_pct,
        )
        con.execute(_sql("esi_persons.sql"))
        n_scn_lines = _count(con, "gen_scn_medical")
        n_scn_fills = _count(con, "gen_scn_pharmacy")
        _set(
            con,
            gen_n_scn_lines=n_scn_lines,
            gen_n_filler=lines - n_scn_lines,
            gen_n_scn_fills=n_scn_fills,
            gen_n_rx_filler=max(0, round(lines * PHARMACY_SHARE) - n_scn_fills),
            gen_n_proc_filler=round(lines * PROCEDURE_SHARE),
        )
        _index_views(con, defects_only=False)
        for name in TABLE_FILES:
            con.execute(_sql(name))
        yield con
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def write_data_set(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    lines: int,
    seed: int,
    fmt: str,
    say: Callable[[str], None],
) -> GenerateResult:
    """Write the session's tables, answer keys and README to `out_dir`."""
    scenarios = catalog()
    paths: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for table in LAYOUTS:
        path = out_dir / f"{table}.{fmt}"
        stale = path.with_suffix(".csv" if fmt == "parquet" else ".parquet")
        if stale.is_file():  # a second extract of one table would confuse a reader
            say(f"removing {stale.name} of an earlier run")
            stale.unlink()
        say(f"writing {path.name} ...")
        counts[table] = copy_table(con, table, path, fmt)
        paths[table] = path
    say("writing the answer key ...")
    paths["expected_findings"] = out_dir / "expected_findings.csv"
    n_findings = write_csv(con, "select * from gen_expected_findings", paths["expected_findings"])
    _index_views(con, defects_only=True)
    paths["expected_rejections"] = out_dir / "expected_rejections.csv"
    n_rejections = write_csv(con, _planted_sql("defect", "reason"), paths["expected_rejections"])
    paths["expected_warnings"] = out_dir / "expected_warnings.csv"
    write_csv(con, _planted_sql("warning", "warning"), paths["expected_warnings"])
    _index_views(con, defects_only=False)
    paths["expected_scenarios"] = out_dir / "expected_scenarios.csv"
    per_scenario = write_scenarios(con, scenarios, paths["expected_scenarios"])
    n_esi = sum(per_scenario.values())
    if counts["medical_claim"] != lines:  # the filler pads to the exact count
        raise RuntimeError(f"wrote {counts['medical_claim']} medical lines, not {lines}")
    paths["readme"] = out_dir / "README.md"
    paths["readme"].write_text(
        _readme(lines, seed, fmt, counts, n_findings, n_rejections, scenarios, per_scenario)
    )
    return GenerateResult(out_dir, paths, counts, n_findings, n_rejections, n_esi, seed)


# ------------------------------------------------------------ helpers


def _seed_key(seed: int) -> int:
    """The seed as a 48-bit number folded into every hash (see gen_rnd)."""
    digest = hashlib.sha256(f"claims-audit-generate:{seed}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def _sql(name: str) -> str:
    return (sql_dir() / "generate" / name).read_text()


def _set(con: duckdb.DuckDBPyConnection, **values: object) -> None:
    for name, value in values.items():
        con.execute(f"set variable {name} = ?", [value])


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def _crosswalk_variables(con: duckdb.DuckDBPyConnection) -> None:
    """NDC lists of the generator's own drug facts (jobs.synthetic.drugs, not the product's
    crosswalk): oral and topical conservative-care drugs, injected ones, all; and labelers
    they do not use, for NDCs outside them."""
    lists = drugs.planted_lists()
    _set(
        con,
        gen_ndc_oral=lists["oral"],
        gen_ndc_topical=lists["topical"],
        gen_ndc_injectable=lists["injectable"],
        gen_ndc_all=lists["all"],
        gen_labelers=[x for x in FILLER_LABELERS if x not in set(lists["labelers"])],
    )


def _register_templates(con: duckdb.DuckDBPyConnection, scenarios: list[Scenario]) -> None:
    """The catalog as tables tpl_<name> (one row per scenario, claim, line, ...).

    Rows travel as one list-of-structs parameter; DuckDB infers the column types
    (day offsets INTEGER, code options VARCHAR[], diagnosis slots VARCHAR[][]).
    """
    for name, rows in template_rows(scenarios).items():
        con.execute(
            f"create or replace temp table tpl_{name} as select unnest(?, recursive := true)",
            [rows],
        )
    if con.execute("select max(claim_key) from tpl_claim").fetchall()[0][0] >= 64:
        raise ValueError("a scenario has 64 claims or more; claim ids assume fewer")


def _index_views(con: duckdb.DuckDBPyConnection, defects_only: bool) -> None:
    """Which filler rows the table views build: all, or only planted-defect rows."""
    if not defects_only:
        con.execute(
            "create or replace temp view gen_filler_index as "
            "select range as i from range(getvariable('gen_n_filler'))"
        )
        con.execute(
            "create or replace temp view gen_proc_index as "
            "select range as r from range(getvariable('gen_n_proc_filler'))"
        )
        con.execute(
            "create or replace temp view gen_rx_index as "
            "select range as i from range(getvariable('gen_n_rx_filler'))"
        )
        return
    for view, limit in (("gen_filler_index", "gen_n_filler"), ("gen_rx_index", "gen_n_rx_filler")):
        con.execute(
            f"""
            create or replace temp view {view} as
            select i from (
                select s * gen_stride() + unnest(gen_planted_positions()) as i
                from range(getvariable('{limit}') // gen_stride() + 1) as t (s)
            )
            where i < getvariable('{limit}')
            """
        )


def _filled_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Layout columns the generator fills (the others are written empty)."""
    return {r[0] for r in con.execute(f"describe gen_{table}_out").fetchall()}


def copy_table(con: duckdb.DuckDBPyConnection, table: str, path: Path, fmt: str) -> int:
    """Write one table in layout order under a temporary name; rows written."""
    have = _filled_columns(con, table)
    part = path.with_name(path.name + ".part")
    if fmt == "parquet":
        n = _write_parquet(con, table, have, part)
    else:
        cols = [q(c) if c in have else f"cast(null as varchar) as {q(c)}" for c in LAYOUTS[table]]
        query = f"select {', '.join(cols)} from gen_{table}_out"
        result = con.execute(f"copy ({query}) to {lit(str(part))} (format csv, header true)")
        n = result.fetchall()[0][0]
    part.replace(path)
    return n


def _write_parquet(con: duckdb.DuckDBPyConnection, table: str, have: set[str], path: Path) -> int:
    """Stream the filled columns out of DuckDB as Arrow batches and write them with
    pyarrow, adding the empty columns as all-null arrays: the same bytes every time,
    and about half the CPU of DuckDB's own writer, which encodes every NULL of the
    ~100 empty Tuva columns one by one."""
    schema = pa.schema([(c, pa.string()) for c in LAYOUTS[table]])
    filled = [c for c in LAYOUTS[table] if c in have]
    query = f"select {', '.join(q(c) for c in filled)} from gen_{table}_out"
    n = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in con.sql(query).to_arrow_reader(PARQUET_BATCH_ROWS):
            columns = [
                batch.column(c).cast(pa.string())
                if c in have
                else pa.nulls(batch.num_rows, pa.string())
                for c in LAYOUTS[table]
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
            n += batch.num_rows
    return n


def _planted_sql(column: str, alias: str) -> str:
    """Planted rejection/warning rows of medical and pharmacy claims, in file order."""
    return f"""
        select * from (
            select 'medical_claim' as "table", claim_id, claim_line_number, {column} as {alias},
                   rec + 1 as record_number
            from gen_medical_claim_out where {column} is not null
            union all
            select 'pharmacy_claim', claim_id, claim_line_number, {column}, rec + 1
            from gen_pharmacy_claim_out where {column} is not null
        )
        order by "table", record_number
    """


def write_csv(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    part = path.with_name(path.name + ".part")
    result = con.execute(f"copy ({query}) to {lit(str(part))} (format csv, header true)")
    part.replace(path)
    return result.fetchall()[0][0]


def write_scenarios(
    con: duckdb.DuckDBPyConnection, scenarios: list[Scenario], path: Path
) -> dict[str, int]:
    """expected_scenarios.csv: which person lives which scenario (for debugging)."""
    rows = con.execute(
        """
        select gen_person_id(p.q), s.name, cast(p.anchor as varchar), s.n_findings,
               s.description, s.clause
        from gen_esi_person as p join tpl_scenario as s using (scenario)
        order by p.e
        """
    ).fetchall()
    part = path.with_name(path.name + ".part")
    with part.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "person_id",
                "scenario",
                "anchor_date",
                "n_expected_findings",
                "description",
                "policy_clause",
            ]
        )
        w.writerows(rows)
    part.replace(path)
    per: dict[str, int] = {sc.name: 0 for sc in scenarios}
    for row in rows:
        per[row[1]] += 1
    return per


def _readme(
    lines: int,
    seed: int,
    fmt: str,
    counts: dict[str, int],
    n_findings: int,
    n_rejections: int,
    scenarios: list[Scenario],
    per_scenario: dict[str, int],
) -> str:
    table_rows = "\n".join(f"| `{t}.{fmt}` | {counts[t]:,} |" for t in LAYOUTS)
    covered = sum(1 for n in per_scenario.values() if n)
    scen_rows = "\n".join(
        f"| `{sc.name}` | {per_scenario[sc.name]:,} | {sc.description} | {sc.clause} |"
        for sc in scenarios
    )
    return f"""# Synthetic claims-audit data set

**Synthetic data.** Every person, provider, claim and identifier here is made up
by `claims-audit generate` (version {__version__}); names, SSN-like values
(never-issued 9xx area), 555-01xx phone numbers and example.com addresses are
fake. Nothing describes a real person.

- medical claim lines: {lines:,}; seed: {seed}; format: {fmt}. The same seed and
  size give the same bytes, whenever and wherever they are generated.
- layout: Tuva Input Layer (current), every column as text, messy the way real
  extracts are (dates in three formats, codes with dots, lower case, padding,
  dashed NDCs, `diagnosis_code_type` sometimes `icd-10-pcs`)

| file | rows |
|---|---|
{table_rows}

## Answer key

- `expected_findings.csv` ({n_findings:,} rows): `claim_id, claim_line_number,
  rule_id, status` the audit must report with default parameters, and nothing
  else. Written from the scenario catalog (`jobs/synthetic/scenarios/`), not by
  running the rules.
- `expected_rejections.csv` ({n_rejections:,} rows): the planted invalid rows
  (`table, claim_id, claim_line_number, reason, record_number`; record_number is
  the 1-based position among the file's data records). A duplicated key lists
  both copies. Rows with a missing key part show it empty.
- `expected_warnings.csv`: planted warning-only rows (kept by the audit).
  Other warnings can arise too: codes not valid on their date (62310/62318
  after 2016, 62321 on 2016-12-31 in one boundary scenario), reversal lines.
- The key assumes the shipped NDC crosswalk (`ndc_crosswalk_starter.csv`) knows
  the planted drugs as the generator does (`jobs/synthetic/drugs.py`): fills meant
  to be outside it use labelers it does not list, which a fuller crosswalk could
  still know.
- `expected_scenarios.csv`: which person lives which scenario.

## Scenarios ({covered} of {len(scenarios)} present)

| scenario | persons | planted | policy |
|---|---:|---|---|
{scen_rows}
"""
