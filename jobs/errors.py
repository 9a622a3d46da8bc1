"""Errors that map to the contract's exit codes."""

from __future__ import annotations


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
