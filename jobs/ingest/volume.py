"""The volume check: an extract that shrank overnight is a broken extract, not a quiet night.

A nightly audit replaces last night's. An empty `medical_claim`, or a table whose rows
read fell by more than ``[validation] max_volume_drop`` (default 0.5) against the
previous successful run, would publish a thinner audit over a good one; the run stops
instead (exit 2), before validation. A table the previous run read and this run does
not supply fell to 0. ``max_volume_drop = 1.0`` accepts any drop (for a night whose
extract is known to be smaller). The manifest keeps each table's rows read against
the previous run's (`check_volume`'s result), and the report shows it.
"""

from __future__ import annotations

from typing import Any

from jobs.errors import InputError
from jobs.ingest.discover import SourceFile
from jobs.ingest.schema import TABLES


def rows_by_table(inputs: list[dict[str, Any]]) -> dict[str, int]:
    """Rows read per table from a manifest's ``inputs``."""
    totals: dict[str, int] = {}
    for f in inputs:
        totals[f["table"]] = totals.get(f["table"], 0) + int(f.get("rows_read") or 0)
    return totals


def volume_report(
    files: dict[str, list[SourceFile]], previous: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Each table's rows read against the previous successful run's (`previous`, its
    manifest): rows_read, previous_rows_read, previous_run_id, change (a share)."""
    now = {name: sum(f.rows_read for f in fs) for name, fs in files.items()}
    before = rows_by_table(previous.get("inputs") or []) if previous else {}
    report: dict[str, dict[str, Any]] = {}
    for name in TABLES:
        if name not in now and name not in before:
            continue
        read, prior = now.get(name, 0), before.get(name)
        report[name] = {
            "rows_read": read,
            "supplied": name in now,
            "previous_rows_read": prior,
            "previous_run_id": previous.get("run_id") if previous and prior is not None else None,
            "change": None if not prior else round((read - prior) / prior, 4),
        }
    return report


def check_volume(
    report: dict[str, dict[str, Any]], max_drop: float, files: dict[str, list[SourceFile]]
) -> None:
    """Raise InputError (exit 2) for an empty medical_claim or a table whose rows read
    fell by more than `max_drop` (a share) against the previous successful run."""
    if report.get("medical_claim", {}).get("rows_read", 0) == 0:
        where = ", ".join(str(f.path) for f in files.get("medical_claim", [])[:3])
        raise InputError(
            f"medical_claim ({where}): no rows, only a header; an empty extract would "
            f"publish an empty audit over the previous one"
        )
    for name, t in report.items():
        change = t["change"]
        if change is not None and -change > max_drop:
            supplied = "" if t["supplied"] else " (not supplied this run)"
            raise InputError(
                f"{name}: {t['rows_read']:,} rows read{supplied}, {-change:.0%} fewer than "
                f"the {t['previous_rows_read']:,} of the previous successful run "
                f"{t['previous_run_id']} (max_volume_drop {max_drop:.0%}); if the extract is "
                f"right, allow it with [validation] max_volume_drop = 1.0 in the configuration"
            )
