"""The data `claims-audit demo` audits (issue 13): a generated data set whose report shows
every section, and an earlier extract of the same data for a first run to compare with.

- The demo profile bills the ESIs through 12 injectors instead of 40 and has more ESI
  persons, so every injector reaches the peer comparison's minimum of audited lines, and
  one injector treats 40% of the persons planted with a `fail` finding besides its share
  of the others: the funnel plot has a provider above its 99.8% limit. Every rule still
  fires (the first ESI persons live every scenario once).
- The earlier extract is the same data as it stood EARLIER_BY_MONTHS before the last
  load: the rows of the files loaded before then (`file_date`; EHR procedures by their
  date), the practitioner file whole. Auditing it first and then the whole set against
  one database is what two nights of the job would see, so the report compares the
  second run with the first (new, resolved and persisting findings). The first run is
  dated EARLIER_BY_MONTHS before the second (`earlier_run_date`), so the review section
  has old findings beside new ones.
- The reviewers' decisions file of the second run (`write_demo_decisions`): decisions of
  every kind on findings of the first run (a waiver expired, one not yet; recovered
  amounts), and one row with a decision that does not exist, which validation rejects
  with its reason.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from jobs.ingest.load import install_macros
from jobs.ingest.schema import DECISIONS
from jobs.sqltext import lit
from jobs.synthetic.generator import LAYOUTS, Profile, generate

DEMO_PROFILE = Profile(esi_person_share=0.3, n_esi_practitioners=12, outlier_pct=40)
DEMO_SEED = 0
EARLIER_BY_MONTHS = 12
CENT = Decimal("0.01")
# The demo reviewers' decisions, one per `fail` finding of the first run in finding_id
# order: decision, reviewer, decided (days after the first run), waiver expiry (days after
# the first run), recovered share of the paid amount, note.
_DECISIONS = (
    ("confirmed", "ann", 20, None, Decimal(1), "records reviewed; recovered in full"),
    ("confirmed", "ann", 25, None, Decimal("0.5"), "recovered in part"),
    ("confirmed", "cy", 40, None, None, "recovery requested"),
    ("not_an_error", "cy", 30, None, None, "evidence found in the chart"),
    ("not_an_error", "ann", 35, None, None, "billed correctly"),
    ("education", "cy", 45, None, None, "provider letter sent"),
    ("education", "ann", 50, None, None, "provider call scheduled"),
    ("waived", "cy", 60, 3 * 365, None, "waived while the appeal is decided"),
    ("waived", "ann", 60, 120, None, "waiver ended: open again"),
    ("approved", "cy", 70, None, None, "not a decision: validation rejects this row"),
)

# How each table's rows are dated in the earlier extract (None: the table whole).
_LOADED_BEFORE = {
    "medical_claim": "try_cast(file_date as date)",
    "pharmacy_claim": "try_cast(file_date as date)",
    "eligibility": "try_cast(file_date as date)",
    "procedure": "ca_parse_date(procedure_date)",
    "practitioner": None,
}


@dataclass(frozen=True)
class DemoData:
    earlier: Path  # the extract as it stood on `cutoff`
    latest: Path  # the whole data set
    cutoff: date


def make_demo_data(
    out: Path, lines: int, progress: Callable[[str], None] | None = None
) -> DemoData:
    """Generate the demo's data set in `out`/input and its earlier extract in
    `out`/input-earlier (Parquet, the layout `generate` writes)."""
    latest, earlier = out / "input", out / "input-earlier"
    generate(latest, lines, seed=DEMO_SEED, progress=progress, profile=DEMO_PROFILE)
    cutoff = write_earlier_extract(latest, earlier, EARLIER_BY_MONTHS)
    return DemoData(earlier, latest, cutoff)


def write_earlier_extract(source: Path, target: Path, months: int) -> date:
    """Write to `target` the rows of `source` loaded before `months` before its last
    medical-claim load (rows without a readable date are kept); returns that day."""
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        install_macros(con)  # ca_parse_date: the loader's date formats
        medical = lit(str(source / "medical_claim.parquet"))
        (cutoff,) = con.execute(
            f"select cast(max(try_cast(file_date as date)) - to_months(?) as date) "
            f"from read_parquet({medical})",
            [months],
        ).fetchone()
        for table in LAYOUTS:
            path = source / f"{table}.parquet"
            dated = _LOADED_BEFORE[table]
            keep = f"where coalesce({dated} < $cutoff, true)" if dated else ""
            con.execute(
                f"copy (select * from read_parquet({lit(str(path))}) {keep}) "
                f"to {lit(str(target / path.name))} (format parquet, compression zstd)",
                {"cutoff": cutoff} if dated else {},
            )
    finally:
        con.close()
    return cutoff


def earlier_run_date(run_date: date) -> date:
    """The first demo run's date: EARLIER_BY_MONTHS before the second run's."""
    return run_date - timedelta(days=round(EARLIER_BY_MONTHS * 365.25 / 12))


def write_demo_decisions(exceptions: Path, target: Path, first_run_date: date) -> Path:
    """The reviewers' decisions file of the demo's second run (_DECISIONS), on the first
    run's `fail` findings (its exceptions.parquet) in finding_id order."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"select finding_id, paid_amount from read_parquet({lit(str(exceptions))}) "
            f"where status = 'fail' order by finding_id limit {len(_DECISIONS)}"
        ).fetchall()
    finally:
        con.close()

    def day(offset: int | None) -> str:
        return (first_run_date + timedelta(days=offset)).isoformat() if offset else ""

    with open(target, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(DECISIONS.column_names)  # the decisions file's columns, in order
        for (finding_id, paid), plan in zip(rows, _DECISIONS, strict=False):
            decision, reviewer, decided, expires, share, note = plan
            recovered = "" if share is None else str((paid * share).quantize(CENT))
            w.writerow(
                [finding_id, decision, reviewer, day(decided), day(expires), recovered, note]
            )
    return target
