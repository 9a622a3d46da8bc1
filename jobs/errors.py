"""Errors that map to the contract's exit codes."""

from __future__ import annotations

import errno
import re


class AuditError(Exception):
    """Something went wrong that is not the input's fault: exit code 1."""

    exit_code = 1


class InputError(AuditError):
    """The input or the configuration cannot be used: exit code 2.

    The message is one line that names the file and the problem.
    """

    exit_code = 2


class LockedError(AuditError):
    """Another process holds the audit database for writing: exit code 1."""

    exit_code = 1


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class ForeignDatabaseError(InputError):
    """`--db` names a file the job did not create (or one inside the input directory):
    exit code 2, the file is never touched, and nothing is written beside it."""


class EnvironmentFailure(AuditError):
    """The machine failed the run, not the input (a full disk or spill directory, memory,
    permissions, an I/O error): exit code 1, one line naming the path and what ran out."""


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_PATH = re.compile(r'"([^"]+)"')


def _path_in(exc: BaseException) -> str | None:
    name = getattr(exc, "filename", None)
    if name:
        return str(name)
    found = _PATH.search(str(exc))
    return found.group(1) if found else None


def environment_failure(
    exc: BaseException, spill_dir: object = None, input_path: object = None, where: object = None
) -> EnvironmentFailure | None:
    """`exc` as an EnvironmentFailure when the machine, not the input, is at fault; None
    otherwise. Out of space, the spill directory full and out of memory always are;
    permission and I/O errors are unless they name `input_path` (an input that cannot be
    read is the input's problem, exit 2). `where` names the place when the error does not
    (a write that failed after its file was opened)."""
    text = str(exc).lower()
    number = getattr(exc, "errno", None)
    path = _path_in(exc) or (str(where) if where is not None else None)
    line = first_line(exc)
    if "max_temp_directory_size" in text or "failed to offload" in text:
        return EnvironmentFailure(
            f"out of disk space in the spill directory {spill_dir or '([engine] temp_directory)'}: "
            f"DuckDB could not write data that did not fit in memory there; free space or set "
            f"[engine] temp_directory to a larger disk ({line})"
        )
    if number in _NO_SPACE or "no space left on device" in text or "quota exceeded" in text:
        return EnvironmentFailure(f"out of disk space writing {path or 'a file'} ({line})")
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryException":
        return EnvironmentFailure(
            f"out of memory: {line} (DuckDB stays within [engine] memory_limit and spills the "
            f"rest to [engine] temp_directory; lower the limit if other processes need the "
            f"memory, raise it if the machine has more)"
        )
    if input_path is not None and path == str(input_path):
        return None
    if number in (errno.EACCES, errno.EPERM) or "permission denied" in text:
        return EnvironmentFailure(f"permission denied: {path or line} ({line})")
    if number == errno.EROFS or "read-only file system" in text:
        return EnvironmentFailure(f"read-only file system: {path or line} ({line})")
    if number == errno.EIO or "input/output error" in text:
        return EnvironmentFailure(f"I/O error: {path or line} ({line})")
    if number in (errno.EMFILE, errno.ENFILE) or "too many open files" in text:
        return EnvironmentFailure(f"too many open files ({line})")
    return None


def classify(exc: BaseException, spill_dir: object = None) -> AuditError:
    """Any error as an AuditError with its exit code: an AuditError as it is, a failure of
    the machine as an EnvironmentFailure (exit 1), anything else exit 1 with its first
    line."""
    if isinstance(exc, AuditError):
        return exc
    return environment_failure(exc, spill_dir) or AuditError(first_line(exc))
