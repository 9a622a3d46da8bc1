"""jobs/gx_duckdb.py: the two GX adjustments, the connection handling, the failing-row SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import duckdb
import pytest

from jobs.validation import gx_duckdb, suites

from .helpers import create_stg_table, insert_rows, load_macros

ROOT = suites.expectations_dir().parent


def _tiny_suite(*expectations: dict) -> dict:
    return {"name": "tiny", "expectations": list(expectations)}


HCPCS_REGEX = {
    "type": "expect_column_values_to_match_regex",
    "kwargs": {"column": "hcpcs_code", "regex": suites.HCPCS_REGEX},
    "meta": {"reason": "malformed_hcpcs_code", "level": "blocking", "description": "d"},
}
CLAIM_ID_NOT_NULL = {
    "type": "expect_column_values_to_not_be_null",
    "kwargs": {"column": "claim_id"},
    "meta": {"reason": "missing_claim_id", "level": "blocking", "description": "d"},
}


def _medical_rows(con, rows):
    create_stg_table(con, "medical_claim")
    insert_rows(con, "medical_claim", rows, source_file="m.csv")


# ---------------------------------------------------------------------------
# The adjustments
# ---------------------------------------------------------------------------


def test_gx_import_is_lazy():
    code = (
        "import sys; import jobs.validation.gx_duckdb, jobs.validation.suites; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_pyspark_exit_under_python_c_becomes_an_error():
    """With pyspark installed, importing GX from `python -c` would exit(0) silently."""
    pytest.importorskip("pyspark")
    code = (
        "from jobs.validation import gx_duckdb; gx_duckdb.apply_adjustments(); print('validated')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 or "validated" in out.stdout
    if out.returncode != 0:
        assert "exited the interpreter" in out.stderr


def test_adjustments_apply_idempotently(gx_ready):
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    gx_ready.apply_adjustments()
    gx_ready.apply_adjustments()
    assert gx_ready.adjustments_applied()
    duck = [d for d in see._PERSISTED_CONNECTION_DIALECTS if getattr(d, "value", "") == "duckdb"]
    assert len(duck) == 1
    # wrapped once, around GX's own __init__
    init = see.SqlAlchemyExecutionEngine.__init__
    assert getattr(init, gx_ready._MARK) and not getattr(init.__wrapped__, gx_ready._MARK, False)
    import os

    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"


def test_adjustments_reach_the_gx_code_they_patch(gx_ready):
    import sqlalchemy as sa
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see
    from sqlalchemy.dialects import postgresql

    # 1. GX itself now treats duckdb URLs as needing one persisted connection ...
    assert see._dialect_requires_persisted_connection(connection_string="duckdb:///x.duckdb")
    engine = see.SqlAlchemyExecutionEngine(connection_string="duckdb:///:memory:")
    try:
        assert isinstance(engine.engine.pool, sa.pool.StaticPool)
        with engine.get_connection() as first, engine.get_connection() as second:
            assert first is second and not first.closed
        # 2. ... and gives the engine the PostgreSQL module regex expectations compile with.
        assert engine.dialect_name == "duckdb"
        assert engine.dialect_module is postgresql
    finally:
        engine.close()


def test_check_fails_loudly_when_gx_moved(gx_ready, monkeypatch):
    import great_expectations as gx
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    gx_ready.check_gx_internals()  # the pinned GX passes
    monkeypatch.setattr(gx, "__version__", "1.99.0")
    with pytest.raises(gx_ready.GXCompatibilityError, match="1.99.0"):
        gx_ready.check_gx_internals()
    monkeypatch.undo()
    monkeypatch.delattr(see, "_PERSISTED_CONNECTION_DIALECTS")
    with pytest.raises(gx_ready.GXCompatibilityError, match="_PERSISTED_CONNECTION_DIALECTS"):
        gx_ready.check_gx_internals()


def test_without_persisted_connection_gx_loses_results(gx_ready, con, monkeypatch):
    """The bug the first adjustment works around is still there in this GX (if this test
    fails, GX or duckdb-engine fixed it and the adjustment can go)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    _medical_rows(con, [{"claim_id": "C1"}])
    original = tuple(d for d in see._PERSISTED_CONNECTION_DIALECTS if d != "duckdb")
    monkeypatch.setattr(see, "_PERSISTED_CONNECTION_DIALECTS", original)
    monkeypatch.setattr(gx_ready, "apply_adjustments", lambda: None)  # no re-applying
    with pytest.raises(gx_ready.ValidationRunError, match="list index out of range"):
        gx_ready.validate_table(con, "medical_claim", _tiny_suite(CLAIM_ID_NOT_NULL))


def test_without_postgresql_module_regex_does_not_compile(gx_ready, con, monkeypatch):
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    _medical_rows(con, [{"claim_id": "C1", "hcpcs_code": "62321"}])
    init = see.SqlAlchemyExecutionEngine.__init__
    monkeypatch.setattr(see.SqlAlchemyExecutionEngine, "__init__", init.__wrapped__)
    monkeypatch.setattr(gx_ready, "apply_adjustments", lambda: None)  # no re-applying
    with pytest.raises(gx_ready.ValidationRunError, match="match_regex"):
        gx_ready.validate_table(con, "medical_claim", _tiny_suite(HCPCS_REGEX))


# ---------------------------------------------------------------------------
# Failing-row SQL and NULL handling
# ---------------------------------------------------------------------------


def test_regex_skips_nulls_and_gx_query_is_runnable(gx_ready, con):
    _medical_rows(
        con,
        [
            {"claim_id": "C1", "hcpcs_code": "62321"},
            {"claim_id": "C2", "hcpcs_code": None},  # missing optional code: fine
            {"claim_id": None, "hcpcs_code": "6232"},
            {"claim_id": "C4", "hcpcs_code": "X62321Y"},  # '~' matches partially: anchors matter
        ],
    )
    regex, not_null = gx_ready.validate_table(
        con, "medical_claim", _tiny_suite(HCPCS_REGEX, CLAIM_ID_NOT_NULL)
    )
    assert (regex.unexpected_count, not_null.unexpected_count) == (2, 1)
    assert sorted(regex.unexpected_examples) == ["6232", "X62321Y"]
    assert con.execute(regex.unexpected_rows_sql).fetchall() == [("m.csv", 3), ("m.csv", 4)]
    assert con.execute(not_null.unexpected_rows_sql).fetchall() == [("m.csv", 3)]
    assert not_null.unexpected_examples == []
    # the keys stay in DuckDB: quarantine with one statement
    con.execute(
        f"create table quarantined as select * from stg_medical_claim "
        f"where (source_file, record_number) in ({regex.unexpected_rows_sql})"
    )
    assert con.execute("select count(*) from quarantined").fetchone()[0] == 2


def test_sql_expectation_query_is_its_own_query(gx_ready, con):
    _medical_rows(con, [{"claim_id": "C1"}, {"claim_id": "C1"}, {"claim_id": "C2"}])
    query = (
        "with b as (select * from {batch})\n"
        "select source_file, record_number, claim_id as value from b\n"
        "where claim_id like 'C1'"
    )
    exp = {
        "type": "unexpected_rows_expectation",
        "kwargs": {"unexpected_rows_query": query},
        "meta": {"reason": "r", "level": "warning", "description": "d", "column": "claim_id"},
    }
    (outcome,) = gx_ready.validate_table(con, "medical_claim", _tiny_suite(exp))
    assert outcome.unexpected_count == 2 and outcome.column == "claim_id"
    assert "stg_medical_claim" in outcome.unexpected_rows_sql
    assert "{batch}" not in outcome.unexpected_rows_sql
    assert sorted(con.execute(outcome.unexpected_rows_sql).fetchall()) == [
        ("m.csv", 1),
        ("m.csv", 2),
    ]
    assert outcome.unexpected_examples == ["C1", "C1"]


def test_clean_table_has_no_failures(gx_ready, con):
    _medical_rows(con, [])
    outcomes = gx_ready.validate_table(con, "medical_claim")
    assert outcomes and all(o.success and o.unexpected_count == 0 for o in outcomes)
    assert {o.element_count for o in outcomes} == {0}
    for o in outcomes:
        assert con.execute(o.unexpected_rows_sql).fetchall() == []


# ---------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------


def test_loader_connection_and_its_transaction_survive(gx_ready, con):
    _medical_rows(con, [{"claim_id": None}])
    con.execute("begin transaction")
    con.execute("create table loader_work as select 42 as x")
    (outcome,) = gx_ready.validate_table(con, "medical_claim", _tiny_suite(CLAIM_ID_NOT_NULL))
    assert outcome.unexpected_count == 1
    # GX closed its own cursors (rolling back *their* read transactions), not the loader's
    con.execute("insert into loader_work values (43)")
    con.execute("commit")
    assert con.execute("select sum(x) from loader_work").fetchone()[0] == 85
    assert con.execute(outcome.unexpected_rows_sql).fetchall() == [("m.csv", 1)]


def test_path_while_another_read_write_connection_is_open(gx_ready, con, db_path):
    _medical_rows(con, [{"claim_id": None}, {"claim_id": "C2"}])
    # con (read-write, default config) stays open; validate_table opens the same file
    (outcome,) = gx_ready.validate_table(db_path, "medical_claim", _tiny_suite(CLAIM_ID_NOT_NULL))
    assert outcome.unexpected_count == 1
    assert con.execute(outcome.unexpected_rows_sql).fetchall() == [("m.csv", 1)]


def test_suite_from_a_json_file(gx_ready, con, tmp_path):
    _medical_rows(con, [{"claim_id": None}])
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(_tiny_suite(CLAIM_ID_NOT_NULL)))
    (outcome,) = gx_ready.validate_table(con, "medical_claim", path)
    assert outcome.reason == "missing_claim_id" and outcome.unexpected_count == 1


def test_in_memory_database_works_too(gx_ready):
    mem = duckdb.connect()
    load_macros(mem)
    suites.load_code_validity(mem)
    _medical_rows(mem, [{"claim_id": None}])
    (outcome,) = gx_ready.validate_table(mem, "medical_claim", _tiny_suite(CLAIM_ID_NOT_NULL))
    assert mem.execute(outcome.unexpected_rows_sql).fetchall() == [("m.csv", 1)]
    mem.close()


def test_uncommitted_or_missing_table_gives_a_clear_error(gx_ready, con):
    con.execute("begin transaction")
    _medical_rows(con, [{"claim_id": "C1"}])
    with pytest.raises(gx_ready.ValidationRunError, match="not visible"):
        gx_ready.validate_table(con, "medical_claim", _tiny_suite(CLAIM_ID_NOT_NULL))
    con.execute("rollback")


def test_broken_expectation_raises_instead_of_passing(gx_ready, con):
    _medical_rows(con, [{"claim_id": "C1"}])
    exp = {
        "type": "unexpected_rows_expectation",
        "kwargs": {
            "unexpected_rows_query": "select source_file, record_number from {batch} "
            "where no_such_column is null"
        },
        "meta": {"reason": "r", "level": "blocking", "description": "d"},
    }
    with pytest.raises(gx_ready.ValidationRunError, match="no_such_column"):
        gx_ready.validate_table(con, "medical_claim", _tiny_suite(exp))


@pytest.mark.parametrize("idle", [True, False])
def test_preload_runs_at_the_lowest_priority_only_when_asked(monkeypatch, idle):
    """A cold run imports Great Expectations in a thread at nice 19, on the CPU the scans
    leave idle; a night imports it at the run's own priority (jobs.pipeline)."""
    seen = []

    def adjust():
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    monkeypatch.setattr(gx_duckdb, "apply_adjustments", adjust)
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = gx_duckdb.preload(idle=idle)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert seen == [19 if idle else own]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # caller's kept


def test_a_running_preload_is_lowered_to_the_lowest_priority(monkeypatch):
    """A run starts the import at its own priority before it knows whether it is a night;
    a cold run then lowers the running thread to nice 19 (jobs.pipeline), and only it."""
    started, lowered, seen = threading.Event(), threading.Event(), []

    def adjust():
        started.set()
        lowered.wait(timeout=30)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    monkeypatch.setattr(gx_duckdb, "apply_adjustments", adjust)
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = gx_duckdb.preload()
    assert started.wait(timeout=30)
    gx_duckdb.idle_preload()
    lowered.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert seen == [19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
    gx_duckdb.idle_preload()  # no preload running: nothing to lower, no error
