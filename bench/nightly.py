"""Nightly extracts from one generated data set: a history, then one new file per table a night.

Until `claims-audit generate --nights K` exists, the benchmark's nightly increment and
the reuse tests (tests/test_nightly.py) build their nights from a data set of
`claims-audit generate` by splitting it by load date:

* each row's load date is its own date (the claim's start date, the fill's, the
  enrollment span's start, the procedure's); the latest `share` of the rows (by that
  date) arrive on the nights 1..K, `share` each, the rest is the history;
* ``OUT/night-0/<table>/<table>-<YYYY-MM>.parquet``: the history, one file per month
  (rows without a date that converts in ``<table>-undated.parquet``; practitioner whole),
  or with ``--one-history-file`` one ``<table>-history.parquet`` (what the bench uses);
* ``OUT/night-K/<table>/``: the files of night K-1 (hard links: the same files) and
  ``<table>-night-K.parquet``, the night's new rows.

The last night holds every row of the data set, so its findings are the generator's
answer key (copied as ``expected_findings.csv`` into the last night only).

    python bench/nightly.py DATA_DIR OUT_DIR [--nights 1] [--share 0.003]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jobs.ingest.load import install_macros  # noqa: E402

# The date that says when a row was loaded (None: the table arrives whole with the history).
LOAD_DATES = {
    "medical_claim": "claim_start_date",
    "pharmacy_claim": "dispensing_date",
    "eligibility": "enrollment_start_date",
    "procedure": "procedure_date",
    "practitioner": None,
}


def split(
    data: Path, out: Path, nights: int = 1, share: float = 0.003, by_month: bool = True
) -> list[Path]:
    """Write OUT/night-0 ... OUT/night-<nights> from the data set in `data`; returns the
    night folders.

    by_month=False writes the history as one file per table (``<table>-history.parquet``),
    each file one streaming COPY: the month split is a PARTITION_BY that keeps a row
    group of every open month in memory, which at 100M full-width lines spilled more
    than 30 GB of temporary files on the benchmark machine. The bench uses it; the
    nightly cost is the same (the history is reused either way)."""
    if out.exists():
        raise SystemExit(f"{out} exists; remove it first")
    folders = [out / f"night-{k}" for k in range(nights + 1)]
    con = duckdb.connect(config={"threads": os.cpu_count() or 2, "memory_limit": "2GB"})
    install_macros(con)
    for table, date in LOAD_DATES.items():
        source = data / f"{table}.parquet"
        if not source.exists():
            continue
        for folder in folders:
            (folder / table).mkdir(parents=True)
        _write_table(con, source, table, date, folders, out, share, by_month)
        for k in range(nights):
            _link_forward(folders, table, k)
    expected = data / "expected_findings.csv"
    if expected.exists():
        shutil.copy2(expected, folders[-1] / expected.name)
    return folders


def _write_table(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    table: str,
    date: str | None,
    folders: list[Path],
    out: Path,
    share: float,
    by_month: bool,
) -> None:
    """Write `table`'s own files of each night: the history into night-0, each night's
    new rows into its folder (the shared files are linked forward afterwards)."""
    if date is None:
        shutil.copy2(source, folders[0] / table / f"{table}.parquet")
        return
    nights = len(folders) - 1
    day = f"ca_parse_date(nullif(trim({date}), ''))"
    cutoffs = con.execute(
        f"select quantile_disc({day}, $q) from read_parquet($p)",
        {"q": [1 - share * k for k in range(nights, 0, -1)], "p": str(source)},
    ).fetchone()[0]
    night = " ".join(
        f"when {day} >= date '{cut}' then 'night-{k}'"
        for k, cut in sorted(enumerate(cutoffs, start=1), key=lambda kc: kc[1], reverse=True)
    )
    if not by_month:
        for k in range(nights + 1):
            name = f"night-{k}" if k else "history"
            target = folders[k] / table / f"{table}-{name}.parquet"
            con.execute(
                f"copy (select * from read_parquet($p) "
                f"where (case {night} else 'history' end) = '{name}') "
                f"to '{target}' (format parquet)",
                {"p": str(source)},
            )
        return
    bucket = f"case {night} when {day} is null then 'undated' else strftime({day}, '%Y-%m') end"
    parts = out / f".parts-{table}"
    con.execute(
        f"copy (select *, {bucket} as _ca_bucket from read_parquet($p)) to '{parts}' "
        "(format parquet, partition_by (_ca_bucket))",
        {"p": str(source)},
    )
    for part in sorted(parts.iterdir()):
        name = part.name.split("=", 1)[1]
        k = int(name.split("-")[1]) if name.startswith("night-") else 0
        for i, piece in enumerate(sorted(part.glob("*.parquet"))):
            suffix = f"-{i}" if i else ""
            piece.rename(folders[k] / table / f"{table}-{name}{suffix}.parquet")
    shutil.rmtree(parts)


def _link_forward(folders: list[Path], table: str, k: int) -> None:
    """Night k+1 shares night k's files (hard links)."""
    if k + 1 >= len(folders):
        return
    for path in sorted((folders[k] / table).iterdir()):
        os.link(path, folders[k + 1] / table / path.name)


def entering(
    previous: Path, out: Path, history: Path, codes: list[str], persons: int = 100
) -> Path:
    """A night after `previous` (its files hard-linked into `out`) whose one new file holds
    an ESI line for each of `persons` persons who have rows in the `history` medical file but
    no ESI line there: they enter the cohort tonight, so the run fetches their history
    rows (the increment's costly case). Deterministic: the persons and template lines
    are the first by id."""
    if out.exists():
        raise SystemExit(f"{out} exists; remove it first")
    for folder in sorted(p for p in previous.iterdir() if p.is_dir()):
        (out / folder.name).mkdir(parents=True)
        for path in sorted(folder.iterdir()):
            os.link(path, out / folder.name / path.name)
    con = duckdb.connect(config={"memory_limit": "2GB"})
    source = f"read_parquet('{history}/*.parquet')"
    con.execute(
        f"""
        copy (
            with esi_persons as (
                select distinct person_id from {source}
                where hcpcs_code in (select unnest($codes))
            ),
            chosen as (
                select person_id, row_number() over (order by person_id) as n
                from (select distinct person_id from {source}
                      where person_id not in (select person_id from esi_persons)
                      order by person_id limit $persons)
            ),
            template as (
                select *, row_number() over (order by claim_id, claim_line_number) as n
                from (select * from {source} where hcpcs_code in (select unnest($codes))
                      order by claim_id, claim_line_number limit $persons)
            )
            select t.* exclude (n) replace ('ENTERING-' || c.n as claim_id,
                                            c.person_id as person_id)
            from template as t join chosen as c using (n)
        ) to '{out}/medical_claim/medical_claim-entering.parquet' (format parquet)
        """,
        {"codes": codes, "persons": persons},
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="a data set of claims-audit generate (Parquet)")
    p.add_argument("out", type=Path, help="where night-0 ... night-K are written")
    p.add_argument("--nights", type=int, default=1)
    p.add_argument("--share", type=float, default=0.003, help="share of the rows a night brings")
    p.add_argument(
        "--one-history-file", action="store_true", help="the history as one file per table"
    )
    args = p.parse_args(argv)
    for folder in split(args.data, args.out, args.nights, args.share, not args.one_history_file):
        print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
