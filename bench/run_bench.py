"""The benchmark: floor, baseline, `claims-audit run` and the nightly increment in one session.

Generates the data once per size (cached under --data-dir), runs each
contender in its own process, measures wall time and peak RSS with
/usr/bin/time, and writes BENCHMARKS.md. Not part of the test suite.

    CLAIMS_AUDIT_BASELINE=/path/to/baseline_pandas.py python bench/run_bench.py \
        --sizes 1m,10m,100m --baseline-sizes 10m --csv-size 10m --nightly-size 100m

The baseline is the analysts' pandas + Great Expectations script the team keeps
outside this repository (`baseline_pandas.py INPUT_DIR OUT_DIR`): its path comes
from `--baseline` or the environment variable CLAIMS_AUDIT_BASELINE, and the
baseline runs are skipped (and said so) without it.

The nightly increment (`--nightly-size`): the data set of that size split by load
date (bench/nightly.py: the history, then one new file per table holding
`--nightly-share` of the lines), night 0 run cold against a new database, then night
1 against the same database, timed: what a night costs once the history is known.

The Spark runs (`run --engine spark`, local mode on this machine's cores) need
`pip install '.[spark]'` and Java 17. The hand-written analysis in
bench/ANALYSIS.md is appended to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
CLI = [PY, "-m", "jobs.cli"]


def lines_of(size: str) -> int:
    size = size.lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(size[-1], 1)
    return int(float(size.rstrip("km")) * factor)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants (MB), from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total / 2**20


def measure(cmd: list[str], log: Path) -> dict:
    """Run `cmd`: wall seconds, peak RSS of its largest process (GNU time) and of the
    whole process tree (sampled from /proc every 0.2 s: a Spark run's JVM is a child)."""
    timing = log.with_suffix(".time")
    full = ["/usr/bin/time", "-f", "%e %M", "-o", str(timing), *cmd]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    tree_peak = 0.0
    with open(log, "w") as fh:
        proc = subprocess.Popen(full, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        while proc.poll() is None:
            tree_peak = max(tree_peak, _tree_rss_mb(proc.pid))
            time.sleep(0.2)
    wall = time.perf_counter() - start
    text = timing.read_text().split() if timing.exists() else []
    peak = int(text[-1]) / 1024 if text and text[-1].isdigit() else None
    return {
        "seconds": round(wall, 1),
        "peak_mb": round(peak) if peak else None,
        "tree_peak_mb": round(tree_peak),
        "rc": proc.returncode,
    }


def dataset(data_dir: Path, size: str, fmt: str) -> Path:
    path = data_dir / f"{size}-{fmt}"
    marker = path / ".complete"
    if marker.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    print(f"generating {size} ({fmt}) in {path} ...", flush=True)
    res = measure(
        [*CLI, "generate", "--out", str(path), "--lines", str(lines_of(size)), "--format", fmt],
        data_dir / f"generate-{size}-{fmt}.log",
    )
    if res["rc"] != 0:
        sys.exit(f"generation failed: see {data_dir}/generate-{size}-{fmt}.log")
    marker.write_text(json.dumps(res))
    return path


def run_job(
    data: Path, work: Path, label: str, engine: list[str] = (), db: Path | None = None
) -> dict:
    out = work / f"out-{label}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*CLI, "run", *engine, "--input", str(data), "--out", str(out)]
    if db is not None:
        cmd += ["--db", str(db)]
    res = measure(cmd, work / f"run-{label}.log")
    manifest = out / "manifest.json"
    if res["rc"] == 0 and manifest.exists():
        m = json.loads(manifest.read_text())
        res["stages"] = m.get("stage_seconds", {})
        res["findings"] = m.get("findings", {}).get("total")
        inputs = m.get("inputs", [])
        res["files"] = len(inputs)
        res["files_validated"] = sum(f.get("validation") == "validated" for f in inputs)
        res["lines_validated"] = sum(
            f["rows_read"]
            for f in inputs
            if f["table"] == "medical_claim" and f.get("validation") == "validated"
        )
        res["cohort_lines"] = (m.get("cohort") or {}).get("medical_claim")
        res["history_rows_staged"] = (m.get("increment") or {}).get("history_rows_staged")
    shutil.rmtree(out, ignore_errors=True)
    return res


def baseline_script(option: str | None) -> Path | None:
    """The analysts' baseline script: --baseline, else $CLAIMS_AUDIT_BASELINE."""
    text = option or os.environ.get("CLAIMS_AUDIT_BASELINE")
    if not text:
        return None
    path = Path(text).expanduser().resolve()
    if not path.is_file():
        sys.exit(f"baseline script {path} does not exist")
    return path


def nights(data_dir: Path, size: str, share: float) -> list[Path]:
    """The data set of `size` split by load date (bench/nightly.py), cached."""
    from nightly import split

    root = data_dir / f"{size}-nights-{share}"
    marker = root / ".complete"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        print(f"splitting {size} by load date into {root} ...", flush=True)
        # the history as one file per table: a month split of 100M lines spills > 30 GB
        split(dataset(data_dir, size, "parquet"), root, nights=1, share=share, by_month=False)
        marker.write_text("")
    return [root / "night-0", root / "night-1"]


def nightly(data_dir: Path, work: Path, size: str, share: float) -> dict:
    """Night 0 (cold, new database), then night 1 on the same database: the increment."""
    history, night = nights(data_dir, size, share)
    db = work / f"nightly-{size}.duckdb"
    for leftover in work.glob(f"nightly-{size}.*"):
        leftover.unlink()
    print(f"[{size} nightly] night 0 (cold) ...", flush=True)
    first = run_job(history, work, f"{size}-night-0", db=db)
    print(f"[{size} nightly] night 1 (the increment) ...", flush=True)
    second = run_job(night, work, f"{size}-night-1", db=db)
    print(f"[{size} nightly] night 2 (ESI lines of {ENTERING} persons with history) ...")
    third = run_job(entering_night(night, history), work, f"{size}-night-2", db=db)
    for leftover in work.glob(f"nightly-{size}.*"):
        leftover.unlink()
    return {
        "size": size, "share": share, "night_0": first, "night_1": second, "night_2": third,
        "entering": ENTERING,
    }  # fmt: skip


# Persons whose first ESI line arrives on the bench's night 2 (bench/nightly.py `entering`).
ENTERING = 100


def entering_night(night: Path, history: Path) -> Path:
    """Night 2: night 1's files and one file of ESI lines for `ENTERING` persons with
    history but no ESI line, cached beside the other nights."""
    from nightly import entering

    sys.path.insert(0, str(REPO))
    from jobs.audit.reference import ESI_VALUE_SET, read_value_sets

    out = night.parent / "night-2-entering"
    marker = out / ".complete"
    if not marker.exists():
        shutil.rmtree(out, ignore_errors=True)
        codes = sorted({r["code"] for r in read_value_sets() if r["value_set"] == ESI_VALUE_SET})
        entering(night, out, history / "medical_claim", codes, ENTERING)
        marker.write_text("")
    return out


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg()[0],
    }


def public_command(argv: list[str], args: argparse.Namespace) -> str:
    """The command as BENCHMARKS.md shows it: this machine's folders (and the baseline's
    path) become DATA, WORK and BASELINE, so the repository names no path outside it."""
    names = {
        str(args.data_dir): "DATA",
        str(args.work_dir): "WORK",
        str(args.results): "RESULTS",
        str(args.baseline): "BASELINE",
    }

    def public(word: str) -> str:
        option, sep, value = word.rpartition("=")
        return option + sep + names.get(value, value)

    return " ".join(["python", "bench/run_bench.py", *map(public, argv)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="1m,10m,100m")
    p.add_argument("--baseline-sizes", default="10m")
    p.add_argument(
        "--baseline",
        help="the analysts' baseline script (default: $CLAIMS_AUDIT_BASELINE); "
        "without one the baseline is not run",
    )
    p.add_argument("--nightly-size", default="", help="measure the nightly increment at this size")
    p.add_argument("--nightly-share", type=float, default=0.003)
    p.add_argument("--csv-size", default="10m")
    p.add_argument("--spark-sizes", default="", help="also run --engine spark at these sizes")
    p.add_argument("--spark-master", default=f"local[{os.cpu_count()}]")
    p.add_argument("--data-dir", type=Path, default=REPO / "bench" / "data")
    p.add_argument("--work-dir", type=Path, default=REPO / "bench" / "work")
    p.add_argument("--results", type=Path, default=REPO / "bench" / "results.json")
    p.add_argument("--render-only", action="store_true", help="rewrite BENCHMARKS.md only")
    args = p.parse_args(argv)
    if args.render_only:
        (REPO / "BENCHMARKS.md").write_text(render(json.loads(args.results.read_text())))
        return 0
    args.data_dir.mkdir(parents=True, exist_ok=True)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    baseline = baseline_script(args.baseline)
    if baseline is None and args.baseline_sizes:
        print("no baseline script (--baseline or CLAIMS_AUDIT_BASELINE): not run", flush=True)

    results = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": public_command(argv or sys.argv[1:], args),
        "machine": machine(),
        "sizes": {},
    }
    baseline_sizes = {s for s in args.baseline_sizes.split(",") if s}
    spark_sizes = {s for s in args.spark_sizes.split(",") if s}
    for size in [s for s in args.sizes.split(",") if s]:
        data = dataset(args.data_dir, size, "parquet")
        entry: dict = {"lines": lines_of(size)}
        print(f"[{size}] floor ...", flush=True)
        entry["floor"] = measure(
            [PY, "bench/floor.py", str(data)], args.work_dir / f"floor-{size}.log"
        )
        print(f"[{size}] claims-audit run ...", flush=True)
        entry["run"] = run_job(data, args.work_dir, size)
        if size in baseline_sizes and baseline is not None:
            print(f"[{size}] baseline (pandas + GX on pandas) ...", flush=True)
            entry["baseline"] = measure(
                [PY, str(baseline), str(data), str(args.work_dir / f"baseline-{size}")],
                args.work_dir / f"baseline-{size}.log",
            )
        if size in spark_sizes:
            print(f"[{size}] claims-audit run --engine spark ...", flush=True)
            entry["spark"] = run_job(
                data, args.work_dir, f"{size}-spark",
                ["--engine", "spark", "--spark-master", args.spark_master],
            )  # fmt: skip
        results["sizes"][size] = entry
        print(json.dumps(entry, indent=1), flush=True)
        save(results, args.results)  # after each size: a long session keeps what it measured
    if args.csv_size:
        data = dataset(args.data_dir, args.csv_size, "csv")
        print(f"[{args.csv_size} csv] claims-audit run ...", flush=True)
        res = run_job(data, args.work_dir, f"{args.csv_size}-csv")
        res["lines_per_second"] = (
            round(lines_of(args.csv_size) / res["seconds"]) if res["rc"] == 0 else None
        )
        results["csv"] = {"size": args.csv_size, "run": res}
        save(results, args.results)
    if args.nightly_size:
        results["nightly"] = nightly(
            args.data_dir, args.work_dir, args.nightly_size, args.nightly_share
        )
    save(results, args.results)
    print(f"results in {args.results} and BENCHMARKS.md", flush=True)
    return 0


def save(results: dict, path: Path) -> None:
    path.write_text(json.dumps(results, indent=2) + "\n")
    (REPO / "BENCHMARKS.md").write_text(render(results))


def render(results: dict) -> str:
    """BENCHMARKS.md from the results of one benchmark session."""
    m = results["machine"]
    out = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB,",
        f"Python {m['python']}; load average at start {m['load_average_at_start']:.2f}.",
        "",
        f"Command: `{results['command']}`",
        "",
        "Data: `claims-audit generate` (full Tuva width, 148 medical-claim columns,",
        "about 20% as many pharmacy lines and 4% as many enrollment spans), Parquet.",
        "",
        "| lines | floor | claims-audit run | run / floor | peak RSS (run) | baseline | "
        "baseline peak RSS | baseline / run |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in results["sizes"].values():
        run, floor, base = e["run"], e["floor"], e.get("baseline")
        ratio = run["seconds"] / floor["seconds"] if run["rc"] == 0 else None
        if base and base["rc"] == 0:
            b, bm = f"{base['seconds']:.1f} s", f"{base['peak_mb']:,} MB"
            speedup = f"{base['seconds'] / run['seconds']:.1f}x"
        elif base:
            b, bm, speedup = f"failed (exit {base['rc']})", f"{base['peak_mb'] or 0:,} MB", "-"
        else:
            b, bm, speedup = "not run", "-", "-"
        out.append(
            f"| {e['lines']:,} | {floor['seconds']:,.1f} s | {run['seconds']:,.1f} s | "
            f"{f'{ratio:.1f}x' if ratio else 'failed'} | {run['peak_mb']:,} MB | {b} | {bm} | "
            f"{speedup} |"
        )
    out += [
        "",
        "Stage times of `claims-audit run` (seconds, from the manifest; `publish`, the",
        "final renames, comes after the manifest is written and is in the run's log):",
        "",
    ]
    stages = ["load", "validate", "audit", "fingerprint", "report", "publish"]
    out.append("| lines | " + " | ".join(stages) + " |")
    out.append("|---:|" + "---:|" * len(stages))
    for e in results["sizes"].values():
        st = e["run"].get("stages", {})
        out.append(
            f"| {e['lines']:,} | "
            + " | ".join(f"{st[s]:.1f}" if s in st else "-" for s in stages)
            + " |"
        )
    spark = [(e["lines"], e["run"], e["spark"]) for e in results["sizes"].values() if "spark" in e]
    if spark:
        out += [
            "",
            "Spark engine (`run --engine spark`, local mode on this machine) beside DuckDB:",
            "",
            "| lines | DuckDB run | Spark local | Spark / DuckDB | Spark peak RSS (Python + JVM) |",
            "|---:|---:|---:|---:|---:|",
        ]
        for lines, duck, sp in spark:
            took = f"{sp['seconds']:.1f} s" if sp["rc"] == 0 else f"failed (exit {sp['rc']})"
            ratio = sp["seconds"] / duck["seconds"] if sp["rc"] == 0 == duck["rc"] else None
            out.append(
                f"| {lines:,} | {duck['seconds']:.1f} s | {took} | "
                f"{f'{ratio:.1f}x' if ratio else '-'} | {sp.get('tree_peak_mb') or 0:,} MB |"
            )
    for e in results["sizes"].values():
        first = e.get("spark_first_attempt")
        if first:
            out += [
                "",
                f"At {e['lines']:,} lines the first Spark run (driver memory "
                f"{first.get('driver_memory', '?')}) failed after {first['seconds']:.1f} s "
                f"({first.get('error', 'exit ' + str(first['rc']))}); the row above is "
                f"the rerun ({e['spark'].get('note', '')}).",
            ]
    if "csv" in results:
        c = results["csv"]["run"]
        out += [
            "",
            f"CSV input, {results['csv']['size']} lines: {c['seconds']:.1f} s, "
            f"{c.get('lines_per_second') or 0:,} lines per second, peak RSS {c['peak_mb']:,} MB.",
        ]
    if "nightly" in results:
        out += render_nightly(results)
    out += render_targets(results)
    analysis = REPO / "bench" / "ANALYSIS.md"
    if analysis.exists():
        out += ["", analysis.read_text().rstrip()]
    return "\n".join(out) + "\n"


def render_nightly(results: dict) -> list[str]:
    n = results["nightly"]
    first, second = n["night_0"], n["night_1"]
    cold = results["sizes"].get(n["size"], {}).get("run")
    out = [
        "",
        f"Nightly increment on the {n['size']} data set split by load date (bench/nightly.py: "
        f"the history, then one new file per table with {n['share']:.1%} of the lines), "
        "one database:",
        "",
        "| night | files (validated) | medical lines validated | history rows read again | "
        "time | peak RSS | stages |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    nights = [("0: the history, cold", first), ("1: the increment", second)]
    if "night_2" in n:
        nights.append((f"2: + ESI lines of {n['entering']} persons with history", n["night_2"]))
    for label, r in nights:
        if r["rc"] != 0:
            out.append(f"| {label} | - | - | - | failed (exit {r['rc']}) | - | - |")
            continue
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r.get("stages", {}).items() if ":" not in k)
        staged = r.get("history_rows_staged")
        staged = "all (cold)" if staged is None else f"{staged:,}"
        out.append(
            f"| {label} | {r.get('files', 0):,} ({r.get('files_validated', 0):,}) | "
            f"{r.get('lines_validated', 0):,} | {staged} | {r['seconds']:.1f} s | "
            f"{r['peak_mb'] or 0:,} MB | "
            f"{stages} |"
        )
    if cold and cold["rc"] == 0 and second["rc"] == 0:
        out += [
            "",
            f"Night 1 took {second['seconds'] / cold['seconds']:.1%} of the cold "
            f"{n['size']} run ({cold['seconds']:.1f} s).",
        ]
    return out


def render_targets(results: dict) -> list[str]:
    """Issue 14's targets against this session's measurements."""
    sizes = results["sizes"]

    def ok(value: float | None, limit: float, at_most: bool = True) -> str:
        if value is None:
            return "not measured"
        return "yes" if (value <= limit if at_most else value >= limit) else "no"

    rows = []
    ten, hundred = sizes.get("10m"), sizes.get("100m")
    if ten and ten["run"]["rc"] == 0:
        run, floor, base = ten["run"], ten["floor"], ten.get("baseline")
        speedup = base["seconds"] / run["seconds"] if base and base["rc"] == 0 else None
        rows.append(
            ("10M cold at least 5x faster than the baseline",
             f"{speedup:.1f}x" if speedup else "baseline not run", ok(speedup, 5, False))
        )  # fmt: skip
        ratio = run["seconds"] / floor["seconds"]
        rows.append(("10M cold at most 6x the floor", f"{ratio:.1f}x", ok(ratio, 6)))
    if hundred and hundred["run"]["rc"] == 0:
        run, floor = hundred["run"], hundred["floor"]
        ratio = run["seconds"] / floor["seconds"]
        rows.append(("100M cold at most 5x the floor", f"{ratio:.1f}x", ok(ratio, 5)))
        peak = (run["peak_mb"] or 0) / 1024
        rows.append(("100M peak memory at most 3 GB", f"{peak:.1f} GB", ok(peak, 3)))
        if ten and ten["run"]["rc"] == 0 and ten["run"]["peak_mb"]:
            growth = run["peak_mb"] / ten["run"]["peak_mb"]
            rows.append(("100M peak at most 2x the 10M peak", f"{growth:.1f}x", ok(growth, 2)))
    n = results.get("nightly")
    if n and n["night_1"]["rc"] == 0:
        night = n["night_1"]["seconds"]
        rows.append(
            (f"nightly increment on the {n['size']} history at most 30 s", f"{night:.1f} s",
             ok(night, 30))
        )  # fmt: skip
        cold = sizes.get(n["size"], {}).get("run")
        if cold and cold["rc"] == 0:
            share = night / cold["seconds"]
            rows.append(("... and at most 15% of the cold run", f"{share:.1%}", ok(share, 0.15)))
    if "csv" in results and results["csv"]["run"]["rc"] == 0:
        rate = results["csv"]["run"].get("lines_per_second")
        rows.append(
            (f"CSV at {results['csv']['size']}: at least 300,000 lines per second",
             f"{rate:,}", ok(rate, 300_000, False))
        )  # fmt: skip
    if not rows:
        return []
    return [
        "",
        "Targets (issue 14), from this session:",
        "",
        "| target | measured | met? |",
        "|---|---:|---|",
        *(f"| {t} | {m} | {v} |" for t, m, v in rows),
    ]


if __name__ == "__main__":
    sys.exit(main())
