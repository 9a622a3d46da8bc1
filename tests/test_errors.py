"""Every error is classified (issue 16, item 3): the machine's failures exit 1 with one line
naming the path and what ran out; only the input's problems exit 2."""

from __future__ import annotations

import errno

import duckdb

from jobs import faults
from jobs.errors import AuditError, EnvironmentFailure, InputError, classify, environment_failure

DISK_FULL = 'IO Error: Could not write file "/data/.audit.duckdb.building-x.wal": No space left'


def test_a_full_disk_names_the_file_whatever_raised_it():
    got = classify(duckdb.IOException(DISK_FULL + " on device"))
    assert isinstance(got, EnvironmentFailure) and got.exit_code == 1
    assert str(got).startswith("out of disk space writing /data/.audit.duckdb.building-x.wal")
    got = classify(OSError(errno.ENOSPC, "No space left on device", "/out/report.html"))
    assert str(got).startswith("out of disk space writing /out/report.html")
    unnamed = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert "writing /out" in str(environment_failure(unnamed, where="/out"))


def test_spill_and_memory_say_what_ran_out_and_the_setting():
    try:
        faults._do("spill-full", None)
    except duckdb.Error as exc:
        got = classify(exc, spill_dir="/var/tmp/claims-audit/claims-audit-R1")
    assert "spill directory /var/tmp/claims-audit/claims-audit-R1" in str(got)
    got = classify(duckdb.OutOfMemoryException("Out of Memory Error: could not allocate"))
    assert str(got).startswith("out of memory") and "[engine] memory_limit" in str(got)


def test_permissions_are_the_inputs_problem_only_on_the_input_file():
    denied = OSError(errno.EACCES, "Permission denied", "/in/medical_claim.csv")
    assert environment_failure(denied, input_path="/in/medical_claim.csv") is None
    got = environment_failure(OSError(errno.EACCES, "Permission denied", "/out/x.csv"))
    assert str(got).startswith("permission denied: /out/x.csv")


def test_other_errors_keep_their_exit_code_and_first_line():
    assert classify(InputError("medical_claim.csv: bad")).exit_code == 2
    got = classify(duckdb.BinderException("Binder Error: no column x\nLINE 1"))
    assert type(got) is AuditError and got.exit_code == 1 and "\n" not in str(got)
