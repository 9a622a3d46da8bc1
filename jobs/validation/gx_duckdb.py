"""Great Expectations on a DuckDB audit database (GX 1.24.1, duckdb-engine 0.17).

GX's SQL datasource does not run on DuckDB out of the box (every expectation ends
in ``IndexError: list index out of range``: duckdb-engine's cursor is its
connection, so the rollback when GX closes a connection discards the pending
result; GX issues #11579/#10738, duckdb_engine #1087). Two runtime adjustments,
kept here and nowhere else, make it work:

1. ``duckdb`` joins GX's persisted-connection dialects (as sqlite does): GX keeps
   one connection open for the whole validation instead of closing (and rolling
   back) after each query.
2. Engines on DuckDB get the PostgreSQL dialect module, so regex expectations
   compile (to ``~``, which DuckDB accepts; ``~`` matches anywhere in the
   string, so suite regexes are anchored with ``^...$``).

Both touch GX internals, so `check_gx_internals` verifies (and `apply_adjustments`
refuses to run unless) the installed GX is the pinned version and the internals
are still where they were.

GX reaches the database through the caller's own DuckDB connection: the SQLAlchemy
engine's ``creator`` hands out ``con.cursor()`` (a new connection to the same
database instance). A second ``duckdb.connect(path)`` in the same process would
fail whenever its configuration differs from the loader's open connection
(duckdb-engine always sets ``custom_user_agent``), and a cursor shares the
instance, the catalog and the ``ca_*`` macros. GX sees what the caller has
committed; it holds its own read transaction, which is ended (rolled back: GX only
reads) when validation is over, after all results were fetched.

Great Expectations is imported lazily (it takes about 2 s).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.validation import suites as suites_mod

if TYPE_CHECKING:
    import duckdb

SUPPORTED_GX_VERSION = "1.24.1"

# Sample offending values kept per expectation for the report.
EXAMPLES = 5

_RESULT_FORMAT = {
    # BASIC: counts and a few sample values. COMPLETE would fetch *every* failing
    # value on SQL (no LIMIT); SUMMARY adds one more query per expectation.
    "result_format": "BASIC",
    "partial_unexpected_count": EXAMPLES,
    "unexpected_index_column_names": ["source_file", "record_number"],
    # Ask GX for the query of the failing rows (a string; GX does not run it).
    "return_unexpected_index_query": True,
}

_MARK = "_claims_audit_duckdb_adjustment"
PRELOAD_THREAD = "gx-preload"
_LOCK = threading.Lock()


class GXCompatibilityError(RuntimeError):
    """The installed Great Expectations is not the one the DuckDB adjustments were made for."""


class ValidationRunError(RuntimeError):
    """An expectation could not be evaluated (not: the data failed it)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation on one staging table."""

    expectation_type: str
    column: str | None
    reason: str
    level: str  # 'blocking' | 'warning'
    description: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_examples: list[str] = field(default_factory=list)
    # DuckDB SQL returning (source_file, record_number) of every failing row, one row each;
    # runnable on the validated database (it names the staging table).
    unexpected_rows_sql: str = ""
    # A failing SQL expectation validated on the caller's connection: a temporary table of
    # that connection holding the same rows (source_file, record_number, value), computed
    # once for the examples; reading it is cheaper than running the query again. The
    # caller drops it (`drop_failing_rows`).
    failing_rows_table: str = ""


# ---------------------------------------------------------------------------
# The two adjustments
# ---------------------------------------------------------------------------


class _DuckDBDialectName:
    """Stands for 'duckdb' in GX's tuple of GXSqlDialect members (an Enum cannot be extended).

    GX uses the tuple in two ways: ``drivername.startswith(d.value)`` when it creates
    the engine (-> StaticPool), and ``dialect_name in tuple`` when it hands out a
    connection (-> keep one open).
    """

    value = "duckdb"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bytes):
            other = other.decode()
        if isinstance(other, str):
            return other.lower() == self.value
        return getattr(other, "value", None) == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return "<claims-audit duckdb dialect>"


def _code_names(func: Any) -> set[str]:
    func = getattr(func, "__wrapped__", func)
    return set(func.__code__.co_names)


def check_gx_internals() -> None:
    """Raise GXCompatibilityError unless the GX internals the adjustments touch are in place."""
    gx = _import_gx()
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see
    from great_expectations.expectations.metrics import util as metrics_util

    problems: list[str] = []
    if gx.__version__ != SUPPORTED_GX_VERSION:
        problems.append(
            f"great-expectations {gx.__version__} is installed, the adjustments were made for "
            f"{SUPPORTED_GX_VERSION}"
        )
    dialects = getattr(see, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(dialects, tuple) or not any(
        getattr(d, "value", None) == "sqlite" for d in dialects
    ):
        problems.append("sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS moved")
    engine_cls = getattr(see, "SqlAlchemyExecutionEngine", None)
    checks = (
        ("get_connection", "_PERSISTED_CONNECTION_DIALECTS"),
        ("_setup_engine", "_dialect_requires_persisted_connection"),
        ("__init__", "dialect_module"),
    )
    for method, name in checks:
        fn = getattr(engine_cls, method, None)
        if fn is None or name not in _code_names(fn):
            problems.append(f"SqlAlchemyExecutionEngine.{method} no longer uses {name}")
    if not callable(getattr(see, "_dialect_requires_persisted_connection", None)):
        problems.append("sqlalchemy_execution_engine._dialect_requires_persisted_connection moved")
    regex_fn = getattr(metrics_util, "get_dialect_regex_expression", None)
    if regex_fn is None:
        problems.append("metrics.util.get_dialect_regex_expression moved")
    else:
        import sqlalchemy as sa
        from sqlalchemy.dialects import postgresql

        expr = regex_fn(sa.column("c"), "^x$", postgresql)
        if expr is None or "~" not in str(expr.compile(dialect=postgresql.dialect())):
            problems.append(
                "regex expectations no longer compile to '~' with the PostgreSQL module"
            )
    if problems:
        raise GXCompatibilityError(
            "Great Expectations on DuckDB: the runtime adjustments in "
            "jobs/validation/gx_duckdb.py do not fit the installed GX ("
            + "; ".join(problems)
            + "). Install great-expectations=="
            f"{SUPPORTED_GX_VERSION}, or re-verify the adjustments against the new version "
            "(tests/validation) and update SUPPORTED_GX_VERSION."
        )


def apply_adjustments() -> None:
    """Make GX's SQL path work on DuckDB; idempotent; raises GXCompatibilityError if GX moved."""
    with _LOCK:
        _import_gx()
        from great_expectations.execution_engine import sqlalchemy_execution_engine as see

        if adjustments_applied():
            return
        check_gx_internals()
        from sqlalchemy.dialects import postgresql

        if not any(isinstance(d, _DuckDBDialectName) for d in see._PERSISTED_CONNECTION_DIALECTS):
            see._PERSISTED_CONNECTION_DIALECTS = (
                *see._PERSISTED_CONNECTION_DIALECTS,
                _DuckDBDialectName(),
            )
        engine_cls = see.SqlAlchemyExecutionEngine
        if not getattr(engine_cls.__init__, _MARK, False):
            original_init = engine_cls.__init__

            @functools.wraps(original_init)
            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                original_init(self, *args, **kwargs)
                if self.dialect_name == "duckdb" and self.dialect_module is None:
                    self.dialect_module = postgresql

            setattr(__init__, _MARK, True)
            engine_cls.__init__ = __init__


def adjustments_applied() -> bool:
    """True when both adjustments are in place (imports GX)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    return any(
        isinstance(d, _DuckDBDialectName) for d in see._PERSISTED_CONNECTION_DIALECTS
    ) and bool(getattr(see.SqlAlchemyExecutionEngine.__init__, _MARK, False))


def _import_gx() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    # GX imports pyspark when it is installed (the Spark extra); pyspark 4.3 warns
    # about pandas 3 on import. The DuckDB path never uses Spark: keep stderr clean
    # (it may carry --log-json lines).
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    try:
        import great_expectations as gx
    except SystemExit as exc:
        # GX imports pyspark when it is installed; pyspark.sql.connect calls sys.exit(0)
        # ("Skipping doctests") when __main__ has no __file__ (python -c, stdin): a job
        # would end with exit code 0 having validated nothing.
        raise RuntimeError(
            "importing great_expectations exited the interpreter (pyspark's doctest check "
            "under `python -c` or stdin); run from a script file or the claims-audit command"
        ) from exc
    return gx


def _gx() -> Any:
    gx = _import_gx()
    apply_adjustments()
    return gx


def preload(*, idle: bool = False) -> threading.Thread:
    """Import Great Expectations and apply the adjustments in a background thread: the
    import takes seconds of one core, which a caller with other work first (the demo,
    generating its data in DuckDB) can overlap. Validation later waits for it (the
    import lock and _LOCK); an error here is met again, and reported, by validation.

    idle: run the thread at the lowest scheduling priority (Linux: nice 19 for this
    thread only), so it takes only the CPU the caller's other work leaves idle."""

    def work() -> None:
        if idle:
            _lowest_priority(threading.get_native_id())
        with contextlib.suppress(Exception):  # validation raises it again, with context
            apply_adjustments()

    thread = threading.Thread(target=work, name=PRELOAD_THREAD, daemon=True)
    thread.start()
    return thread


def idle_preload() -> None:
    """Lower a running `preload` thread to the lowest scheduling priority (Linux: nice
    19), as `preload(idle=True)` would have started it."""
    for thread in threading.enumerate():
        if thread.name == PRELOAD_THREAD and thread.is_alive() and thread.native_id:
            _lowest_priority(thread.native_id)


def _lowest_priority(native_id: int) -> None:
    """Nice 19 for the one thread `native_id` (Linux: a thread's id is a PRIO_PROCESS id)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux: as it is
        os.setpriority(os.PRIO_PROCESS, native_id, 19)


def preloading() -> bool:
    """Whether a `preload` thread is still importing Great Expectations."""
    return any(t.name == PRELOAD_THREAD and t.is_alive() for t in threading.enumerate())


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _suite_dict(table: str, suite: dict | str | Path | None) -> dict[str, Any]:
    if suite is None:
        return suites_mod.load_suite(table)
    if isinstance(suite, (str, Path)):
        with Path(suite).open(encoding="utf-8") as f:
            return json.load(f)
    return copy.deepcopy(suite)


def _wrap_keys(query: str) -> str:
    """A query returning only (source_file, record_number) of the rows `query` returns."""
    inner = query.strip().rstrip(";").rstrip()
    return f"select source_file, record_number from (\n{inner}\n) as unexpected"


def _sql_expectation_query(kwargs: dict[str, Any], relation: str) -> str:
    # GX fills {batch} with str.format on a table asset: the same here.
    return kwargs["unexpected_rows_query"].format(batch=relation)


def _examples_from_query(con: duckdb.DuckDBPyConnection, query: str, n: int) -> list[str]:
    cur = con.cursor()
    try:
        return _examples(cur, query, n)
    finally:
        cur.close()


def _examples(con: duckdb.DuckDBPyConnection, query: str, n: int) -> list[str]:
    """Up to `n` example values (the `value` column, else the row's file and record)."""
    res = con.execute(f"select * from (\n{query}\n) as unexpected limit {int(n)}")
    names = [d[0] for d in res.description]
    rows = res.fetchall()
    if "value" in names:
        idx = names.index("value")
        return [str(r[idx]) for r in rows if r[idx] is not None]
    return [f"{r[0]} record {r[1]}" for r in rows]


def _keep_failing_rows(
    con: duckdb.DuckDBPyConnection, query: str, name: str
) -> tuple[str, list[str]]:
    """Materialize the failing rows of an SQL expectation once (a temporary table of `con`)
    and take the examples from it: its query (grouping, joins) runs once, not twice."""
    con.execute(f"create or replace temp table {name} as {query}")
    # the temporary table is the connection's own: not visible to a cursor
    return name, _examples(con, f"select * from {name}", EXAMPLES)


def drop_failing_rows(con: duckdb.DuckDBPyConnection, outcomes: list[ExpectationOutcome]) -> None:
    for o in outcomes:
        if o.failing_rows_table:
            con.execute(f"drop table if exists {o.failing_rows_table}")


def validate_table(
    db: duckdb.DuckDBPyConnection | str | Path,
    table: str,
    suite: dict | str | Path | None = None,
    *,
    relation: str | None = None,
) -> list[ExpectationOutcome]:
    """Run the expectation suite of `table` on `stg_<table>` in one GX validation.

    db: the caller's open DuckDB connection (preferred: GX then uses cursors of it), or
        the path of the database file (opened read-write for the duration).
    suite: a suite dict, a path to suite JSON, or None for the shipped suite.
    relation: the table to validate (default ``stg_<table>``); it needs the columns
        ``source_file`` and ``record_number``.

    Returns one ExpectationOutcome per expectation, in suite order. Raises
    ValidationRunError when an expectation could not be evaluated (a broken query, a
    missing column or table), GXCompatibilityError when GX is not the pinned version.
    """
    import duckdb

    relation = relation or f"stg_{table}"
    suite_dict = _suite_dict(table, suite)
    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = duckdb.connect(str(db)) if own else db
    try:
        return _validate(con, table, relation, suite_dict, keep_failing_rows=not own)
    finally:
        if own:
            con.close()


def _validate(
    con: duckdb.DuckDBPyConnection,
    table: str,
    relation: str,
    suite_dict: dict[str, Any],
    *,
    keep_failing_rows: bool,
) -> list[ExpectationOutcome]:
    from duckdb_engine import ConnectionWrapper

    _require_visible(con, relation)
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    entries = [suites_mod.entry_of(table, e) for e in suite_dict["expectations"]]

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    datasource = context.data_sources.add_sql(
        name="claims_audit",
        # The URL only names the dialect: every connection comes from the creator.
        connection_string="duckdb:///:memory:",
        kwargs={"creator": lambda: ConnectionWrapper(con.cursor())},
    )
    try:
        asset = datasource.add_table_asset(name=relation, table_name=relation)
        batch = asset.add_batch_definition_whole_table("whole table").get_batch()
        gx_suite = gx.ExpectationSuite(**suite_dict)
        result = batch.validate(gx_suite, result_format=copy.deepcopy(_RESULT_FORMAT))
    finally:
        # End GX's read transaction and close its cursors (the caller's connection stays open).
        try:
            datasource.get_execution_engine().close()
        finally:
            datasource.get_engine().dispose()

    if len(result.results) != len(entries):
        raise ValidationRunError(
            f"GX returned {len(result.results)} results for {len(entries)} expectations of {table}"
        )
    # GX keeps suite order; match by configuration anyway (meta + kwargs identify one).
    by_key: dict[str, list[Any]] = {}
    for r in result.results:
        by_key.setdefault(_config_key(r.expectation_config), []).append(r)

    errors: list[str] = []
    pending: list[tuple[dict[str, Any], Any]] = []
    for exp in suite_dict["expectations"]:
        bucket = by_key.get(_config_key(exp))
        if not bucket:
            raise ValidationRunError(f"no GX result for expectation {exp['type']} of {table}")
        r = bucket.pop(0)
        info = r.exception_info or {}
        if info.get("raised_exception") or any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values()
        ):
            errors.append(
                f"{exp['type']} ({exp['meta'].get('reason')}): {_exception_message(info)}"
            )
        pending.append((exp, r))
    if errors:
        raise ValidationRunError(f"validation of {relation} could not run: " + "; ".join(errors))

    element_count = next(
        (r.result["element_count"] for _, r in pending if "element_count" in (r.result or {})),
        None,
    )
    if element_count is None:
        cur = con.cursor()
        try:
            element_count = cur.execute(f"select count(*) from {relation}").fetchone()[0]
        finally:
            cur.close()

    outcomes: list[ExpectationOutcome] = []
    for k, ((exp, r), entry) in enumerate(zip(pending, entries, strict=True)):
        res = r.result or {}
        kept = ""
        if exp["type"] == "unexpected_rows_expectation":
            query = _sql_expectation_query(exp["kwargs"], relation)
            unexpected = int(res["observed_value"])
            examples = []
            if unexpected and keep_failing_rows:
                kept, examples = _keep_failing_rows(con, query, f"_ca_failing_{table}_{k}")
            elif unexpected:
                examples = _examples_from_query(con, query, EXAMPLES)
        else:
            query = res.get("unexpected_index_query")
            if not query:
                raise ValidationRunError(
                    f"GX gave no unexpected_index_query for {exp['type']} on {entry.column}"
                )
            unexpected = int(res.get("unexpected_count") or 0)
            examples = [str(v) for v in res.get("partial_unexpected_list") or [] if v is not None]
        outcomes.append(
            ExpectationOutcome(
                expectation_type=exp["type"],
                column=entry.column,
                reason=entry.reason,
                level=entry.level,
                description=entry.description,
                success=bool(r.success),
                element_count=int(element_count),
                unexpected_count=unexpected,
                unexpected_examples=examples[:EXAMPLES],
                unexpected_rows_sql=_wrap_keys(query),
                failing_rows_table=kept,
            )
        )
    return outcomes


def _require_visible(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """GX reads through new cursors: they see only what the caller has committed."""
    cur = con.cursor()
    try:
        found = cur.execute(
            "select count(*) from information_schema.tables "
            "where table_name = ? and table_schema = current_schema()",
            [relation],
        ).fetchone()[0]
    finally:
        cur.close()
    if not found:
        raise ValidationRunError(
            f"table {relation} is not visible to a new connection to the database: "
            "create it (and commit, if inside an explicit transaction) before validating"
        )


def _config_key(config: Any) -> str:
    if isinstance(config, dict):
        type_, kwargs, meta = config["type"], config.get("kwargs", {}), config.get("meta", {})
    else:
        type_, kwargs, meta = config.type, config.kwargs, config.meta
    kwargs = {k: v for k, v in (kwargs or {}).items() if k not in ("batch_id", "result_format")}
    return json.dumps([type_, kwargs, meta or {}], sort_keys=True, default=str)


def _exception_message(info: dict[str, Any]) -> str:
    if info.get("exception_message"):
        return str(info["exception_message"])
    for v in info.values():
        if isinstance(v, dict) and v.get("exception_message"):
            return str(v["exception_message"])
    return "unknown error"
