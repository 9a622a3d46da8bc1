"""Command line: a thin layer mapping options to the library's functions."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jobs import __version__
from jobs.errors import AuditError, InputError

DEFAULT_DEMO_OUT = Path("claims-audit-demo")
DEMO_LINES = 50_000
DB_HELP = "audit database (default: $CLAIMS_AUDIT_DB, else ./claims-audit-demo/audit.duckdb)"

EXAMPLES = {
    "run": """examples:
  claims-audit run --input extracts/2026-11-24 --out audits/2026-11-24 --db audits/audit.duckdb
  claims-audit run --input tests/fixtures/tuva-demo-2023 --out out/tuva-2023 \\
      --config tests/fixtures/tuva-2023.toml      # from a clone: the older Tuva layout
  claims-audit run --input extracts/2026-11-25 --out audits/2026-11-25 --db audits/audit.duckdb \\
      --decisions review/decisions.csv            # the reviewers' decisions
  claims-audit run --engine spark --spark-master local[4] \\
      --input s3a://claims/extracts/2026-11-24 --out audits/2026-11-24 --db audits/audit.duckdb

exit codes: 0 the audit ran (with or without exceptions); 2 the input or the
configuration cannot be used; 1 anything else (e.g. the database is locked).""",
    "demo": """example:
  claims-audit demo                  # writes ./claims-audit-demo/report.html and more
  claims-audit demo --lines 200000   # more filler claims, the same report sections""",
    "generate": """examples:
  claims-audit generate --out data/synthetic --lines 1000000
  claims-audit generate --out data/small --lines 50000 --seed 7 --format csv
  claims-audit generate --out data/nights --lines 100000 --nights 3   # night-0 .. night-3""",
    "query": """examples:
  claims-audit query "select rule_id, status, count(*) from findings group by all"
  claims-audit query --db audits/audit.duckdb --format csv "select * from v_exceptions"

The database is opened read-only: queries never block or change the nightly run.
Default database: $CLAIMS_AUDIT_DB, else ./claims-audit-demo/audit.duckdb.""",
    "rules": """examples:
  claims-audit rules                          # the rule catalog
  claims-audit rules --show conservative_care # its SQL, parameters bound""",
    "sample": """examples:
  claims-audit sample --db audits/audit.duckdb --size 100 --out review/sample.csv
  claims-audit sample --db audits/audit.duckdb --size 200 --strata 4 --seed 20261124 \\
      --frame audited --out review/audited-sample.csv

Draws a stratified random sample of the latest successful run's audited ESI lines
(--frame flagged: those with a fail finding, the default; audited: all), stores the
design, the frame and the seed in the database, and writes the reviewers' file.
Fill in overpayment_amount (and reviewer, note), then run claims-audit estimate.""",
    "estimate": """examples:
  claims-audit estimate --db audits/audit.duckdb --sample sample-20261124T101500Z-3fa2c1 \\
      --results review/sample.csv --out review/estimate

Validates the reviewed file (every sampled line once, overpayment_amount from 0 to the
line's paid amount; anything else exits 2 naming the rows, nothing written), then writes
estimate.json and estimate.html and stores the estimate in review_estimates.""",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claims-audit",
        description="Audit cervical epidural steroid injection claims (Tuva Input Layer extracts).",
        epilog="Start with: claims-audit demo",
    )
    parser.add_argument("--version", action="version", version=f"claims-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "run",
        help="the nightly job: load, validate, audit, report, publish",
        description="Load Tuva-layout extracts, validate them, run the audit rules, "
        "write the report and outputs, and publish the audit database atomically.",
        epilog=EXAMPLES["run"],
        formatter_class=fmt,
    )
    # --- engine options (Spark engine: jobs/spark) ---------------------------------
    # --input/--out/--db are kept as text: with --engine spark they may be URIs.
    p.add_argument("--input", required=True, help="directory (or, with Spark, URI) of extracts")
    p.add_argument("--out", required=True, help="output directory (or, with Spark, URI)")
    p.add_argument("--db", help="audit database (default: OUT/audit.duckdb)")
    p.add_argument("--config", type=Path, help="TOML configuration file")
    p.add_argument(
        "--rehash",
        action="store_true",
        help="compute every input file's SHA-256 again, even when its path, size and "
        "modification time are those the previous run recorded",
    )
    p.add_argument(
        "--decisions",
        type=Path,
        metavar="FILE",
        help="the reviewers' decisions CSV (finding_id, decision, reviewer, decided_on, "
        "expires_on, recovered_amount, note); overrides [review] decisions",
    )
    p.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where the audit runs: duckdb (this machine, default) or spark "
        "(pip install 'claims-audit[spark]' and a Java runtime)",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master for --engine spark (default local[2]; e.g. spark://host:7077, yarn)",
    )
    # --- end engine options -------------------------------------------------------
    _log_options(p)

    p = sub.add_parser(
        "demo",
        help="generate a synthetic data set and audit it",
        description="Generate a realistic synthetic data set with planted violations "
        "and audit it twice against one database: first as the extract stood a year "
        "before its last load (outputs in OUT/earlier), then whole, so the report "
        "compares the run with the previous one.",
        epilog=EXAMPLES["demo"],
        formatter_class=fmt,
    )
    p.add_argument("--out", type=Path, default=DEFAULT_DEMO_OUT, help="output directory")
    p.add_argument("--lines", type=int, default=DEMO_LINES, help="medical claim lines")
    _log_options(p)

    p = sub.add_parser(
        "generate",
        help="write a synthetic Tuva-layout data set with planted violations",
        description="Write synthetic extracts (full Tuva width) and expected_findings.csv.",
        epilog=EXAMPLES["generate"],
        formatter_class=fmt,
    )
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--lines", required=True, type=int, help="medical claim lines")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--nights",
        type=int,
        metavar="K",
        help="write the history as OUT/night-0 and K nightly extracts OUT/night-1 .. "
        "OUT/night-K (one folder per table, one file per load date), each with its answer key",
    )

    p = sub.add_parser(
        "query",
        help="read-only SQL on the audit database",
        description="Run one SQL statement on the audit database, read-only.",
        epilog=EXAMPLES["query"],
        formatter_class=fmt,
    )
    p.add_argument("sql", help="the SQL statement")
    p.add_argument("--db", type=Path, help="audit database")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = sub.add_parser(
        "rules",
        help="the rule catalog",
        description="List the rules (id, version, title, severity, citation, parameters), "
        "or print one rule's SQL with the parameter values bound.",
        epilog=EXAMPLES["rules"],
        formatter_class=fmt,
    )
    p.add_argument("--show", metavar="RULE", help="print this rule's SQL, parameters bound")
    p.add_argument("--config", type=Path, help="bind the parameters of this configuration")
    _review_parsers(sub, fmt)
    return parser


def _review_parsers(sub: argparse._SubParsersAction, fmt: type[argparse.HelpFormatter]) -> None:
    """`sample` and `estimate` (jobs/review/sample.py, estimate.py)."""
    p = sub.add_parser(
        "sample",
        help="draw a stratified random review sample of flagged (or audited) lines",
        description="Draw a stratified random sample of the latest successful run's audited "
        "ESI lines for medical-record review, store its design and frame in the database, "
        "and write the reviewers' CSV file.",
        epilog=EXAMPLES["sample"],
        formatter_class=fmt,
    )
    p.add_argument("--db", type=Path, help=DB_HELP)
    p.add_argument("--size", required=True, type=int, help="lines to sample")
    p.add_argument("--strata", type=int, default=3, help="strata by paid amount (default 3)")
    p.add_argument("--seed", type=int, help="random seed (default: a new one, printed)")
    p.add_argument(
        "--frame",
        choices=("flagged", "audited"),
        default="flagged",
        help="lines with a fail finding (default) or every audited line",
    )
    p.add_argument("--out", required=True, type=Path, help="the sample file to write (CSV)")

    p = sub.add_parser(
        "estimate",
        help="estimate the overpayment from a reviewed sample",
        description="Validate a reviewed sample file and extrapolate its overpayments to the "
        "sample's frame: stratified expansion estimate, standard error, 90% confidence limits "
        "(estimate.json, estimate.html, table review_estimates).",
        epilog=EXAMPLES["estimate"],
        formatter_class=fmt,
    )
    p.add_argument("--db", type=Path, help=DB_HELP)
    p.add_argument("--sample", required=True, metavar="SAMPLE_ID", help="the sample's id")
    p.add_argument("--results", required=True, type=Path, help="the reviewed sample file")
    p.add_argument("--out", type=Path, help="output directory (default ./ESTIMATE_ID)")


def _log_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-json", action="store_true", help="JSON lines on stderr")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            if args.engine == "spark":
                return _run_spark(
                    args.input,
                    args.out,
                    args.db,
                    args.config,
                    args.log_json,
                    args.spark_master,
                    args.decisions,
                )
            if args.spark_master:
                raise InputError("--spark-master needs --engine spark")
            db = Path(args.db) if args.db else None
            return _run(
                Path(args.input),
                Path(args.out),
                db,
                args.config,
                args.log_json,
                args.decisions,
                args.rehash,
            )
        if args.command == "demo":
            return _demo(args.out, args.lines, args.log_json)
        if args.command == "generate":
            return _generate(args.out, args.lines, args.seed, args.format, args.nights)
        if args.command == "query":
            from jobs.query import run_query

            return run_query(_query_db(args.db), args.sql, args.format, sys.stdout)
        if args.command == "rules":
            return _rules(args.show, args.config)
        if args.command == "sample":
            return _sample(args)
        if args.command == "estimate":
            return _estimate(args)
    except AuditError as exc:
        print(f"claims-audit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("claims-audit: interrupted", file=sys.stderr)
        return 1
    return 1


def _run(
    input_dir: Path,
    out: Path,
    db: Path | None,
    config: Path | None,
    log_json: bool,
    decisions: Path | None = None,
    rehash: bool = False,
) -> int:
    from jobs.log import Log
    from jobs.pipeline import run
    from jobs.summary import print_summary

    log = Log("json" if log_json else "auto")
    result = run(input_dir, out, db, config, log, decisions_path=decisions, rehash=rehash)
    if result.exit_code:
        print(f"claims-audit: {result.message}", file=sys.stderr)
    print_summary(result, sys.stdout)
    return result.exit_code


def _run_spark(
    input_uri: str,
    out: str,
    db: str | None,
    config: Path | None,
    log_json: bool,
    master: str | None,
    decisions: Path | None = None,
) -> int:
    """`run --engine spark`: a SparkSession for `master` (default local[2]), then jobs.spark.run."""
    from jobs.log import Log
    from jobs.spark import run as spark_run
    from jobs.spark.session import DEFAULT_MASTER, build_session
    from jobs.summary import print_summary

    log = Log("json" if log_json else "auto")
    session = build_session(master or DEFAULT_MASTER)
    result = spark_run(
        session, input_uri, out, config_path=config, db_path=db, log=log, decisions_path=decisions
    )
    if result.exit_code:
        print(f"claims-audit: {result.message}", file=sys.stderr)
    print_summary(result, sys.stdout)
    return result.exit_code


def _demo(out: Path, lines: int, log_json: bool) -> int:
    """Generate the demo data, audit its earlier extract (the first night, dated a year
    before, outputs in OUT/earlier), then the whole set against the same database with
    the reviewers' decisions on the first run's findings (outputs in OUT)."""
    from jobs.log import Log
    from jobs.pipeline import run
    from jobs.review.lifecycle import run_date
    from jobs.summary import print_summary
    from jobs.synthetic.demo import earlier_run_date, make_demo_data, write_demo_decisions
    from jobs.validation.gx_duckdb import preload

    first_date = earlier_run_date(run_date())  # the second run's date: today, or the variable
    preload()  # Great Expectations' import overlaps the data generation
    print(f"generating {lines:,} synthetic claim lines in {out / 'input'} ...", file=sys.stderr)
    data = make_demo_data(out, lines)
    print(
        f"first run: the extract as it stood on {data.cutoff} ({data.earlier}) ...",
        file=sys.stderr,
    )
    first = run(
        data.earlier,
        out / "earlier",
        out / "audit.duckdb",
        None,
        Log("json" if log_json else "auto"),
        run_date=first_date,
    )
    if first.exit_code:
        print(f"claims-audit: {first.message}", file=sys.stderr)
        print_summary(first, sys.stdout)
        return first.exit_code
    decisions = write_demo_decisions(
        out / "earlier" / "exceptions.parquet",
        out / "decisions.csv",
        first_date,
    )
    print(
        f"first run {first.run_id}: {first.manifest['findings']['total']:,} findings "
        f"(report {out / 'earlier' / 'report.html'}); now the whole data set, with the "
        f"reviewers' decisions in {decisions} ...",
        file=sys.stderr,
    )
    return _run(data.latest, out, None, None, log_json, decisions)


def _generate(out: Path, lines: int, seed: int, fmt: str, nights: int | None = None) -> int:
    from jobs.synthetic.generator import generate

    if lines < 1:
        raise InputError("--lines must be at least 1")
    if nights is not None:
        return _generate_nights(out, lines, seed, fmt, nights)
    result = generate(
        out, lines=lines, seed=seed, fmt=fmt, progress=lambda m: print(m, file=sys.stderr)
    )
    print(f"wrote {out}: " + ", ".join(f"{k} {v:,}" for k, v in result.row_counts.items()))
    print(f"expected findings: {result.n_expected_findings:,} ({out / 'expected_findings.csv'})")
    return 0


def _generate_nights(out: Path, lines: int, seed: int, fmt: str, nights: int) -> int:
    from jobs.synthetic.nights import generate_nights

    if nights < 1:
        raise InputError("--nights must be at least 1")
    result = generate_nights(
        out, lines, nights, seed=seed, fmt=fmt, progress=lambda m: print(m, file=sys.stderr)
    )
    for n in result.nights:
        config = f"; run with --config {n.config}" if n.config else ""
        print(
            f"wrote {n.path}: new medical lines {n.new_rows.get('medical_claim', 0):,}, "
            f"expected findings {n.expected_findings:,}{config}"
        )
    return 0


def _query_db(db: Path | None) -> Path:
    if db is not None:
        return db
    env = os.environ.get("CLAIMS_AUDIT_DB")
    return Path(env) if env else DEFAULT_DEMO_OUT / "audit.duckdb"


def _rules(show: str | None, config_path: Path | None) -> int:
    from jobs.audit.catalog import bind_sql, load_rules
    from jobs.config import load_config

    config = load_config(config_path)
    rules = load_rules()
    if show:
        match = [r for r in rules if r.id == show]
        if not match:
            raise InputError(f"no rule {show!r}; rules: {', '.join(r.id for r in rules)}")
        rule = match[0]
        values = dict(config.parameters)
        values.setdefault("eligibility_supplied", True)
        print(bind_sql(rule.sql, values))
        return 0
    for r in rules:
        print(f"{r.id}  v{r.version}  [{r.severity}]  {r.title}")
        print(f"    citation:   {r.citation}")
        if r.parameters:
            bound = ", ".join(f"{p}={config.parameters.get(p, '(run fact)')}" for p in r.parameters)
            print(f"    parameters: {bound}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from jobs.review.sample import (
        ALLOCATION_METHOD,
        BOUNDARY_METHOD,
        SELECTION_METHOD,
        draw_sample,
    )

    db = _query_db(args.db)
    r = draw_sample(db, args.size, args.out, args.strata, args.seed, args.frame)

    print(f"sample {r.sample_id}: {r.sample_size:,} of {r.frame_lines:,} {r.frame_kind} lines")
    print(f"  frame: run {r.run_id}, {r.frame_lines:,} lines, paid ${r.frame_paid_amount:,.2f}")
    print(f"  seed: {r.seed} (the same database, frame, size, strata and seed give this sample)")
    print(f"  strata: {BOUNDARY_METHOD}")
    print(f"  allocation: {ALLOCATION_METHOD}")
    print(f"  selection: {SELECTION_METHOD}")
    print("  stratum  paid amount                    lines (N)  sampled (n)")
    for s in r.strata:
        d = s.as_dict()
        upper = (
            f"to under ${d['upper_bound']:,.2f}" if d["upper_bound"] is not None else "and above"
        )
        bounds = f"${d['lower_bound']:,.2f} {upper}"
        print(f"  {s.stratum:>7}  {bounds:<29}  {s.frame_lines:>9,}  {s.sample_lines:>11,}")
    for note in r.notes:
        print(f"  note: {note}")
    print(f"wrote {r.out}: fill in overpayment_amount (0 to the paid amount), reviewer, note;")
    print(f"then: claims-audit estimate --db {db} --sample {r.sample_id} --results {r.out}")
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from jobs.report.estimate_page import render_estimate
    from jobs.review.estimate import estimate

    r = estimate(_query_db(args.db), args.sample, args.results, args.out, render_estimate)
    print(f"estimate {r.estimate_id} of sample {args.sample}:")
    print(f"  {r.document['statement']}")
    for note in r.document["notes"]:
        print(f"  note: {note}")
    print(f"wrote {r.json_path} and {r.html_path}")
    return 0


def entry() -> None:
    """The ``claims-audit`` command: `main`, then leave without Python's teardown.

    By the time `main` returns, everything the command writes is closed, and a run's
    files are fsynced and published. Tearing down what Great Expectations imports
    (pandas, scipy, its pydantic models) would still take about 0.9 s of every run
    (issue 14: 5% of a 10M-line run and of a night), so once Great Expectations is loaded,
    or still being imported in the background (a run that failed early), the command
    flushes its two streams and exits with ``os._exit``. Code that imports
    jobs.cli and calls `main` keeps the normal exit."""
    code = main()
    gx = sys.modules.get("jobs.validation.gx_duckdb")  # imported by every run
    if "great_expectations" in sys.modules or (gx is not None and gx.preloading()):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: the normal exit reports it
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
