"""Small audit databases for the review tests: real DuckDB files with the tables the
sample reads (mart_esi_lines, findings, run_history), filled with chosen lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from jobs.audit.runner import FINDINGS_COLUMNS
from jobs.publish.journal import write_run_history

RUN_ID = "20261124T010000Z-aaaaaa"
MART_COLUMNS = """
    run_id varchar, data_source varchar, claim_id varchar, claim_line_number integer,
    person_id varchar, claim_type varchar, service_date date, hcpcs_code varchar,
    kind varchar, is_addon boolean, rendering_npi varchar, paid_amount decimal(18, 2),
    n_units double, exclusion_reason varchar, folded_into_line_number integer,
    audited_paid_amount decimal(38, 2), n_folded_addons bigint,
    is_exempt_postprocedural boolean, is_exempt_herpes_zoster boolean, diagnosis_list varchar
"""


@dataclass
class Line:
    claim_id: str
    paid: str | None  # audited_paid_amount
    statuses: tuple[str, ...] = ("fail",)  # one finding per status (rule ids in order)
    data_source: str | None = "plan a"
    line: int = 1
    exclusion_reason: str | None = None
    evidence: str = "evidence"


RULES = ("conservative_care", "myelopathy_review", "prior_imaging", "qualifying_dx")


def build(path: Path, lines: list[Line], run_id: str = RUN_ID) -> Path:
    """A claims-audit database at `path` whose latest successful run holds `lines`."""
    con = duckdb.connect(str(path))
    columns = ", ".join(f"{n} {t}" for n, t in FINDINGS_COLUMNS)
    con.execute(f"create table findings ({columns})")
    con.execute(f"create table mart_esi_lines ({MART_COLUMNS})")
    for x in lines:
        paid = None if x.paid is None else Decimal(x.paid)
        con.execute(
            "insert into mart_esi_lines (run_id, data_source, claim_id, claim_line_number, "
            "person_id, service_date, hcpcs_code, rendering_npi, paid_amount, "
            "exclusion_reason, audited_paid_amount) values "
            "(?, ?, ?, ?, ?, date '2026-01-05', '62321', '1234567893', ?, ?, ?)",
            [run_id, x.data_source, x.claim_id, x.line, "p-" + x.claim_id, paid,
             x.exclusion_reason, paid],
        )  # fmt: skip
        for rule, status in zip(RULES, x.statuses, strict=False):
            con.execute(
                "insert into findings values "
                "(?, ?, '1', ?, 'high', ?, ?, ?, ?, '1234567893', date '2026-01-05', '62321', "
                "?, ?)",
                [run_id, rule, status, x.data_source, x.claim_id, x.line, "p-" + x.claim_id,
                 paid, x.evidence],
            )  # fmt: skip
    write_run_history(con, path, {"run_id": run_id, "status": "succeeded", "exit_code": 0})
    con.close()
    return path


def spread(n: int, low: float, high: float, prefix: str = "c", **kw: object) -> list[Line]:
    """n flagged lines with paid amounts evenly from `low` to `high`."""
    step = (high - low) / max(1, n - 1)
    return [Line(f"{prefix}{i:04d}", f"{low + i * step:.2f}", **kw) for i in range(n)]
