"""The review sample (`claims-audit sample`): a stratified random sample of the latest
successful run's audited ESI lines, stored with its design and whole frame.

The frame (sql/review/review_frame.sql) is the audited ESI lines with a positive paid
amount: those with a `fail` finding (`flagged`, the default) or all of them (`audited`).
It is stratified by paid amount, a sample size is allocated to each stratum and a simple
random sample without replacement is drawn in each (sql/review/review_selection.sql);
the methods are the constants below, printed with every sample and in the README.

Reproducible on any machine: a line's random number is a SHA-256 of the seed and the
line's keys (no floating point, no platform PRNG, independent of the order rows arrive
in), the boundaries and the allocation come from exact integer sums, and every tie is
broken by a stated rule. The same database, frame, size, strata and seed give the same
sample.

Writing: the published audit database is copied, the copy gets the new rows, and it
replaces the published file atomically (jobs.publish.atomic), under the writer lock.
Analysts holding the published file open read-only keep reading it, a failure leaves it
untouched, and the nightly run carries the review tables into each database it builds
(jobs.review.history).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import Any

import duckdb

from jobs import __version__
from jobs.errors import AuditError, InputError, LockedError, first_line
from jobs.publish import atomic
from jobs.publish.lock import writer_lock
from jobs.resources import sql_dir
from jobs.safecsv import copy_csv
from jobs.sqltext import q

FRAME_KINDS = ("flagged", "audited")
DEFAULT_STRATA = 3
MAX_STRATA = 20
CLASSES_PER_STRATUM = 10
MIN_PER_STRATUM = 2
MAX_SEED = 2**63 - 1
KEY_SEPARATOR = "\x1f"

BOUNDARY_METHOD = (
    "cumulative square root of frequency (Dalenius-Hodges) on the paid amount: the range "
    "from the lowest to the highest paid amount is cut into 10 x K classes of equal width "
    "(in cents), and stratum boundaries fall on the class edges where the running sum of "
    "the square roots of the class counts is nearest to 1/K, 2/K, ... of its total; a "
    "stratum left without lines is merged, so fewer than K strata can form"
)
ALLOCATION_METHOD = (
    "Neyman allocation, n_h proportional to N_h x S_h, where S_h is the standard deviation "
    "the overpayment would have in stratum h if each line were overpaid in full with "
    "probability 1/2 (S_h^2 = sigma_h^2 / 2 + mu_h^2 / 4 from the paid amounts' mean mu_h "
    "and standard deviation sigma_h; the error rate is unknown before review); at least 2 "
    "lines per stratum; a stratum smaller than its allocation is taken whole; shares "
    "rounded by largest remainder"
)
SELECTION_METHOD = (
    "simple random sampling without replacement in each stratum: a line's random number "
    "is the first 16 hex digits of the SHA-256 of the seed, data_source (missing as empty "
    "text), claim_id and claim_line_number joined by U+001F, and the n_h lines with the "
    "smallest numbers are drawn"
)

# The review tables (README, "Review sample and overpayment estimate"); every database
# the nightly run builds carries them over (jobs.review.history).
REVIEW_TABLES = {
    "review_samples": """
        sample_id varchar, created_at timestamp, run_id varchar, frame_kind varchar,
        seed bigint, requested_size integer, sample_size integer, requested_strata integer,
        n_strata integer, frame_lines bigint, frame_paid_amount decimal(18, 2),
        boundary_method varchar, allocation_method varchar, selection_method varchar,
        strata json, notes json, sample_file varchar, tool_version varchar
    """,
    "review_sample_frames": """
        sample_id varchar, stratum integer, data_source varchar, claim_id varchar,
        claim_line_number integer, person_id varchar, service_date date,
        hcpcs_code varchar, rendering_npi varchar, paid_amount decimal(18, 2),
        is_flagged boolean, findings varchar, evidence varchar, random_key varchar,
        selection_rank bigint, is_sampled boolean, sample_item bigint
    """,
    "review_estimates": """
        estimate_id varchar, sample_id varchar, created_at timestamp, results_file varchar,
        results_sha256 varchar, n_strata integer, sample_lines integer,
        degrees_of_freedom integer, frame_lines bigint, frame_paid_amount decimal(18, 2),
        estimated_overpayment decimal(18, 2), standard_error double,
        lower_90_two_sided decimal(18, 2), upper_90_two_sided decimal(18, 2),
        lower_90_one_sided decimal(18, 2), error_rate double, precision double,
        estimate json, tool_version varchar
    """,
}
AUDIT_TABLES = ("findings", "mart_esi_lines", "run_history")


@dataclass
class Stratum:
    """One stratum of the design: paid amounts from lower_cents (inclusive) to upper_cents
    (exclusive; None for the last), its frame lines and their exact paid-amount sums."""

    stratum: int
    lower_cents: int
    upper_cents: int | None
    frame_lines: int = 0
    paid_cents: int = 0
    paid_cents_squared: int = 0
    min_cents: int = 0
    max_cents: int = 0
    sample_lines: int = 0

    @property
    def paid_mean(self) -> Fraction:
        return Fraction(self.paid_cents, 100 * self.frame_lines)

    @property
    def paid_variance(self) -> Fraction:
        """Population variance of the stratum's paid amounts (dollars squared)."""
        n = self.frame_lines
        return Fraction(self.paid_cents_squared * n - self.paid_cents**2, (100 * n) ** 2)

    @property
    def allocation_sd(self) -> float:
        """S_h of the allocation: sqrt(sigma^2 / 2 + mu^2 / 4)."""
        return math.sqrt(self.paid_variance / 2 + self.paid_mean**2 / 4)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stratum": self.stratum,
            "lower_bound": _dollars(self.lower_cents),
            "upper_bound": None if self.upper_cents is None else _dollars(self.upper_cents),
            "min_paid_amount": _dollars(self.min_cents),
            "max_paid_amount": _dollars(self.max_cents),
            "frame_lines": self.frame_lines,
            "frame_paid_amount": _dollars(self.paid_cents),
            "paid_mean": float(self.paid_mean),
            "paid_sd": math.sqrt(self.paid_variance),
            "allocation_sd": self.allocation_sd,
            "sample_lines": self.sample_lines,
            "sampled_whole": self.sample_lines == self.frame_lines,
        }


@dataclass
class SampleResult:
    sample_id: str
    seed: int
    run_id: str
    frame_kind: str
    frame_lines: int
    frame_paid_amount: Decimal
    requested_size: int
    requested_strata: int
    strata: list[Stratum]
    out: Path
    db: Path
    notes: list[str] = field(default_factory=list)

    @property
    def sample_size(self) -> int:
        return sum(s.sample_lines for s in self.strata)


def _dollars(cents: int) -> float:
    return float(Decimal(cents) / 100)


def new_seed() -> int:
    """A fresh seed (nine digits: easy to write down)."""
    return secrets.randbelow(10**9)


def new_id(kind: str) -> str:
    return f"{kind}-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def random_key(seed: int, data_source: str | None, claim_id: str, claim_line_number: int) -> str:
    """A line's random number for the draw (SELECTION_METHOD); sql/review/review_frame.sql
    computes the same in DuckDB."""
    text = KEY_SEPARATOR.join([str(seed), data_source or "", claim_id, str(claim_line_number)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------ the design (pure)


def stratum_starts(counts: Sequence[int], k: int) -> list[int]:
    """The first class of each stratum by the cumulative square root of frequency rule.

    counts: lines per class (equal-width classes of paid amount, lowest first). The cut
    after class j is the one whose running sum of sqrt(count) is nearest to i/k of the
    total (i = 1 .. k-1; ties to the lower class); repeated cuts collapse and a stratum
    without lines is merged into the one before it (the first into the next).
    """
    n_classes = len(counts)
    cum = list(accumulate(math.sqrt(c) for c in counts))
    total = cum[-1]
    cuts = set()
    for i in range(1, k):
        target = total * i / k
        j = min(range(n_classes - 1), key=lambda j: (abs(cum[j] - target), j))
        cuts.add(j + 1)
    starts = [0, *sorted(cuts)]
    kept = [
        s
        for i, s in enumerate(starts)
        if sum(counts[s : starts[i + 1] if i + 1 < len(starts) else n_classes]) > 0
    ]
    kept[0] = 0
    return kept


def class_edge(min_cents: int, span_cents: int, n_classes: int, j: int) -> int:
    """The lowest paid amount (cents) of class j: class(c) = (c - min) * J // span."""
    return min_cents + -(-j * span_cents // n_classes)


def allocate(
    sizes: Sequence[int], weights: Sequence[float], total: int, minimum: int = MIN_PER_STRATUM
) -> list[int]:
    """Sample lines per stratum: n_h proportional to weights[h] (N_h x S_h), at least
    `minimum` (a stratum with fewer lines is taken whole), never more than N_h.

    Strata whose share is below the minimum get the minimum and strata whose share
    reaches their size are taken whole, each time sharing the rest again among the others
    (the minimum first, so the total is always met); shares are rounded by largest
    remainder, ties to the lower stratum. All weights zero: proportional to N_h.
    """
    if total >= sum(sizes):
        return list(sizes)
    floors = [min(minimum, n) for n in sizes]
    if total < sum(floors):
        raise ValueError(f"a sample of {total} cannot give {minimum} lines to each stratum")
    fixed: dict[int, int] = {}
    shares: dict[int, float] = {}
    while len(fixed) < len(sizes):
        free = [h for h in range(len(sizes)) if h not in fixed]
        left = total - sum(fixed.values())
        w = [float(weights[h]) for h in free]
        if sum(w) <= 0:
            w = [float(sizes[h]) for h in free]
        shares = {h: left * wh / sum(w) for h, wh in zip(free, w, strict=True)}
        small = [h for h in free if shares[h] < floors[h]]
        if small:
            fixed.update({h: floors[h] for h in small})
            continue
        whole = [h for h in free if shares[h] >= sizes[h]]
        if whole:
            fixed.update({h: sizes[h] for h in whole})
            continue
        break
    result = [fixed.get(h, 0) for h in range(len(sizes))]
    free = [h for h in range(len(sizes)) if h not in fixed]
    for h in free:
        result[h] = math.floor(shares[h])
    short = total - sum(result)
    by_remainder = sorted(free, key=lambda h: (-(shares[h] - math.floor(shares[h])), h))
    for h in by_remainder[:short]:
        result[h] += 1
    short = total - sum(result)
    while short > 0:  # every stratum fixed and lines left: to the most room, lowest first
        h = max(range(len(sizes)), key=lambda h: (sizes[h] - result[h], -h))
        result[h] += 1
        short -= 1
    return result


# ------------------------------------------------------------ the database


def check_database(db: Path) -> None:
    """Exit 2 unless `db` is a claims-audit database (its own tables, not just DuckDB)."""
    if not db.is_file():
        raise InputError(f"no audit database at {db} (pass --db, or run claims-audit demo first)")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise LockedError(f"database {db} is held by a writer: {first_line(exc)}") from None
        raise InputError(
            f"{db}: cannot be opened as an audit database ({first_line(exc)})"
        ) from None
    try:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    missing = [t for t in AUDIT_TABLES if t not in names]
    if missing:
        raise InputError(f"{db} is not a claims-audit database (no {', '.join(missing)})")


def create_review_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in REVIEW_TABLES.items():
        con.execute(f"create table if not exists {q(name)} ({columns})")


@contextmanager
def updating(
    db: Path, work_id: str, outputs: Sequence[Path]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a copy of the published database; when the block succeeds the copy
    replaces it and each output's temporary file (atomic.temp_output) is renamed into
    place; otherwise both are removed and the published database is untouched. Hold the
    writer lock around it."""
    try:
        build = atomic.copy_published(db, work_id)
        con = duckdb.connect(str(build))
    except (OSError, duckdb.Error) as exc:
        atomic.remove_build(db, work_id)
        raise AuditError(f"cannot copy {db} to change it: {first_line(exc)}") from None
    try:
        create_review_tables(con)
        yield con
        con.execute("checkpoint")
        con.close()
        # Not a run: no journal record. The database swap is the commit point.
        atomic.publish(db, work_id, list(outputs), commit=lambda: None)
    except BaseException as exc:
        con.close()
        atomic.remove_build(db, work_id)
        atomic.discard_outputs(work_id, list(outputs))
        if isinstance(exc, OSError | duckdb.Error):
            raise AuditError(f"{db}: {first_line(exc)}") from None
        raise


def latest_run(con: duckdb.DuckDBPyConnection, db: Path) -> str:
    rows = con.execute(
        "select run_id from run_history where status = 'succeeded' order by run_seq desc limit 1"
    ).fetchall()
    if not rows:
        raise InputError(f"{db} has no successful run to sample from")
    return rows[0][0]


def review_sql(name: str) -> str:
    return (sql_dir() / "review" / f"{name}.sql").read_text(encoding="utf-8")


def design_strata(con: duckdb.DuckDBPyConnection, k: int) -> list[Stratum]:
    """Stratify the frame in `_review_frame`: the classes' counts and exact sums come from
    one grouped query; strata are runs of classes (BOUNDARY_METHOD)."""
    ((n, min_cents, max_cents),) = con.execute(
        "select count(*), min(paid_cents), max(paid_cents) from _review_frame"
    ).fetchall()
    if n == 0:
        return []
    n_classes = CLASSES_PER_STRATUM * k
    span = max_cents - min_cents + 1
    classes = {
        row[0]: row[1:]
        for row in con.execute(
            """
            select
                (paid_cents - $lo) * $classes // $span as j, count(*), sum(paid_cents),
                sum(cast(paid_cents as hugeint) * paid_cents), min(paid_cents), max(paid_cents)
            from _review_frame
            group by j
            """,
            {"lo": min_cents, "classes": n_classes, "span": span},
        ).fetchall()
    }
    counts = [classes[j][0] if j in classes else 0 for j in range(n_classes)]
    starts = stratum_starts(counts, k)
    strata = []
    for h, first in enumerate(starts):
        last = starts[h + 1] if h + 1 < len(starts) else n_classes
        upper = class_edge(min_cents, span, n_classes, last) if last < n_classes else None
        s = Stratum(h + 1, class_edge(min_cents, span, n_classes, first), upper)
        rows = [classes[j] for j in range(first, last) if j in classes]
        s.frame_lines = sum(r[0] for r in rows)
        s.paid_cents = sum(int(r[1]) for r in rows)
        s.paid_cents_squared = sum(int(r[2]) for r in rows)
        s.min_cents, s.max_cents = min(r[3] for r in rows), max(r[4] for r in rows)
        strata.append(s)
    assert sum(s.frame_lines for s in strata) == n
    return strata


def store_strata(con: duckdb.DuckDBPyConnection, strata: list[Stratum]) -> None:
    """Temp table `_review_strata` (bounds in cents, n_sample) for review_selection.sql."""
    con.execute(
        """
        create or replace temp table _review_strata as
        select
            unnest($stratum) :: integer as stratum,
            unnest($lower) :: bigint as lower_cents,
            unnest($upper) :: bigint as upper_cents,
            unnest($n_sample) :: integer as n_sample
        """,
        {
            "stratum": [s.stratum for s in strata],
            "lower": [s.lower_cents for s in strata],
            "upper": [s.upper_cents for s in strata],
            "n_sample": [s.sample_lines for s in strata],
        },
    )


def draw_sample(
    db: Path,
    size: int,
    out: Path,
    strata: int = DEFAULT_STRATA,
    seed: int | None = None,
    frame: str = "flagged",
) -> SampleResult:
    """Draw a review sample from the database's latest successful run, store its design
    and frame (review_samples, review_sample_frames) and write the reviewers' CSV."""
    db, out = Path(db), Path(out)
    if size < 1:
        raise InputError("--size must be at least 1")
    if not 1 <= strata <= MAX_STRATA:
        raise InputError(f"--strata must be from 1 to {MAX_STRATA}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed must be from 0 to {MAX_SEED}")
    if frame not in FRAME_KINDS:
        raise InputError(f"--frame must be one of {', '.join(FRAME_KINDS)}")
    if out.exists():
        raise InputError(f"{out} already exists: a sample file is never overwritten")
    check_database(db)
    seed = new_seed() if seed is None else seed
    sample_id = new_id("sample")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot create {out.parent}: {first_line(exc)}") from None
    with writer_lock(db), updating(db, sample_id, [out]) as con:
        result = draw_into(con, db, sample_id, size, strata, seed, frame, out.resolve())
        con.execute(
            f"create temp table _review_sample_file as {review_sql('review_sample_file')}",
            {"sample_id": sample_id},
        )
        copy_csv(
            con,
            "select * from _review_sample_file",
            atomic.temp_output(out, sample_id),
            order_by=["sample_item"],
        )
    return result


def draw_into(
    con: duckdb.DuckDBPyConnection,
    db: Path,
    sample_id: str,
    size: int,
    strata: int,
    seed: int,
    frame: str,
    out: Path,
) -> SampleResult:
    """Draw sample `sample_id` in the audit database open in `con`: the frame of its latest
    successful run, the strata, the allocation and the draw, stored in review_samples and
    review_sample_frames (the caller owns the connection and its publication)."""
    run_id = latest_run(con, db)
    con.execute(
        f"create or replace temp table _review_frame as {review_sql('review_frame')}",
        {"frame_kind": frame, "seed": str(seed)},
    )
    design = design_strata(con, strata)
    n_frame = sum(s.frame_lines for s in design)
    if n_frame == 0:
        raise InputError(
            f"run {run_id} has no {frame} audited ESI line with a positive paid amount to sample"
        )
    notes = []
    if len(design) < strata:
        notes.append(
            f"{strata} strata requested, {len(design)} formed: the paid amounts do not "
            f"spread over {strata}"
        )
    if size >= n_frame:
        notes.append(f"--size {size} is at least the frame's {n_frame} lines: all are drawn")
    try:
        allocation = allocate(
            [s.frame_lines for s in design],
            [s.frame_lines * s.allocation_sd for s in design],
            size,
        )
    except ValueError:
        need = sum(min(MIN_PER_STRATUM, s.frame_lines) for s in design)
        raise InputError(
            f"--size {size} is too small for {len(design)} strata: at least {need} "
            f"({MIN_PER_STRATUM} lines per stratum); pass a larger --size or fewer --strata"
        ) from None
    for s, n in zip(design, allocation, strict=True):
        s.sample_lines = n
    store_strata(con, design)
    con.execute(
        f"insert into review_sample_frames by name {review_sql('review_selection')}",
        {"sample_id": sample_id},
    )
    result = SampleResult(
        sample_id=sample_id,
        seed=seed,
        run_id=run_id,
        frame_kind=frame,
        frame_lines=n_frame,
        frame_paid_amount=Decimal(sum(s.paid_cents for s in design)) / 100,
        requested_size=size,
        requested_strata=strata,
        strata=design,
        out=out,
        db=db,
        notes=notes,
    )
    _insert_sample(con, result)
    return result


def _insert_sample(con: duckdb.DuckDBPyConnection, r: SampleResult) -> None:
    con.execute(
        "insert into review_samples values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            r.sample_id,
            datetime.now(UTC).replace(tzinfo=None),
            r.run_id,
            r.frame_kind,
            r.seed,
            r.requested_size,
            r.sample_size,
            r.requested_strata,
            len(r.strata),
            r.frame_lines,
            r.frame_paid_amount,
            BOUNDARY_METHOD,
            ALLOCATION_METHOD,
            SELECTION_METHOD,
            json.dumps([s.as_dict() for s in r.strata]),
            json.dumps(r.notes),
            str(r.out),
            __version__,
        ],
    )
