"""End to end on generated data (issue 17): run, sample, review with the generator's
truth, estimate; the numbers recomputed from the reviewed file alone; the review tables
survive the next nightly run; readers never blocked; the 90% limits cover the truth."""

from __future__ import annotations

import csv
import fcntl
import json
import math
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import sync_playwright
from scipy import stats

from jobs.review.estimate import estimate
from jobs.review.sample import draw_sample
from tests.conftest import assert_one_line_error, run_cli
from tests.report.browser import launch, open_report
from tests.review.coverage import fill, measure, planted_fails, summary, true_total

REVIEW_TABLES = ("review_samples", "review_sample_frames", "review_estimates")


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> tuple[Path, Path]:
    """A generated data set (20,000 lines) and its audited output directory."""
    root = tmp_path_factory.mktemp("night")
    res = run_cli("generate", "--out", root / "data", "--lines", "20000", "--seed", "1")
    assert res.returncode == 0, res.stderr
    res = run_cli("run", "--input", root / "data", "--out", root / "out")
    assert res.returncode == 0, res.stderr[-2000:]
    return root / "data", root / "out"


@pytest.fixture
def audit(night, tmp_path) -> tuple[Path, Path]:
    """A private copy of the audited night: (data directory, database)."""
    data, out = night
    shutil.copytree(out, tmp_path / "out")
    return data, tmp_path / "out" / "audit.duckdb"


def from_the_file_alone(path: Path) -> dict[str, float]:
    """The estimate recomputed from the reviewed sample file only (its stratum, N, n and
    amount columns), with plain formulas and SciPy's t."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    strata: dict[str, dict] = {}
    for r in rows:
        s = strata.setdefault(r["stratum"], {"N": int(r["stratum_size"]), "ys": []})
        assert int(r["stratum_sample_size"]) == sum(x["stratum"] == r["stratum"] for x in rows)
        s["ys"].append(float(r["overpayment_amount"]))
    total = sum(s["N"] * sum(s["ys"]) / len(s["ys"]) for s in strata.values())
    var = 0.0
    for s in strata.values():
        n, big_n, ys = len(s["ys"]), s["N"], s["ys"]
        if n < big_n:
            mean = sum(ys) / n
            var += big_n**2 * (1 - n / big_n) * sum((y - mean) ** 2 for y in ys) / (n - 1) / n
    df = len(rows) - len(strata)
    se = math.sqrt(var)
    return {
        "total": total,
        "se": se,
        "df": df,
        "lower_two": total - stats.t.ppf(0.95, df) * se,
        "upper_two": total + stats.t.ppf(0.95, df) * se,
        "lower_one": total - stats.t.ppf(0.90, df) * se,
    }


def test_sample_review_estimate_with_the_command_line(audit, tmp_path, cli):
    data, db = audit
    res = cli("sample", "--db", db, "--size", "30", "--seed", "7", "--frame", "audited",
              "--out", tmp_path / "review" / "sample.csv")  # fmt: skip
    assert res.returncode == 0, res.stderr
    sample_id = re.search(r"sample (sample-\S+):", res.stdout).group(1)
    assert "seed: 7" in res.stdout and "claims-audit estimate" in res.stdout
    reviewed = tmp_path / "review" / "reviewed.csv"
    fill(tmp_path / "review" / "sample.csv", planted_fails(data), reviewed)
    res = cli("estimate", "--db", db, "--sample", sample_id, "--results", reviewed,
              "--out", tmp_path / "estimate")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "We are 90% confident that the overpayment" in res.stdout
    doc = json.loads((tmp_path / "estimate" / "estimate.json").read_text())
    ref = from_the_file_alone(reviewed)
    raw = doc["unclipped"]
    assert raw["estimated_overpayment"] == pytest.approx(ref["total"], abs=1e-6)
    assert doc["standard_error"] == pytest.approx(ref["se"], rel=1e-9)
    assert doc["degrees_of_freedom"] == ref["df"] == 30 - doc["n_strata"]
    assert raw["lower_90_two_sided"] == pytest.approx(ref["lower_two"], abs=1e-6)
    assert raw["upper_90_two_sided"] == pytest.approx(ref["upper_two"], abs=1e-6)
    assert raw["lower_90_one_sided"] == pytest.approx(ref["lower_one"], abs=1e-6)
    assert doc["frame"]["kind"] == "audited" and doc["sample_lines"] == 30
    truth = float(true_total(db, sample_id, planted_fails(data)))
    assert 0 < truth < doc["frame_paid_amount"]  # some audited lines are not overpaid
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute(
        "select estimate_id, estimated_overpayment, lower_90_one_sided, estimate "
        "from review_estimates"
    ).fetchall()
    frame_lines = con.execute(
        "select count(*) from review_sample_frames where sample_id = ?", [sample_id]
    ).fetchone()[0]
    audited = con.execute(
        "select count(*) from mart_esi_lines where exclusion_reason is null "
        "and audited_paid_amount > 0"
    ).fetchone()[0]
    con.close()
    assert frame_lines == audited == doc["frame_lines"]
    ((estimate_id, point, lower, stored_doc),) = stored
    assert estimate_id == doc["estimate_id"]
    assert (float(point), float(lower)) == (
        doc["estimated_overpayment"],
        doc["lower_90_one_sided"],
    )
    assert json.loads(stored_doc) == doc
    html = (tmp_path / "estimate" / "estimate.html").read_text()
    assert "Content-Security-Policy" in html and "<script" not in html
    assert not re.search(r"https?://", html)
    assert f"at least ${doc['lower_90_one_sided']:,.2f}" in html
    assert html.count('<th scope="row">') >= doc["n_strata"]


def test_the_next_run_keeps_the_review_tables_and_the_stored_frame(audit, tmp_path, cli):
    """A sample and an estimate survive the next nightly run (which builds a new database
    and swaps it in), and the estimate is computed on the stored frame, not on the new
    run's lines."""
    data, db = audit
    r = draw_sample(db, 20, tmp_path / "s.csv", seed=3)
    fill(tmp_path / "s.csv", planted_fails(data), tmp_path / "r.csv")
    first = estimate(db, r.sample_id, tmp_path / "r.csv", tmp_path / "e1").document

    def tables() -> dict[str, list]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return {
                t: sorted(map(str, con.execute(f"select * from {t}").fetchall()))
                for t in REVIEW_TABLES
            }
        finally:
            con.close()

    before = tables()
    assert all(before.values())
    other = tmp_path / "other-night"
    assert cli("generate", "--out", other, "--lines", "8000", "--seed", "2").returncode == 0
    # a smaller extract than the first night's: the volume check must be told it is right
    allow = tmp_path / "allow-drop.toml"
    allow.write_text("[validation]\nmax_volume_drop = 1.0\n")
    res = cli("run", "--input", other, "--out", tmp_path / "night2", "--db", db, "--config", allow)
    assert res.returncode == 0, res.stderr[-2000:]
    assert tables() == before
    con = duckdb.connect(str(db), read_only=True)
    (run_id,) = con.execute("select distinct run_id from mart_esi_lines").fetchone()
    con.close()
    assert run_id != r.run_id
    again = estimate(db, r.sample_id, tmp_path / "r.csv", tmp_path / "e2").document
    for key in ("frame", "estimated_overpayment", "standard_error", "lower_90_one_sided"):
        assert again[key] == first[key], key
    assert again["run_id"] == r.run_id


READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print("open", con.execute("select count(*) from findings").fetchone()[0], flush=True)
    sys.stdin.readline()
    print("still", con.execute("select count(*) from findings").fetchone()[0], flush=True)
    """
)


def test_readers_are_not_blocked_and_a_second_writer_exits_1(audit, tmp_path, cli):
    _, db = audit
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        opened = reader.stdout.readline().split()
        assert opened[0] == "open"
        res = cli("sample", "--db", db, "--size", "10", "--seed", "1", "--out", tmp_path / "s.csv")
        assert res.returncode == 0, res.stderr
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == ["still", opened[1]]
    finally:
        reader.wait(timeout=60)
    assert reader.returncode == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from review_samples").fetchone()[0] == 1
    con.close()

    before = db.read_bytes()
    with open(db.with_name(db.name + ".lock"), "a+") as held:  # a nightly run holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        res = cli("sample", "--db", db, "--size", "10", "--out", tmp_path / "t.csv")
        assert_one_line_error(res, "locked", code=1)
    assert db.read_bytes() == before and not (tmp_path / "t.csv").exists()


def test_the_90_percent_limits_cover_the_truth_for_most_seeds(audit, tmp_path):
    """The fast version of the coverage measurement (tests/review/coverage.py; the README
    states the 200-seed figure): 12 seeds, audited frame, 30 of 148 lines."""
    data, db = audit
    trials = measure(db, data, tmp_path, range(1, 13), 30, "audited")
    covered = sum(t.covered_raw for t in trials)
    below = sum(t.lower_holds for t in trials)
    assert covered >= 9 and below >= 9, summary(trials)
    assert all(t.document["sample_lines"] == 30 for t in trials)


def test_the_estimate_page_loads_offline_with_its_style(audit, tmp_path):
    data, db = audit
    r = draw_sample(db, 15, tmp_path / "s.csv", seed=5)
    fill(tmp_path / "s.csv", planted_fails(data), tmp_path / "r.csv")
    from jobs.report.estimate_page import render_estimate

    done = estimate(db, r.sample_id, tmp_path / "r.csv", tmp_path / "e", render_estimate)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page, log = open_report(browser.new_context(), done.html_path, scripts=False)
            statement = page.locator("#statement")
            assert "We are 90% confident" in statement.inner_text()
            assert statement.evaluate("e => getComputedStyle(e).fontWeight") == "600"
            rows = page.locator("#strata-table tbody tr")
            assert rows.count() == done.document["n_strata"]
        finally:
            browser.close()
    assert log.errors == [] and log.requests == []
    hostile = {
        **done.document,
        "results_file": "<script>alert(1)</script>.csv",
        "design": {**done.document["design"], "notes": ['<img src=x onerror="alert(2)">']},
    }
    html = render_estimate(hostile)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in html
