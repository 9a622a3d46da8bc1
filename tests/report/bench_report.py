"""Benchmark the report at payer scale: file size, render time, Chromium load time.

    PYTHONPATH=. python tests/report/bench_report.py --out /tmp/report-bench
    PYTHONPATH=. python tests/report/bench_report.py --out /tmp/report-bench --reuse

Builds a synthetic audit database (tests/report/synthetic.py; default 5,000 providers
and 250,000 ESI lines, which gives about 100,000 findings), writes the report, and opens
it in headless Chromium (the Debian package) several times: wall time to the load
event plus two painted frames, Chromium's CPU time for it, with and without JavaScript,
and the time to sort and filter the 5,000-row provider table. A bare 5,000 x 20 table is
measured the same way, to calibrate the machine. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402
from browser import launch  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from jobs.config import Config  # noqa: E402
from jobs.report import context as report_context  # noqa: E402
from jobs.report import render as report  # noqa: E402


def _tree_cpu(pid: int) -> float:
    total = 0.0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _load(browser, root: int, path: Path, scripts: bool) -> tuple[float, float]:  # noqa: ANN001
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=scripts
    )
    try:
        page = context.new_page()
        cpu0, t0 = _tree_cpu(root), time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load")
        if scripts:
            page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
        else:
            page.screenshot()  # forces a painted frame
        return time.perf_counter() - t0, _tree_cpu(root) - cpu0
    finally:
        context.close()


def _interact(browser, path: Path) -> dict[str, float]:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.locator("#providers-table").scroll_into_view_if_needed()
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        button = page.locator("#providers-table thead th", has_text="Dollars at risk").locator(
            "button"
        )
        t0 = time.perf_counter()
        button.click()
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        sort_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        page.fill("#pf-text", "okafor")
        page.wait_for_timeout(150)  # the filter waits 120 ms for typing to pause
        page.locator("#providers-table-status").filter(has_text="Showing").wait_for()
        filter_s = time.perf_counter() - t0 - 0.15
        return {"sort_5000_rows_s": round(sort_s, 2), "filter_s": round(max(filter_s, 0), 2)}
    finally:
        context.close()


def _calibration_table(folder: Path) -> Path:
    rows = "".join(
        f"<tr><td>Name {i}<td>{1000000000 + i}<td>Pain Medicine<td>{i * 3}<td>{i % 97}<td>{i % 50}"
        f"<td>${i * 13 % 99999:,}.00<td>{i % 100}.0%<td>{i % 100}<td>0.{i % 999:03d}<td>"
        + "<td>1" * 9
        + "\n"
        for i in range(5000)
    )
    path = folder / "calibration-table.html"
    path.write_text(
        "<!doctype html><html><body><table><thead><tr>"
        + "<th>h" * 20
        + f"</thead><tbody>{rows}</tbody></table></body></html>",
        encoding="utf-8",
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/report-bench"))
    parser.add_argument("--providers", type=int, default=5_000)
    parser.add_argument("--lines", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--max-drilldown-lines",
        type=int,
        default=Config().max_drilldown_lines,
        help="the report setting max_drilldown_lines (default: the configuration default)",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse the database of a previous run")
    args = parser.parse_args()

    result: dict[str, object] = {"machine": {"cpus": os.cpu_count()}}
    t0 = time.perf_counter()
    total = 0
    for i in range(10_000_000):  # calibration: a 10M-step Python loop (~0.5 s on a laptop)
        total += i
    result["machine"]["python_10M_loop_s"] = round(time.perf_counter() - t0, 2)

    manifest_path = args.out / "out" / "manifest.json"
    if args.reuse and manifest_path.exists():
        built = synthetic.Built(
            db_path=args.out / "audit.duckdb",
            out_dir=args.out / "out",
            manifest=json.loads(manifest_path.read_text(encoding="utf-8")),
        )
    else:
        t0 = time.perf_counter()
        built = synthetic.build(args.out, n_providers=args.providers, n_lines=args.lines, seed=11)
        result["build_db_s"] = round(time.perf_counter() - t0, 1)

    con = duckdb.connect(str(built.db_path), read_only=True)
    try:
        (n_findings,) = con.execute("select count(*) from findings").fetchone()
        (n_providers,) = con.execute(
            "select count(distinct coalesce(rendering_npi, '')) from mart_esi_lines"
        ).fetchone()
        t0 = time.perf_counter()
        config = Config(max_drilldown_lines=args.max_drilldown_lines)
        context = report_context.build_context(con, built.manifest, config, member_key=b"bench")
        t1 = time.perf_counter()
        html = report.render(context)
        t2 = time.perf_counter()
    finally:
        con.close()
    path = built.out_dir / f"report-{args.max_drilldown_lines}.html"
    path.write_text(html, encoding="utf-8")
    drill = context["drilldown"]
    result.update(
        findings=n_findings,
        providers=n_providers,
        context_s=round(t1 - t0, 2),
        render_s=round(t2 - t1, 2),
        file_bytes=path.stat().st_size,
        file_mb=round(path.stat().st_size / 1e6, 2),
        drilldown={k: drill[k] for k in ("n_detailed", "n_providers", "cap", "n_lines_shown")},
    )

    calibration = _calibration_table(args.out)
    with sync_playwright() as p:
        browser = launch(p)
        me = psutil.Process()
        root = min(
            (c for c in me.children(recursive=True) if "chrom" in c.name()),
            key=lambda c: c.create_time(),
        ).pid
        for label, target, scripts in (
            ("report", path, True),
            ("report_no_js", path, False),
            ("calibration_5000x20_table", calibration, True),
        ):
            runs = [_load(browser, root, target, scripts) for _ in range(args.repeat)]
            result[f"load_{label}"] = {
                "wall_s_median": round(statistics.median(r[0] for r in runs), 2),
                "wall_s_min": round(min(r[0] for r in runs), 2),
                "chromium_cpu_s_median": round(statistics.median(r[1] for r in runs), 2),
            }
        result["interaction"] = _interact(browser, path)
        browser.close()
    result["machine"]["load_average"] = [round(x, 1) for x in psutil.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
