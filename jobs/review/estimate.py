"""The overpayment estimate (`claims-audit estimate`): validate the reviewed sample file,
extrapolate to the sample's stored frame, write estimate.json and estimate.html, and
store the estimate in ``review_estimates``.

The reviewed file is the sample file with `overpayment_amount` filled in. It must hold
every sampled line of the sample exactly once (lines are matched on data_source,
claim_id, claim_line_number), each with an amount from 0 to the line's paid amount.
Anything else exits 2 with one line naming every problem row, and nothing is written.
The estimate is computed on the frame stored with the sample (review_sample_frames),
never on a later run's lines; the statistics are in jobs.review.estimate_stats.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from jobs import __version__
from jobs.errors import InputError, LockedError, first_line
from jobs.publish import atomic
from jobs.publish.lock import writer_lock
from jobs.review.estimate_stats import StratumSample, estimate_total
from jobs.review.sample import check_database, new_id, updating

REQUIRED_COLUMNS = ("data_source", "claim_id", "claim_line_number", "overpayment_amount")
OUTPUT_NAMES = ("estimate.json", "estimate.html")
MAX_LISTED = 25
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Key = tuple[str, str, int]


@dataclass(frozen=True)
class SampledLine:
    sample_item: int
    stratum: int
    data_source: str | None
    claim_id: str
    claim_line_number: int
    paid_amount: Decimal

    @property
    def key(self) -> Key:
        return (self.data_source or "", self.claim_id, self.claim_line_number)


@dataclass
class EstimateResult:
    estimate_id: str
    document: dict[str, Any]
    json_path: Path
    html_path: Path


def describe(key: Key) -> str:
    data_source, claim_id, line = key
    return f"claim {claim_id} line {line}" + (f" ({data_source})" if data_source else "")


def _cell(value: str | None) -> str:
    """A cell as written: surrounding spaces dropped, the formula guard's ' undone."""
    text = (value or "").strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_TRIGGERS:
        return text[1:]
    return text


def read_results(
    path: Path, sample_id: str, lines: list[SampledLine]
) -> dict[Key, tuple[Decimal, str, str]]:
    """The reviewed amounts by line key (amount, reviewer, note); InputError naming every
    problem row (rows are numbered as a spreadsheet shows them: the header is row 1)."""
    sampled = {line.key: line for line in lines}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({first_line(exc)})") from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot be read as CSV ({first_line(exc)})") from None
    if not rows:
        raise InputError(f"{path}: empty file (expected the sample file with a header)")
    header = [_cell(h).lower() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)} (expected the sample file)")
    col = {name: header.index(name) for name in header[::-1]}  # first of repeated names

    def get(row: list[str], name: str) -> str:
        i = col.get(name)
        return _cell(row[i]) if i is not None and i < len(row) else ""

    problems: list[str] = []
    seen: dict[Key, int] = {}
    reviewed: dict[Key, tuple[Decimal, str, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank row (spreadsheets add them)
        where = f"row {number}"
        row_sample = get(row, "sample_id")
        if "sample_id" in col and row_sample and row_sample != sample_id:
            problems.append(f"{where}: sample_id {row_sample!r} is not {sample_id}")
            continue
        line_text = get(row, "claim_line_number")
        if not line_text.isdigit():
            problems.append(f"{where}: claim_line_number {line_text!r} is not a line number")
            continue
        key = (get(row, "data_source"), get(row, "claim_id"), int(line_text))
        if key not in sampled:
            problems.append(f"{where}: {describe(key)} is not a line of sample {sample_id}")
            continue
        if key in seen:
            problems.append(f"{where}: {describe(key)} repeats row {seen[key]}")
            continue
        seen[key] = number
        amount_text = get(row, "overpayment_amount")
        paid = sampled[key].paid_amount
        if not amount_text:
            problems.append(f"{where}: overpayment_amount is empty ({describe(key)})")
        elif not _NUMBER.fullmatch(amount_text):
            problems.append(f"{where}: overpayment_amount {amount_text!r} is not a number")
        elif (amount := Decimal(amount_text)) < 0:
            problems.append(f"{where}: overpayment_amount {amount_text} is negative")
        elif amount > paid:
            problems.append(
                f"{where}: overpayment_amount {amount_text} is above the line's paid amount {paid}"
            )
        else:
            reviewed[key] = (amount, get(row, "reviewer"), get(row, "note"))
    for line in lines:
        if line.key not in seen:
            problems.append(f"{describe(line.key)} (sample item {line.sample_item}) is missing")
    if problems:
        listed = "; ".join(problems[:MAX_LISTED])
        more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise InputError(f"{path}: {len(problems)} problem(s), nothing written: {listed}{more}")
    return reviewed


def _load_sample(
    db: Path, sample_id: str
) -> tuple[dict[str, Any], list[SampledLine], list[dict[str, Any]]]:
    """The sample's design row, its sampled lines and its strata (N, frame dollars)."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise LockedError(f"database {db} cannot be read: {first_line(exc)}") from None
    try:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "review_samples" not in names:
            raise InputError(f"{db} holds no review sample (draw one with claims-audit sample)")
        cur = con.execute("select * from review_samples where sample_id = ?", [sample_id])
        row = cur.fetchone()
        if row is None:
            known = [
                r[0]
                for r in con.execute(
                    "select sample_id from review_samples order by created_at desc limit 5"
                ).fetchall()
            ]
            raise InputError(
                f"{db} has no sample {sample_id!r} (latest: {', '.join(known) or 'none'})"
            )
        design = dict(zip([d[0] for d in cur.description], row, strict=True))
        lines = [
            SampledLine(*r)
            for r in con.execute(
                """
                select sample_item, stratum, data_source, claim_id, claim_line_number, paid_amount
                from review_sample_frames
                where sample_id = ? and is_sampled
                order by sample_item
                """,
                [sample_id],
            ).fetchall()
        ]
        strata = [
            {"stratum": s, "frame_lines": n, "frame_paid_amount": paid}
            for s, n, paid in con.execute(
                """
                select stratum, count(*), sum(paid_amount)
                from review_sample_frames
                where sample_id = ?
                group by stratum
                order by stratum
                """,
                [sample_id],
            ).fetchall()
        ]
    finally:
        con.close()
    return design, lines, strata


def money(value: float | Decimal) -> str:
    return f"${value:,.2f}"


def statement(doc: dict[str, Any]) -> str:
    """The estimate in plain words."""
    frame = doc["frame"]
    what = (
        f"the {frame['lines']:,} {frame['kind']} lines of the frame "
        f"(paid {money(frame['paid_amount'])})"
    )
    return (
        f"We are 90% confident that the overpayment on {what} is at least "
        f"{money(doc['lower_90_one_sided'])}. The point estimate is "
        f"{money(doc['estimated_overpayment'])}, and the two-sided 90% confidence interval "
        f"runs from {money(doc['lower_90_two_sided'])} to "
        f"{money(doc['upper_90_two_sided'])}."
    )


def build_document(
    estimate_id: str,
    design: dict[str, Any],
    lines: list[SampledLine],
    strata: list[dict[str, Any]],
    reviewed: dict[Key, tuple[Decimal, str, str]],
    results: Path,
    db: Path,
) -> dict[str, Any]:
    """estimate.json: the design, the frame, the per-stratum table, the estimate."""
    by_stratum: dict[int, list[Decimal]] = {s["stratum"]: [] for s in strata}
    for line in lines:
        by_stratum[line.stratum].append(reviewed[line.key][0])
    stats = estimate_total(
        [
            StratumSample(
                s["stratum"], s["frame_lines"], s["frame_paid_amount"], by_stratum[s["stratum"]]
            )
            for s in strata
        ]
    )
    bounds = {s["stratum"]: s for s in json.loads(design["strata"])}
    for row in stats["strata"]:
        b = bounds.get(row["stratum"], {})
        row["lower_bound"] = b.get("lower_bound")
        row["upper_bound"] = b.get("upper_bound")
        row["min_paid_amount"] = b.get("min_paid_amount")
        row["max_paid_amount"] = b.get("max_paid_amount")
    doc: dict[str, Any] = {
        "estimate_id": estimate_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sample_id": design["sample_id"],
        "tool_version": __version__,
        "database": str(db),
        "results_file": str(results.resolve()),
        "results_sha256": hashlib.sha256(results.read_bytes()).hexdigest(),
        "run_id": design["run_id"],
        "frame": {
            "kind": design["frame_kind"],
            "lines": stats["frame_lines"],
            "paid_amount": stats["frame_paid_amount"],
        },
        "design": {
            "sample_created_at": design["created_at"].isoformat(timespec="seconds"),
            "seed": design["seed"],
            "requested_size": design["requested_size"],
            "sample_size": design["sample_size"],
            "requested_strata": design["requested_strata"],
            "n_strata": design["n_strata"],
            "boundary_method": design["boundary_method"],
            "allocation_method": design["allocation_method"],
            "selection_method": design["selection_method"],
            "notes": json.loads(design["notes"] or "[]"),
        },
        **stats,
        "lines": [
            {
                "sample_item": line.sample_item,
                "stratum": line.stratum,
                "data_source": line.data_source,
                "claim_id": line.claim_id,
                "claim_line_number": line.claim_line_number,
                "paid_amount": float(line.paid_amount),
                "overpayment_amount": float(reviewed[line.key][0]),
            }
            for line in lines
        ],
    }
    doc["statement"] = statement(doc)
    return doc


def estimate(
    db: Path,
    sample_id: str,
    results: Path,
    out_dir: Path | None = None,
    render_html: Callable[[dict[str, Any]], str] | None = None,
) -> EstimateResult:
    """Validate `results`, compute the estimate, write estimate.json and estimate.html in
    `out_dir` (default ./<estimate id>) and store the estimate in review_estimates."""
    db, results = Path(db), Path(results)
    if not results.is_file():
        raise InputError(f"no results file at {results}")
    check_database(db)
    estimate_id = new_id("estimate")
    out_dir = Path(out_dir) if out_dir is not None else Path(estimate_id)
    outputs = [out_dir / name for name in OUTPUT_NAMES]
    for path in outputs:
        if path.exists():
            raise InputError(f"{path} already exists: an estimate never overwrites a file")
    with writer_lock(db):
        design, lines, strata = _load_sample(db, sample_id)
        reviewed = read_results(results, sample_id, lines)
        doc = build_document(estimate_id, design, lines, strata, reviewed, results, db)
        html = render_html(doc) if render_html else None
        out_dir.mkdir(parents=True, exist_ok=True)
        written = outputs if html is not None else outputs[:1]
        with updating(db, estimate_id, written) as con:
            _insert_estimate(con, doc)
            atomic.temp_output(outputs[0], estimate_id).write_text(
                json.dumps(doc, indent=2) + "\n", encoding="utf-8"
            )
            if html is not None:
                atomic.temp_output(outputs[1], estimate_id).write_text(html, encoding="utf-8")
    return EstimateResult(estimate_id, doc, outputs[0], outputs[1])


def _insert_estimate(con: duckdb.DuckDBPyConnection, doc: dict[str, Any]) -> None:
    con.execute(
        "insert into review_estimates values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            doc["estimate_id"],
            doc["sample_id"],
            datetime.fromisoformat(doc["created_at"]).replace(tzinfo=None),
            doc["results_file"],
            doc["results_sha256"],
            doc["n_strata"],
            doc["sample_lines"],
            doc["degrees_of_freedom"],
            doc["frame_lines"],
            Decimal(str(doc["frame_paid_amount"])),
            Decimal(str(doc["estimated_overpayment"])),
            doc["standard_error"],
            Decimal(str(doc["lower_90_two_sided"])),
            Decimal(str(doc["upper_90_two_sided"])),
            Decimal(str(doc["lower_90_one_sided"])),
            doc["error_rate"],
            doc["precision"],
            json.dumps(doc),
            __version__,
        ],
    )
