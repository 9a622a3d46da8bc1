"""An extract that shrank overnight is unusable input, not a quiet night (issue 16): an
empty medical_claim, or a table whose rows read fell by more than max_volume_drop against
the previous successful run, exits 2 unless the configuration allows it; the manifest and
the report show each table's volume against the previous run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jobs.errors import InputError
from jobs.ingest.discover import SourceFile
from jobs.ingest.volume import check_volume, volume_report
from tests.conftest import assert_one_line_error


def files(**rows: int) -> dict[str, list[SourceFile]]:
    return {t: [SourceFile(t, Path(f"/in/{t}.csv"), "csv", rows_read=n)] for t, n in rows.items()}


PREVIOUS = {
    "run_id": "R1",
    "inputs": [
        {"table": "medical_claim", "rows_read": 600},
        {"table": "medical_claim", "rows_read": 400},
        {"table": "pharmacy_claim", "rows_read": 100},
    ],
}


def test_the_drop_limit_is_a_boundary():
    at_limit = volume_report(files(medical_claim=500, pharmacy_claim=100), PREVIOUS)
    assert at_limit["medical_claim"] == {
        "rows_read": 500, "supplied": True, "previous_rows_read": 1000,
        "previous_run_id": "R1", "change": -0.5,
    }  # fmt: skip
    check_volume(at_limit, 0.5, {})  # exactly half: allowed
    below = volume_report(files(medical_claim=499, pharmacy_claim=100), PREVIOUS)
    with pytest.raises(InputError, match=r"medical_claim: 499 rows read, 50% fewer .* R1"):
        check_volume(below, 0.5, {})
    check_volume(below, 1.0, {})  # the configuration allows any drop


def test_a_table_no_longer_supplied_fell_to_zero():
    report = volume_report(files(medical_claim=1000), PREVIOUS)
    assert report["pharmacy_claim"]["supplied"] is False
    with pytest.raises(InputError, match="pharmacy_claim: 0 rows read \\(not supplied"):
        check_volume(report, 0.5, {})


def test_the_first_run_and_new_tables_have_nothing_to_compare():
    report = volume_report(files(medical_claim=3, eligibility=5), None)
    assert report["eligibility"]["previous_rows_read"] is None
    check_volume(report, 0.0, {})


def test_an_empty_medical_claim_is_refused_whatever_the_setting():
    with pytest.raises(InputError, match="medical_claim .*no rows, only a header"):
        check_volume(volume_report(files(medical_claim=0), None), 1.0, files(medical_claim=0))


def test_volume_end_to_end(tmp_path, tuva10, cli):
    """A night whose medical_claim lost 60% of its lines stops with exit 2; allowed by the
    configuration it runs, and the manifest and the report show the drop."""
    out, db = tmp_path / "out", tmp_path / "audit.duckdb"
    assert cli("run", "--input", tuva10, "--out", out, "--db", db).returncode == 0

    small = tmp_path / "small"
    shutil.copytree(tuva10, small)
    lines = (tuva10 / "medical_claim.csv").read_text().splitlines()
    kept = lines[: 1 + (len(lines) - 1) * 4 // 10]
    (small / "medical_claim.csv").write_text("\n".join(kept) + "\n")
    before = (out / "exceptions.csv").read_bytes()
    res = cli("run", "--input", small, "--out", out, "--db", db)
    assert_one_line_error(res, "medical_claim:", "max_volume_drop")
    assert (out / "exceptions.csv").read_bytes() == before

    config = tmp_path / "allow.toml"
    config.write_text("[validation]\nmax_volume_drop = 1.0\n")
    res = cli("run", "--input", small, "--out", out, "--db", db, "--config", config)
    assert res.returncode == 0, res.stderr[-2000:]
    volume = json.loads((out / "manifest.json").read_text())["volume"]["medical_claim"]
    assert volume["rows_read"] == len(kept) - 1 and volume["previous_rows_read"] == 2075
    report = (out / "report.html").read_text()
    assert 'id="volume-table"' in report and "2,075" in report

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "medical_claim.csv").write_text(lines[0] + "\n")
    res = cli("run", "--input", empty, "--out", out, "--db", db, "--config", config)
    assert_one_line_error(res, "medical_claim", "no rows")
