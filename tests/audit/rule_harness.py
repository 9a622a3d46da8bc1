"""Given/expect helpers for the rule tests: in-memory DuckDB with the loaded tables.

Rows are inserted with only the columns a test cares about; `Audit` fills the rest
with defaults that make a line clean (qualifying diagnosis, professional claim,
positive amount), so each test changes one thing and asserts on `findings`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from jobs.audit.runner import run_audit
from jobs.ingest import schema

TUVA_SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "tuva-synthetic-10"
INJECTION_DAY = dt.date(2026, 6, 15)
# The one user-supplied crosswalk of the rule tests (the Spark parity test batches worlds
# by crosswalk, so every test that supplies one supplies this one): rows written the way
# users write them (case, several routes), NDCs that no real product uses.
SUPPLIED_CROSSWALK = """ndc,ingredient,drug_class,route
12345678901,Naproxen,nsaid,ORAL
10000000001,ibuprofen,nsaid,topical
10000000002,naproxen,nsaid,TOPICAL
10000000003,diclofenac,nsaid,Transdermal; Topical
10000000004,ibuprofen,nsaid,transdermal
10000000005,prednisone,corticosteroid,topical
10000000006,methylprednisolone,corticosteroid,intramuscular; oral
10000000007,dexamethasone,corticosteroid,intramuscular;intravenous
10000000008,gabapentin,gabapentinoid,oral;sublingual
10000000009,cyclobenzaprine,muscle_relaxant,oral solution
"""


def days_before(n: int, day: dt.date = INJECTION_DAY) -> dt.date:
    return day - dt.timedelta(days=n)


def supplied_crosswalk(folder: Path) -> Path:
    """SUPPLIED_CROSSWALK written into `folder`."""
    path = folder / "crosswalk.csv"
    path.write_text(SUPPLIED_CROSSWALK, encoding="utf-8")
    return path


def new_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for table in schema.TABLES.values():
        con.execute(schema.create_table_sql(table))
    return con


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> None:
    columns = ", ".join(row)
    placeholders = ", ".join(f"${c}" for c in row)
    con.execute(f"insert into {table} ({columns}) values ({placeholders})", row)


@dataclass
class Audit:
    """A tiny claims world: add lines, run the audit, read findings."""

    con: duckdb.DuckDBPyConnection = field(default_factory=new_connection)
    _claim_seq: int = 0

    def next_claim_id(self) -> str:
        self._claim_seq += 1
        return f"C{self._claim_seq:03d}"

    def line(
        self,
        hcpcs_code: str,
        *,
        claim_id: str | None = None,
        line: int = 1,
        person: str = "P1",
        day: dt.date = INJECTION_DAY,
        dx: tuple[str, ...] | str = ("M5412",),
        paid: float | None = 100.0,
        **columns: object,
    ) -> str:
        """One medical_claim line; returns its claim id. Extra columns pass through."""
        claim_id = claim_id or self.next_claim_id()
        diagnoses = (dx,) if isinstance(dx, str) else dx
        row: dict[str, object] = {
            "claim_id": claim_id,
            "claim_line_number": line,
            "person_id": person,
            "claim_type": "professional",
            "claim_start_date": day,
            "hcpcs_code": hcpcs_code,
            "rendering_npi": "1234567893",
            "paid_amount": paid,
            "data_source": "test",
            "source_file": "medical_claim.csv",
            "record_number": self._claim_seq * 100 + line,
            "run_id": "load",
        }
        for i, code in enumerate(diagnoses, start=1):
            row[f"diagnosis_code_{i}"] = code
        row.update(columns)
        row["service_date"] = row.get("claim_line_start_date") or row["claim_start_date"]
        _insert(self.con, "medical_claim", row)
        return claim_id

    def esi(self, hcpcs_code: str = "62321", **kwargs: object) -> str:
        return self.line(hcpcs_code, **kwargs)

    def care(
        self, days: int, code: str = "97110", *, before: dt.date = INJECTION_DAY, **kwargs: object
    ) -> str:
        """A conservative-care (or any other) line `days` before the day `before`."""
        return self.line(code, day=days_before(days, before), **kwargs)

    def imaging(
        self, days: int, code: str = "72141", *, before: dt.date = INJECTION_DAY, **kwargs: object
    ) -> str:
        return self.line(code, day=days_before(days, before), **kwargs)

    def clean_history(self, person: str = "P1", before: dt.date = INJECTION_DAY) -> None:
        """Evidence that passes conservative_care and prior_imaging for an injection on `before`."""
        self.care(60, person=person, before=before)
        self.imaging(100, person=person, before=before)

    def procedure(self, code: str | None, days: int, person: str = "P1", **columns: object) -> None:
        self._claim_seq += 1
        row = {
            "procedure_id": f"PR{self._claim_seq:03d}",
            "person_id": person,
            "procedure_date": days_before(days),
            "source_code": code,
            **columns,
        }
        _insert(self.con, "procedure", row)

    def fill(
        self, ndc: str, days: int, person: str = "P1", paid: float | None = 10.0, **columns: object
    ) -> str:
        """A pharmacy fill `days` before the injection day; returns its claim id. Extra
        columns pass through (claim_id, claim_line_number, prescribing_provider_npi, ...)."""
        self._claim_seq += 1
        row = {
            "claim_id": f"RX{self._claim_seq:03d}",
            "claim_line_number": 1,
            "person_id": person,
            "dispensing_date": days_before(days),
            "ndc_code": ndc,
            "paid_amount": paid,
            **columns,
        }
        _insert(self.con, "pharmacy_claim", row)
        return str(row["claim_id"])

    def enrolled(self, start: dt.date, end: dt.date | None, person: str = "P1") -> None:
        row = {"person_id": person, "enrollment_start_date": start, "enrollment_end_date": end}
        _insert(self.con, "eligibility", row)

    def run(
        self, *, eligibility_supplied: bool = False, ndc_crosswalk: Path | None = None, **params
    ):
        return run_audit(
            self.con,
            params,
            "run-test",
            eligibility_supplied=eligibility_supplied,
            ndc_crosswalk=ndc_crosswalk,
        )

    def findings(self, rule_id: str | None = None, **kwargs) -> set[tuple[str, int, str, str]]:
        """{(claim_id, claim_line_number, rule_id, status)} after a run (the hand-check key)."""
        self.run(**kwargs)
        rows = self.con.execute(
            "select claim_id, claim_line_number, rule_id, status from findings"
        ).fetchall()
        return {r for r in rows if rule_id is None or r[2] == rule_id}

    def rows(self, rule_id: str) -> list[dict]:
        """Full finding rows of one rule (after `run`/`findings`)."""
        cursor = self.con.execute("select * from findings where rule_id = $r", {"r": rule_id})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def policy_reversal_pairs(lines: list[dict]) -> dict[tuple[str, int], tuple[str, int]]:
    """Policy section 1 (1.1) read literally: {reversal (claim, line): the line it cancels}.

    `lines`: dicts with `group` (what must match: source, person, date, code, NPI, amount
    in cents), `claim`, `line` and `paid`. Per group, reversals in (claim, line) order each
    take a remaining original of their own claim (lowest line) if any, else the lowest
    remaining original (claim, line). A test oracle, never the product's code.
    """
    groups: dict[tuple, tuple[list, list]] = {}
    for x in lines:
        reversals, originals = groups.setdefault(x["group"], ([], []))
        (reversals if x["paid"] < 0 else originals).append((x["claim"], x["line"]))
    pairs: dict[tuple[str, int], tuple[str, int]] = {}
    for reversals, originals in groups.values():
        remaining = sorted(originals)
        for reversal in sorted(reversals):
            own = [o for o in remaining if o[0] == reversal[0]]
            if own or remaining:
                pick = own[0] if own else remaining[0]
                remaining.remove(pick)
                pairs[reversal] = pick
    return pairs


def load_tuva_sample(con: duckdb.DuckDBPyConnection, folder: Path = TUVA_SAMPLE) -> None:
    """Stand-in for the loader: read the Tuva CSVs into the loaded tables with the
    loader's normalization (trim, upper-case codes without dots, typed columns)."""
    for table_name in ("medical_claim", "pharmacy_claim", "eligibility"):
        table = schema.TABLES[table_name]
        path = folder / f"{table_name}.csv"
        con.execute(
            f"create or replace temp view raw_{table_name} as "
            f"select * from read_csv('{path}', all_varchar = true, header = true)"
        )
        present = {r[0] for r in con.execute(f"describe raw_{table_name}").fetchall()}
        expressions = []
        for name, sql_type in schema.loaded_columns(table):
            if name in ("source_file", "record_number", "run_id", "service_date"):
                continue
            if name not in present:
                expressions.append(f"cast(null as {sql_type}) as {name}")
                continue
            kind = table.column(name).kind
            value = f"nullif(trim({name}), '')"
            if kind in (schema.DX, schema.CODE, schema.HCPCS, schema.MODIFIER):
                value = f"replace(upper({value}), '.', '')"
            elif kind == schema.LOWER:
                value = f"lower({value})"
            elif kind == schema.REVENUE:
                value = f"lpad({value}, 4, '0')"
            expressions.append(f"cast({value} as {sql_type}) as {name}")
        select = ", ".join(expressions)
        extra = ""
        if table_name == "medical_claim":
            extra = (
                ", coalesce(cast(nullif(trim(claim_line_start_date), '') as date), "
                "cast(nullif(trim(claim_start_date), '') as date)) as service_date"
            )
        con.execute(
            f"insert into {table_name} select {select}{extra}, '{path.name}', "
            f"row_number() over (), 'tuva' from raw_{table_name}"
        )
