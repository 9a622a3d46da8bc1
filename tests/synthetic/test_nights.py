"""`claims-audit generate --nights K` (issues 14 and 15): the layout, the shared files, the
re-issued file and the answer keys of the nightly extracts. Running them through the audit
is tests/review (DuckDB) and tests/spark/test_spark_nights.py."""

from __future__ import annotations

import csv
import hashlib

import duckdb
import pytest

from jobs.synthetic.generator import LAYOUTS, generate
from jobs.synthetic.nights import NIGHT_TABLES, generate_nights, load_date

LINES = 6_000


def rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module", params=["parquet", "csv"])
def generated(request, tmp_path_factory):
    fmt = request.param
    root = tmp_path_factory.mktemp(f"nights-{fmt}")
    result = generate_nights(root / "nights", LINES, 3, seed=9, fmt=fmt)
    return fmt, root, result


def test_night_0_is_the_data_set_generate_writes(generated):
    """Same size and seed: the history's files are generate's, byte for byte."""
    fmt, root, result = generated
    single = generate(root / "single", LINES, seed=9, fmt=fmt)
    for table, path in single.paths.items():
        if table in ("expected_findings", "readme"):
            continue
        if table in LAYOUTS:
            moved = result.out_dir / "night-0" / table / f"{load_date(0).isoformat()}.{fmt}"
        else:
            moved = result.out_dir / "night-0" / path.name
        assert moved.read_bytes() == path.read_bytes(), table
    key = {(r["claim_id"], r["claim_line_number"], r["rule_id"], r["status"])
           for r in rows(single.paths["expected_findings"])}  # fmt: skip
    night0 = rows(result.out_dir / "night-0" / "expected_findings.csv")
    assert {
        (r["claim_id"], r["claim_line_number"], r["rule_id"], r["status"]) for r in night0
    } == key


def test_each_night_links_the_previous_files_and_adds_one_per_table(generated):
    fmt, _, result = generated
    for k in range(1, 4):
        night, previous = result.out_dir / f"night-{k}", result.out_dir / f"night-{k - 1}"
        reissued = night / "medical_claim" / f"{load_date(k - 1).isoformat()}.{fmt}"
        for old in previous.glob(f"*/*.{fmt}"):
            new = night / old.parent.name / old.name
            assert new.is_file()
            if new == reissued and k >= 2:
                assert new.stat().st_ino != old.stat().st_ino  # a new file, same name
            else:
                assert new.stat().st_ino == old.stat().st_ino  # shared, not rewritten
        added = {p.parent.name for p in night.glob(f"*/{load_date(k).isoformat()}.{fmt}")}
        assert added == set(NIGHT_TABLES)
        assert len(list(night.glob(f"*/*.{fmt}"))) == len(list(previous.glob(f"*/*.{fmt}"))) + 4


def _read(path, fmt: str) -> str:
    if fmt == "parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', all_varchar = true, header = true)"


def test_a_reissued_file_drops_exactly_the_withdrawn_claims(generated):
    fmt, _, result = generated
    for k in (2, 3):
        withdrawn = {
            r["claim_id"]
            for r in rows(result.out_dir / f"night-{k}" / "expected_events.csv")
            if r["event"] == "withdrawn"
        }
        assert withdrawn
        name = f"{load_date(k - 1).isoformat()}.{fmt}"
        before = _read(result.out_dir / f"night-{k - 1}" / "medical_claim" / name, fmt)
        after = _read(result.out_dir / f"night-{k}" / "medical_claim" / name, fmt)
        con = duckdb.connect()
        gone = con.execute(
            f"select distinct claim_id from "
            f"(select * from {before} except all select * from {after})"
        ).fetchall()
        added = con.execute(
            f"select count(*) from (select * from {after} except all select * from {before})"
        ).fetchone()[0]
        con.close()
        assert {g[0] for g in gone} == withdrawn and added == 0


def test_answer_keys_use_the_contracts_finding_id(generated):
    _, _, result = generated
    for k in range(4):
        for r in rows(result.out_dir / f"night-{k}" / "expected_findings.csv"):
            text = "\x1f".join(
                [r["data_source"], r["claim_id"], r["claim_line_number"], r["rule_id"]]
            )
            assert r["finding_id"] == hashlib.sha256(text.encode()).hexdigest()[:16]
    last = rows(result.out_dir / "night-3" / "expected_lifecycle.csv")
    findings = rows(result.out_dir / "night-3" / "expected_findings.csv")
    assert {r["finding_id"] for r in last if r["state"] == "open"} == {
        r["finding_id"] for r in findings
    }
    # every resolution kind occurs (rule_changed on the parameter night: the night after
    # runs with the defaults again and those findings come back)
    resolved = {
        r["resolution"]
        for k in range(1, 4)
        for r in rows(result.out_dir / f"night-{k}" / "expected_lifecycle.csv")
        if r["state"] == "resolved"
    }
    assert resolved == {"passes_now", "not_audited_now", "not_in_extract", "rule_changed"}


def test_a_night_is_small_against_its_history(generated):
    """The ordinary claims of a night are about 0.3% of the history's lines (at this tiny
    size the night's new ESI persons, one per scenario, dominate)."""
    fmt, _, result = generated
    con = duckdb.connect()
    for k in range(1, 4):
        path = result.out_dir / f"night-{k}" / "medical_claim" / f"{load_date(k).isoformat()}.{fmt}"
        n = con.execute(f"select count(*) from {_read(path, fmt)}").fetchone()[0]
        assert n == result.nights[k].new_rows["medical_claim"]
        assert round(LINES * 0.003) < n < LINES * 0.5
    con.close()


def test_the_parameter_night_has_its_configuration(generated):
    _, _, result = generated
    configs = [n.night for n in result.nights if n.config]
    assert configs == [2]
    assert "imaging_accepts_emg = true" in result.nights[2].config.read_text()
