"""Time the medical_claim expectation suite on a synthetic stg_medical_claim.

    /tmp/venv/bin/python tests/validation/bench_gx_suite.py --rows 5000000 [--db PATH] [--keep]

Not collected by pytest (file name). Builds raw_medical_claim (text, as read; about
0.1 % bad values of every kind) in a DuckDB file and stages it as the loader does, then
times one `validate_table` run with the loader-style connection open, and the row counts
of every `unexpected_rows_sql`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.validation.helpers import create_stg_table, load_macros, stage  # noqa: E402


def synthesize(con, rows: int) -> None:
    create_stg_table(con, "medical_claim")
    # h(k): an independent pseudo-random integer in [0, 1e6) for stream k of row i.
    h = "(hash(i * 1000 + {k}) % 1000000)"
    bad = "(" + h + " < 1000)"  # 0.1 %
    cols = {
        "claim_id": f"case when {bad.format(k=1)} and i % 7 = 0 then null else 'C' || (i // 3) end",
        "claim_line_number": (
            f"case when {bad.format(k=2)} then 'x' else cast(i % 3 + 1 as varchar) end"
        ),
        "person_id": "'P' || (i // 20)",
        "claim_type": "'professional'",
        "claim_start_date": (
            f"case when {bad.format(k=3)} then '2023-02-30' "
            "else strftime(date '2018-01-01' + cast(i % 1800 as integer), '%Y-%m-%d') end"
        ),
        "claim_end_date": "strftime(date '2018-01-02' + cast(i % 1800 as integer), '%Y%m%d')",
        "claim_line_start_date": (
            "case when i % 2 = 0 then null "
            "else strftime(date '2018-01-01' + cast(i % 1800 as integer), '%m/%d/%Y') end"
        ),
        "claim_line_end_date": "null",
        "place_of_service_code": "'11'",
        "revenue_center_code": "null",
        "service_unit_quantity": "'1'",
        "hcpcs_code": (
            f"case when {bad.format(k=4)} then '6232' "
            "else (['62321', '99213', '72141', '0228T', 'J1030'])[i % 5 + 1] end"
        ),
        "hcpcs_modifier_1": "case when i % 4 = 0 then '25' end",
        "rendering_npi": (
            f"case when {bad.format(k=5)} then '1234567890' "
            "when i % 1000 = 1 then null else '1234567893' end"
        ),
        "billing_npi": "'1234567893'",
        "paid_amount": f"case when {bad.format(k=6)} then 'n/a' else cast(i % 500 as varchar) end",
        "allowed_amount": "cast(i % 500 + 10 as varchar)",
        "charge_amount": "cast(i % 500 + 100 as varchar)",
        "diagnosis_code_type": "'icd-10-cm'",
        "diagnosis_code_1": f"case when {bad.format(k=7)} then 'M54-12' else 'M54.12' end",
        "diagnosis_code_2": "case when i % 2 = 0 then 'M4802' end",
        "diagnosis_code_3": "case when i % 5 = 0 then 'G8929' end",
        "data_source": "'bench'",
    }
    names = ", ".join(cols)
    exprs = ", ".join(cols.values())
    con.execute(
        f"insert into raw_medical_claim ({names}, source_file, record_number) "
        f"select {exprs}, 'medical_claim.parquet', i from range(1, {rows} + 1) r(i)"
    )
    stage(con, "medical_claim")
    con.execute("checkpoint")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--keep", action="store_true", help="reuse an existing --db table")
    args = parser.parse_args()

    import duckdb

    tmp = None
    if args.db is None:
        tmp = tempfile.mkdtemp(prefix="gx-bench-")
        args.db = Path(tmp) / "bench.duckdb"
    con = duckdb.connect(str(args.db))
    from jobs.validation.suites import load_code_validity

    t0 = time.perf_counter()
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'stg_medical_claim'"
    ).fetchone()[0]
    if not (args.keep and exists):
        load_macros(con)
        load_code_validity(con)
        synthesize(con, args.rows)
    print(f"synthesized {args.rows:,} rows in {time.perf_counter() - t0:.1f} s ({args.db})")

    t0 = time.perf_counter()
    from jobs.validation import gx_duckdb

    gx_duckdb.apply_adjustments()
    print(f"import GX + adjustments: {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    outcomes = gx_duckdb.validate_table(con, "medical_claim")
    gx_s = time.perf_counter() - t0
    print(f"validate_table(medical_claim): {gx_s:.1f} s, {len(outcomes)} expectations")

    t0 = time.perf_counter()
    for o in outcomes:
        n = con.execute(f"select count(*) from ({o.unexpected_rows_sql})").fetchone()[0]
        assert n == o.unexpected_count, (o.reason, o.column, n, o.unexpected_count)
        if o.unexpected_count:
            print(f"  {o.level:8} {o.reason:26} {o.column or '':22} {o.unexpected_count:>8,}")
    print(f"counting every unexpected_rows_sql: {time.perf_counter() - t0:.1f} s")
    con.close()
    if tmp:
        os.remove(args.db)
        os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
