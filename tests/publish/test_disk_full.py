"""A full disk is the machine's problem, not the input's (issue 16, item 3): exit 1 with one
line naming the path and what ran out, for the database (`--db`), the outputs (`--out`)
and the spill directory (`[engine] temp_directory`); nothing published, nothing left.

The disk is a real 2 MB tmpfs where this machine lets the tests mount one (as root);
elsewhere the run's fault-injection hook raises the error the full disk raises there
(jobs/faults.py), so the classification is tested either way and nothing is skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error


@dataclass
class Disk:
    path: Path
    mounted: bool

    def fill(self, leave: int) -> None:
        """Leave about `leave` bytes free (a real disk only)."""
        if self.mounted:
            stat = os.statvfs(self.path)
            free = stat.f_bavail * stat.f_frsize
            (self.path / "filler").write_bytes(b"\0" * max(free - leave, 0))

    def fault(self, spec: str) -> dict[str, str]:
        """The environment that makes the run fail as on a full disk (the hook, when the
        disk is not real)."""
        return {} if self.mounted else {"CLAIMS_AUDIT_FAULT": spec}


@pytest.fixture
def disk(tmp_path) -> Iterator[Disk]:
    path = tmp_path / "disk"
    path.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    yield Disk(path, mount.returncode == 0)
    if mount.returncode == 0:
        subprocess.run(["umount", "-l", str(path)], check=False)


def message(res) -> str:
    return next(x for x in res.stderr.splitlines() if x.startswith("claims-audit:"))


def no_litter(*folders: Path) -> bool:
    return not [p for f in folders if f.exists() for p in f.iterdir() if ".tmp-" in p.name]


def test_db_on_a_full_disk_exits_1_naming_it(disk, tmp_path, tuva10, cli):
    """It used to exit 2 blaming pharmacy_claim.csv ("cannot be read as CSV")."""
    disk.fill(leave=300_000)
    db = disk.path / "audit.duckdb"
    build = disk.path / ".audit.duckdb.building-x.wal"
    res = cli(
        "run", "--input", tuva10, "--out", tmp_path / "out", "--db", db,
        env=disk.fault(f"load:duckdb-enospc@{build}"),
    )  # fmt: skip
    assert_one_line_error(res, "out of disk space writing", str(disk.path), code=1)
    assert ".csv" not in message(res)  # no input file blamed
    assert not db.exists() and not list(disk.path.glob(".audit.duckdb.building-*"))


def test_out_on_a_full_disk_exits_1_naming_it(disk, tmp_path, tuva10, cli):
    disk.fill(leave=40_000)
    out = disk.path / "out"
    res = cli(
        "run", "--input", tuva10, "--out", out, "--db", tmp_path / "db" / "audit.duckdb",
        env=disk.fault(f"report:enospc@{out}/.report.html.tmp-x"),
    )  # fmt: skip
    assert_one_line_error(res, "out of disk space writing", str(out), code=1)
    assert not (out / "exceptions.csv").exists() and no_litter(out)
    assert not (tmp_path / "db" / "audit.duckdb").exists()


def test_a_full_spill_directory_exits_1_naming_it(disk, tmp_path, cli):
    """It used to exit 2 blaming the medical-claim file."""
    inp = tmp_path / "in"
    inp.mkdir()
    header = "claim_id,claim_line_number,person_id,claim_start_date,hcpcs_code,rendering_npi,"
    header += "diagnosis_code_1,claim_type,paid_amount,allowed_amount," + ",".join(
        f"diagnosis_code_{i}" for i in range(2, 26)
    )
    line = "{i},1,p{i},2023-01-01,99213,1234567893,M5412,professional,80.00,100.00" + ",M5412" * 24
    with open(inp / "medical_claim.csv", "w") as fh:
        fh.write(header + "\n")
        fh.writelines(line.format(i=i) + "\n" for i in range(120_000))
    config = tmp_path / "claims-audit.toml"
    config.write_text(
        f'[engine]\nmemory_limit = "40MB"\nthreads = 2\ntemp_directory = "{disk.path}"\n'
    )
    res = cli(
        "run", "--input", inp, "--out", tmp_path / "out", "--config", config,
        env=disk.fault("load:spill-full"),
    )  # fmt: skip
    assert_one_line_error(res, "out of disk space in the spill directory", str(disk.path), code=1)
    assert "medical_claim.csv" not in message(res)
    assert not list(disk.path.glob("claims-audit-*"))  # the run's spill folder is removed
