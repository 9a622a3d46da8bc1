"""How often the estimate's 90% limits cover the true overpayment, on generated data.

A data set from `claims-audit generate` is audited; then, for each seed, a sample is
drawn (`jobs.review.sample.draw_sample`), every sampled line is "reviewed" with the
generator's truth (its paid amount when the answer key, expected_findings.csv, plants a
`fail` on it, else 0) and the estimate is computed (`jobs.review.estimate.estimate`).
The true total is the same truth summed over the whole stored frame. The fast version
runs in the test suite (tests/review/test_review_e2e.py); the full measurement is:

    .venv/bin/python -m tests.review.coverage --lines 50000 --seeds 200

(about 10 minutes here). It prints one line per frame kind: coverage of the two-sided
90% interval (before clipping and as published) and of the one-sided 90% lower limit.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from jobs.review.estimate import estimate
from jobs.review.sample import draw_sample

Truth = set[tuple[str, str]]


def planted_fails(data_dir: Path) -> Truth:
    """(claim_id, claim_line_number) of every line the generator planted a fail on."""
    with open(data_dir / "expected_findings.csv", newline="", encoding="utf-8") as fh:
        return {
            (r["claim_id"], r["claim_line_number"])
            for r in csv.DictReader(fh)
            if r["status"] == "fail"
        }


def fill(sample_csv: Path, truth: Truth, results_csv: Path) -> None:
    """The sample file reviewed with the truth: overpaid in full on planted fails."""
    with open(sample_csv, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        hit = (row["claim_id"], row["claim_line_number"]) in truth
        row["overpayment_amount"] = row["paid_amount"] if hit else "0"
        row["reviewer"] = "answer key"
    with open(results_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def true_total(db: Path, sample_id: str, truth: Truth) -> Decimal:
    """The frame's true overpayment: the truth summed over every stored frame line."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select claim_id, claim_line_number, paid_amount from review_sample_frames "
            "where sample_id = ?",
            [sample_id],
        ).fetchall()
    finally:
        con.close()
    return sum((p for c, n, p in rows if (c, str(n)) in truth), Decimal(0))


@dataclass
class Trial:
    seed: int
    truth: float
    document: dict

    @property
    def covered_raw(self) -> bool:
        raw = self.document["unclipped"]
        return raw["lower_90_two_sided"] <= self.truth <= raw["upper_90_two_sided"]

    @property
    def covered(self) -> bool:
        d = self.document
        return d["lower_90_two_sided"] <= self.truth <= d["upper_90_two_sided"]

    @property
    def lower_holds(self) -> bool:
        return self.document["lower_90_one_sided"] <= self.truth

    @property
    def lower_holds_raw(self) -> bool:
        return self.document["unclipped"]["lower_90_one_sided"] <= self.truth


def measure(
    db: Path, data_dir: Path, work: Path, seeds: range, size: int, frame: str, strata: int = 3
) -> list[Trial]:
    """One trial per seed on the audit database `db` (its review tables grow)."""
    truth = planted_fails(data_dir)
    trials = []
    for seed in seeds:
        sample_csv = work / f"{frame}-{seed}.csv"
        result = draw_sample(db, size, sample_csv, strata=strata, seed=seed, frame=frame)
        results_csv = work / f"{frame}-{seed}-reviewed.csv"
        fill(sample_csv, truth, results_csv)
        done = estimate(db, result.sample_id, results_csv, work / f"{frame}-{seed}-estimate")
        total = float(true_total(db, result.sample_id, truth))
        trials.append(Trial(seed, total, done.document))
    return trials


def summary(trials: list[Trial]) -> str:
    n = len(trials)
    raw = sum(t.covered_raw for t in trials)
    clipped = sum(t.covered for t in trials)
    lower = sum(t.lower_holds for t in trials)
    lower_raw = sum(t.lower_holds_raw for t in trials)
    return (
        f"two-sided 90% interval covers the truth: {raw}/{n} = {raw / n:.1%} before clipping, "
        f"{clipped}/{n} = {clipped / n:.1%} as published; one-sided 90% lower limit at or "
        f"below the truth: {lower_raw}/{n} = {lower_raw / n:.1%} before clipping, "
        f"{lower}/{n} = {lower / n:.1%} as published"
    )


def main() -> None:  # pragma: no cover - a measurement, run by hand
    from jobs.pipeline import run
    from jobs.synthetic.generator import generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--generate-seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--size", type=int, default=0, help="sample size (default frame / 4)")
    parser.add_argument("--frames", default="audited,flagged")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="claims-audit-coverage-"))
    try:
        data = work / "data"
        generate(data, lines=args.lines, seed=args.generate_seed)
        result = run(data, work / "out")
        assert result.exit_code == 0, result.message
        for frame in args.frames.split(","):
            db = work / f"{frame}.duckdb"
            shutil.copy(result.db_path, db)
            probe = draw_sample(db, 1_000_000, work / f"{frame}-probe.csv", seed=0, frame=frame)
            size = args.size or max(6, probe.frame_lines // 4)
            trials = measure(db, data, work, range(1, args.seeds + 1), size, frame)
            print(
                f"{frame} frame ({probe.frame_lines} lines, true overpayment "
                f"${trials[0].truth:,.2f}), sample of {size}, {args.lines:,} generated lines "
                f"(generate seed {args.generate_seed}), seeds 1-{args.seeds}: {summary(trials)}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    main()
