"""Fault injection: the reliability tests make a run die or fail at a named point.

Set ``CLAIMS_AUDIT_FAULT`` to ``<point>:<action>`` or ``<point>:<action>@<path>``
(several, comma-separated) and the run, on reaching `point`, does `action` (an error
names `path` when given, else the point's own):

* ``kill``: SIGKILL itself (a power loss: nothing after it runs, not even cleanup);
* ``term``: SIGTERM itself (a scheduler stopping the job);
* ``enospc``: raise OSError(ENOSPC) for the point's path (a full disk, seen by Python);
* ``duckdb-enospc``: raise the IOException DuckDB raises when it cannot write the
  point's path (a full disk under the database);
* ``spill-full``: raise the error DuckDB raises when its spill directory is full.

Points (in run order): ``load`` (a CSV file is being read into the database),
``validate``, ``report`` (the outputs are being written), ``outputs-written`` (every
output written under its temporary name), ``publish:before-commit``,
``publish:committed`` (the journal record written, nothing moved),
``publish:database`` (the database moved), ``publish:<output name>`` (that output
moved), ``publish:done`` (everything moved, before the cleanup).

Without the variable (every real run) `at` returns at once.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

ENV = "CLAIMS_AUDIT_FAULT"


def at(point: str, path: Path | str | None = None) -> None:
    """Do the fault configured for `point`, if any."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().rpartition(":")
        if name == point:
            action, _, named = action.partition("@")
            _do(action, named or path)


def _do(action: str, path: Path | str | None) -> None:
    where = str(path or "")
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), where)
    elif action == "duckdb-enospc":
        import duckdb

        raise duckdb.IOException(
            f'IO Error: Could not write file "{where}": No space left on device'
        )
    elif action == "spill-full":
        import duckdb

        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to offload data block of size 256.0 KiB "
            "(1.9 MiB/1.9 MiB used).\nThis limit was set by the 'max_temp_directory_size' setting."
        )
    else:
        raise ValueError(f"{ENV}: unknown action {action!r}")
