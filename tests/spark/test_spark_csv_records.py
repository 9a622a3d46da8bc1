"""Broken CSV files read the same on both engines (issue 16, item 2): a quote never closed
rejects its record only (Spark's reader, like DuckDB's, would swallow the rest of the
file), rows read are the file's real records, and a table's configured encoding is
decoded before parsing."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from parity import assert_same_audit, manifest

from jobs import pipeline
from jobs.log import Log

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def broken_input(tuva10: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("broken-csv")
    inp = root / "in"
    shutil.copytree(tuva10, inp)
    with open(tuva10 / "medical_claim.csv", newline="") as fh:
        table = list(csv.reader(fh))
    header, body = table[0] + ["social_security_number"], table[1:]
    body = [r + [f"999-00-{i:04d}"] for i, r in enumerate(body)]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i, r in enumerate(body):
        if i == 99:  # record 100: a quote opened and never closed
            out.write(",".join(r[:3]) + ',"' + ",".join(r[3:]) + "\n")
        elif i == 499:  # record 500: a quote opened in the last field
            out.write(",".join(r[:-1]) + ',"' + r[-1] + "\n")
        else:
            w.writerow(r)
    (inp / "medical_claim.csv").write_text(out.getvalue())
    names = "José,Nuñez\nZoë,Brontë\n"
    (inp / "practitioner.csv").write_bytes(
        ("npi,first_name,last_name\n1234567893," + names.replace("\n", "\n1245319599,", 1)).encode(
            "cp1252"
        )
    )
    config = root / "claims-audit.toml"
    config.write_text('[input.practitioner]\nencoding = "cp1252"\n')
    return inp, config


def test_broken_quotes_and_encodings_read_the_same_on_both_engines(
    spark, broken_input, tmp_path: Path
) -> None:
    from jobs.spark import run as spark_run

    inp, config = broken_input
    quiet = Log("plain", io.StringIO())
    duck = pipeline.run(inp, tmp_path / "duckdb", config_path=config, log=quiet)
    assert duck.exit_code == 0, duck.message
    result = spark_run(spark, str(inp), tmp_path / "spark", config_path=config, log=quiet)
    assert result.exit_code == 0, result.message
    duck_out, spark_out = tmp_path / "duckdb", tmp_path / "spark"
    assert_same_audit(duck_out, spark_out, duck_out / "audit.duckdb", spark_out / "audit.duckdb")

    med = next(f for f in manifest(spark_out)["inputs"] if f["table"] == "medical_claim")
    assert (med["rows_read"], med["rows_rejected"]) == (2075, 2)
    rejected = (spark_out / "rejected_rows.csv").read_text(encoding="utf-8")
    assert "(line 101)" in rejected and "(line 501)" in rejected
    assert "999-00-" not in rejected
    prac = next(f for f in manifest(spark_out)["inputs"] if f["table"] == "practitioner")
    assert (prac["rows_read"], prac["rows_rejected"]) == (2, 0)
