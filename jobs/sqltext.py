"""Writing SQL text safely: quoted identifiers and string literals (never data values)."""

from __future__ import annotations


def q(identifier: str) -> str:
    """Quote an SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def lit(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
