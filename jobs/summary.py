"""The one-screen summary printed at the end of `claims-audit run`."""

from __future__ import annotations

from typing import TextIO

from jobs.pipeline import RunResult


def print_summary(result: RunResult, out: TextIO) -> None:
    m = result.manifest
    w = out.write
    if result.exit_code != 0:
        failed = result.out_dir / "failed" / result.run_id / "manifest.json"
        w(
            f"claims-audit run {result.run_id}: FAILED (exit {result.exit_code}); "
            f"manifest {failed}\n"
        )
        return
    totals = m.get("findings", {})
    w(f"claims-audit run {result.run_id}: audit complete\n\n")
    w("inputs                          read    accepted    rejected\n")
    tables: dict[str, list[int]] = {}
    decisions = [m["decisions_file"]] if m.get("decisions_file") else []  # reviewers' file
    for f in [*m.get("inputs", []), *decisions]:
        t = tables.setdefault(f["table"], [0, 0, 0])
        t[0] += f["rows_read"]
        t[1] += f["rows_accepted"]
        t[2] += f["rows_rejected"]
    for name, (read, acc, rej) in tables.items():
        w(f"  {name:<22}{read:>12,}{acc:>12,}{rej:>12,}\n")
    w("\nrule                       checked   findings\n")
    for r in m.get("rules", []):
        w(f"  {r['id']:<24}{r['lines_checked']:>9,}{r['findings']:>11,}\n")
    by_status = totals.get("by_status", {})
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(by_status.items())) or "none"
    w(f"\nfindings: {totals.get('total', 0):,} ({statuses})\n")
    w(f"paid dollars at risk (fail): ${totals.get('dollars_at_risk', 0):,.2f}\n")
    life = m.get("lifecycle")
    if life:
        resolved = ", ".join(
            f"{k} {v:,}" for k, v in life.get("resolved_this_run_by_resolution", {}).items()
        )
        w(
            f"review: {life.get('open', 0):,} open ({life.get('new', 0):,} new), "
            f"{life.get('worklist', 0):,} on the worklist, "
            f"{life.get('resolved_this_run', 0):,} resolved"
            + (f" ({resolved})" if resolved else "")
            + "\n"
        )
        if totals.get("lines_decided") or totals.get("confirmed_amount"):
            w(
                f"decided apart: ${totals.get('dollars_decided', 0):,.2f}; "
                f"confirmed ${totals.get('confirmed_amount', 0):,.2f}, "
                f"recovered ${totals.get('recovered_amount', 0):,.2f}\n"
            )
    stages = m.get("stage_seconds", {})
    top = [
        k
        for k in ("load", "validate", "audit", "fingerprint", "review", "report", "publish")
        if k in stages
    ]
    w("time: " + ", ".join(f"{k} {stages[k]:.1f}s" for k in top) + "\n\n")
    w(f"report:     {result.out_dir / 'report.html'}\n")
    w(f"exceptions: {result.out_dir / 'exceptions.csv'}\n")
    w(f"worklist:   {result.out_dir / 'worklist.csv'}\n")
    w(f"database:   {result.db_path}\n")
