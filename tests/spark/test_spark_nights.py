"""Findings across nights on Spark (issue 15): the three generated nights, run with
`--engine spark` on one database with the same decisions file, give exactly the answer
keys (findings, finding ids, lifecycle) and the same review states as the DuckDB engine's
rules for them."""

from __future__ import annotations

import io

import pytest

from jobs.log import Log
from jobs.synthetic.nights import generate_nights
from tests.review.conftest import (
    LINES,
    NIGHTS,
    RUN_DATES,
    SEED,
    Nights,
    _choose,
    assert_findings_match_the_key,
    assert_lifecycle_matches_the_key,
    decisions_for,
    read_csv,
    snapshot,
    write_csv,
)
from tests.review.test_lifecycle_nights import contract_finding_id

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_nights(spark, tmp_path_factory: pytest.TempPathFactory) -> tuple[Nights, list[dict]]:
    from jobs.spark import run as spark_run

    root = tmp_path_factory.mktemp("spark-nights")
    generate_nights(root / "data", LINES, NIGHTS, seed=SEED)
    nights = Nights(root / "data", root / "db" / "audit.duckdb", root / "decisions.csv",
                    _choose(root / "data"))  # fmt: skip
    snapshots = []
    mp = pytest.MonkeyPatch()
    try:
        for night in range(NIGHTS + 1):
            mp.setenv("CLAIMS_AUDIT_RUN_DATE", RUN_DATES[night])
            decisions = None
            if night:
                write_csv(nights.decisions_file, decisions_for(night, nights.chosen))
                decisions = nights.decisions_file
            config = root / "data" / f"night-{night}" / "claims-audit.toml"
            out = root / "out" / f"night-{night}"
            result = spark_run(
                spark,
                str(root / "data" / f"night-{night}"),
                out,
                config_path=config if config.exists() else None,
                db_path=nights.db,
                log=Log("plain", io.StringIO()),
                decisions_path=decisions,
            )
            assert result.exit_code == 0, result.message
            snap = snapshot(nights.db)
            snap["findings"] = read_csv(out / "exceptions.csv")
            snapshots.append(snap)
    finally:
        mp.undo()
    return nights, snapshots


def test_spark_nights_give_the_answer_keys(spark_nights) -> None:
    nights, snapshots = spark_nights
    for night, snap in enumerate(snapshots):
        assert_findings_match_the_key(nights, night, snap["findings"])
        for f in snap["findings"]:
            assert f["finding_id"] == contract_finding_id(
                f["data_source"], f["claim_id"], int(f["claim_line_number"]), f["rule_id"]
            )
        if night:
            assert_lifecycle_matches_the_key(nights, night, snap["lifecycle"])


def test_spark_decisions_give_the_same_review_states(spark_nights) -> None:
    nights, snapshots = spark_nights
    states = [{fid: snap["lifecycle"][fid]["review_state"] for fid in nights.chosen.values()}
              for snap in snapshots[1:]]  # fmt: skip
    c = nights.chosen
    assert states[0][c["waived_expiring"]] == "waived"
    assert states[1][c["waived_expiring"]] == "open"
    assert states[1][c["education_then_confirmed"]] == "confirmed"
    assert [s[c["confirmed_reopened"]] for s in states] == ["confirmed"] * 3
    assert states[2][c["waived"]] == "open"
    assert len(snapshots[1]["rejected"]) == 9
