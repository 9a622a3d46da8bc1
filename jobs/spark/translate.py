"""DuckDB SQL -> Spark SQL: the one translation layer of the Spark engine.

Every SQL text the Spark engine runs comes from the files the DuckDB engine runs
(sql/intermediate, sql/rules, sql/marts, the staging macros, the expectation
suites' SQL checks, the staging expressions of jobs/ingest/load.py) and passes through
`to_spark_sql` (statements) or `spark_expression` (one expression). No rule has
a Spark copy, and no rule file is special-cased here: each fix below is a
general rewrite of one DuckDB construct.

The steps, in order:

1. Parameters: every `$name` is replaced by a typed literal of its configured
   value (`jobs.audit.catalog.bind_sql`); configuration values, never data. DuckDB needs
   `interval ($n) day` for a bound parameter; once bound, the parentheses are
   dropped so Spark receives `INTERVAL '180' DAY`.
2. Macros: calls of the staging macros (`ca_parse_date`, `ca_npi_is_valid`,
   `ca_ndc11`, defined once in sql/staging/macros.sql) are expanded inline with
   their DuckDB body, arguments substituted, so the body is translated like any
   other SQL. (Spark has no session macros; SQL functions are not on every
   Spark version the job should run on.)
3. Rewrites where the dialects differ (sqlglot leaves these as they are, or
   translates them to something that answers differently):
   - `regexp_full_match(x, p)` -> `x RLIKE '^(?:p)$'` (whole-string match);
   - `try_strptime(x, fmt)` / `strptime` -> `try_to_timestamp` / `to_timestamp`
     with the format in Spark's pattern letters (`%m` accepts one or two digits
     in DuckDB: `M`, unless another field follows without a separator);
   - `try_cast(x as <integer type>)` -> through DECIMAL and ROUND: DuckDB reads
     '3.0' as 3 and rounds 2.5 to 3, Spark's integer cast refuses '3.0' and
     truncates;
   - `cast(x as <integer type>)` of a non-integer expression -> ROUND first
     (DuckDB rounds doubles and decimals to integers; Spark truncates);
   - `count(distinct (a, b))` -> `count(distinct struct(a, b))` (Spark's
     `count(distinct a, b)` skips rows where any of them is NULL);
   - `with x as [not] materialized (...)` -> `with x as (...)`: the hint is
     DuckDB's (the suites' checks ask DuckDB not to copy the batch they read
     twice); Spark has no such syntax and plans CTEs itself.
4. sqlglot writes the Spark dialect (QUALIFY becomes a subquery, `//` DIV,
   NULL ordering made explicit: DuckDB sorts NULLs last, Spark first).

Constructs that cannot be rewritten faithfully (ASOF JOIN, `date - date`,
`SELECT * REPLACE`, quantiles, ...) belong in the SQL files as portable
constructs; `portability_problems` names them, and tests/spark runs every
translated file on Spark.

Importing this module does not import PySpark.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from jobs.resources import sql_dir

INTEGER_TYPES = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}
# DuckDB strptime directive -> Spark (java.time) pattern letters.
_STRPTIME = {
    "%Y": ("yyyy", "yyyy"),  # (next to another field, delimited)
    "%m": ("MM", "M"),
    "%d": ("dd", "d"),
    "%H": ("HH", "H"),
    "%M": ("mm", "m"),
    "%S": ("ss", "s"),
}
_MACRO = re.compile(
    r"create\s+or\s+replace\s+macro\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)\s+as\s*\((.*?)\)\s*;",
    re.IGNORECASE | re.DOTALL,
)


class TranslationError(ValueError):
    """A DuckDB construct the translation layer cannot carry over to Spark."""


# ------------------------------------------------------------------ macros


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: exp.Expression


def parse_macros(text: str) -> dict[str, Macro]:
    """The `create or replace macro name(args) as (body);` definitions of a SQL file."""
    without_comments = re.sub(r"--[^\n]*", "", text)
    macros = {}
    for name, params, body in _MACRO.findall(without_comments):
        tree = sqlglot.parse_one(f"select ({body}) as v", read="duckdb")
        expression = tree.expressions[0].this
        macros[name.lower()] = Macro(
            name=name.lower(),
            params=tuple(p.strip().lower() for p in params.split(",") if p.strip()),
            body=expression,
        )
    return macros


@functools.cache
def staging_macros() -> dict[str, Macro]:
    """The macros of sql/staging/macros.sql (the DuckDB engine installs the same file)."""
    return parse_macros((sql_dir() / "staging" / "macros.sql").read_text(encoding="utf-8"))


def _expand_macros(
    tree: exp.Expression, macros: dict[str, Macro], depth: int = 0
) -> exp.Expression:
    if depth > 10:
        raise TranslationError("macro expansion does not terminate (recursive macro?)")

    def expand(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous):
            return node
        macro = macros.get(str(node.this).lower())
        if macro is None:
            return node
        args = node.expressions
        if len(args) != len(macro.params):
            raise TranslationError(
                f"macro {macro.name} takes {len(macro.params)} argument(s), got {len(args)}"
            )
        bound = dict(zip(macro.params, args, strict=True))

        def substitute(inner: exp.Expression) -> exp.Expression:
            if isinstance(inner, exp.Column) and not inner.table:
                arg = bound.get(inner.name.lower())
                if arg is not None:
                    return exp.Paren(this=arg.copy())
            return inner

        body = macro.body.copy().transform(substitute)
        return exp.Paren(this=_expand_macros(body, macros, depth + 1))

    return tree.transform(expand)


# ------------------------------------------------------------------ rewrites


def _unwrap_interval(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Interval) and isinstance(node.this, exp.Paren):
        inner = node.this.this
        if isinstance(inner, exp.Literal):
            return exp.Interval(this=exp.Literal.string(inner.name), unit=node.args.get("unit"))
    return node


def _full_match(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.RegexpFullMatch):
        return node
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored: exp.Expression = exp.Literal.string(f"^(?:{pattern.name})$")
    else:
        anchored = exp.func(
            "concat", exp.Literal.string("^(?:"), pattern.copy(), exp.Literal.string(")$")
        )
    return exp.RegexpLike(this=node.this.copy(), expression=anchored)


def strptime_to_spark(fmt: str) -> str:
    """A DuckDB strptime format as a Spark datetime pattern (the directives the SQL uses)."""
    parts = re.findall(r"%[A-Za-z]|[^%]+|%%", fmt)
    out = []
    for i, part in enumerate(parts):
        if part == "%%":
            out.append("%")
        elif part.startswith("%"):
            if part not in _STRPTIME:
                raise TranslationError(f"strptime directive {part} has no Spark translation")
            adjacent = any(
                0 <= j < len(parts) and parts[j].startswith("%") and parts[j] != "%%"
                for j in (i - 1, i + 1)
            )
            fixed, flexible = _STRPTIME[part]
            out.append(fixed if adjacent else flexible)
        else:
            out.append(
                "'" + part.replace("'", "''") + "'" if re.search(r"[A-Za-z]", part) else part
            )
    return "".join(out)


def _strptime(node: exp.Expression) -> exp.Expression:
    safe = False
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime":
        value, fmt = node.expressions
        safe = True
    elif isinstance(node, exp.StrToTime):
        value, fmt = node.this, node.args.get("format")
        safe = bool(node.args.get("safe"))
    else:
        return node
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise TranslationError("strptime with a non-literal format cannot be translated")
    name = "try_to_timestamp" if safe else "to_timestamp"
    return exp.Anonymous(
        this=name, expressions=[value.copy(), exp.Literal.string(strptime_to_spark(fmt.name))]
    )


def _is_integral(node: exp.Expression) -> bool:
    if isinstance(node, exp.Literal):
        return not node.is_string and re.fullmatch(r"-?\d+", node.name) is not None
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.this in INTEGER_TYPES
    if isinstance(node, exp.Count):
        return True
    if isinstance(node, exp.Paren):
        return _is_integral(node.this)
    return False


def _integer_casts(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Cast | exp.TryCast) or node.to.this not in INTEGER_TYPES:
        return node
    value = node.this
    if _is_integral(value) or node.args.get("_ca_rounded"):
        return node
    if isinstance(node, exp.TryCast):
        # DuckDB parses text as a number, then rounds: '3.0' -> 3, '2.5' -> 3.
        as_decimal = exp.TryCast(
            this=value.copy(), to=exp.DataType.build("decimal(38, 9)"), safe=True
        )
        rounded = exp.func("round", as_decimal)
        out = exp.TryCast(this=rounded, to=node.to.copy(), safe=True)
    else:
        if isinstance(value, exp.Literal) or _looks_textual(value):
            # Text to integer: DuckDB and Spark (ANSI) both require an integer literal.
            return node
        out = exp.Cast(this=exp.func("round", value.copy()), to=node.to.copy())
    out.set("_ca_rounded", True)
    return out


def _looks_textual(node: exp.Expression) -> bool:
    """Expressions that are text (substr(...) and friends): round() would not apply."""
    return isinstance(
        node,
        exp.Substring | exp.Trim | exp.Upper | exp.Lower | exp.Concat | exp.DPipe | exp.Replace,
    ) or (isinstance(node, exp.Anonymous) and str(node.this).lower() in ("substr", "replace"))


def _count_distinct_tuple(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Distinct):
        items = node.this.expressions
        if len(items) == 1 and isinstance(items[0], exp.Tuple):
            struct = exp.func("struct", *[e.copy() for e in items[0].expressions])
            return exp.Count(this=exp.Distinct(expressions=[struct]))
    return node


def _cte_hint(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE):
        node.set("materialized", None)  # transform() works on a copy of the tree
    return node


def _rewrite(tree: exp.Expression) -> exp.Expression:
    tree = _expand_macros(tree, staging_macros())
    steps = (
        _unwrap_interval,
        _full_match,
        _strptime,
        _integer_casts,
        _count_distinct_tuple,
        _cte_hint,
    )
    for step in steps:
        tree = tree.transform(step)
    return tree


# ------------------------------------------------------------------ entry points


def to_spark_sql(sql: str, params: dict[str, object] | None = None, *, pretty: bool = True) -> str:
    """The DuckDB SQL statement `sql`, parameters bound from `params`, as Spark SQL."""
    from jobs.audit.catalog import bind_sql

    bound = bind_sql(sql, params or {})
    trees = [t for t in sqlglot.parse(bound, read="duckdb") if t is not None]
    if len(trees) != 1:
        raise TranslationError(f"expected one SQL statement, got {len(trees)}")
    return _rewrite(trees[0]).sql(dialect="spark", pretty=pretty)


def spark_expression(expression: str) -> str:
    """One DuckDB SQL expression (may call the staging macros) as a Spark SQL expression."""
    tree = sqlglot.parse_one(f"select {expression}", read="duckdb")
    rewritten = _rewrite(tree)
    assert isinstance(rewritten, exp.Select)
    return ", ".join(e.sql(dialect="spark") for e in rewritten.expressions)


__all__ = [
    "TranslationError",
    "parse_macros",
    "spark_expression",
    "staging_macros",
    "strptime_to_spark",
    "to_spark_sql",
]
