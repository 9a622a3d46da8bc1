"""The nightly job: load, validate, audit, report, publish.

`run()` is the library entry point the CLI wraps. It never raises for a bad
input: it returns a RunResult whose exit code follows the contract (0 the
audit ran, 2 unusable input or configuration, 1 anything else), and every
run, failed ones too, leaves a manifest.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from jobs import __version__, load, publish
from jobs.config import Config, load_config
from jobs.errors import AuditError, InputError, LockedError
from jobs.inputs import SourceFile, discover, sha256_of
from jobs.log import Log
from jobs.schema import TABLES

OUTPUT_NAMES = (
    "exceptions.csv",
    "exceptions.parquet",
    "rejected_rows.csv",
    "report.html",
    "manifest.json",
)

EXCEPTION_COLUMNS = (
    "run_id, rule_id, rule_version, status, severity, claim_id, claim_line_number, "
    "person_id, rendering_npi, service_date, hcpcs_code, paid_amount, evidence"
)


@dataclass
class RunResult:
    run_id: str
    exit_code: int
    manifest: dict[str, Any]
    out_dir: Path
    db_path: Path
    message: str = ""
    outputs: list[Path] = field(default_factory=list)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class _Terminated(Exception):
    pass


def _on_sigterm(signum: int, frame: Any) -> None:  # pragma: no cover - signal path
    raise _Terminated(f"stopped by signal {signum}")


def run(
    input_dir: Path,
    out_dir: Path,
    db_path: Path | None = None,
    config_path: Path | None = None,
    log: Log | None = None,
) -> RunResult:
    log = log or Log()
    out_dir = Path(out_dir).resolve()
    db_path = Path(db_path).resolve() if db_path else out_dir / "audit.duckdb"
    run_id = new_run_id()
    started = datetime.now(UTC)
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "status": "running",
        "started_at": started.isoformat(timespec="seconds"),
        "tool_version": __version__,
        "input_dir": str(Path(input_dir).resolve()),
        "out_dir": str(out_dir),
        "db": str(db_path),
        "config": str(Path(config_path).resolve()) if config_path else None,
    }
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a library caller): no handler
        previous = None
    outputs = [out_dir / name for name in OUTPUT_NAMES]
    try:
        job = _Job(Path(input_dir), out_dir, db_path, run_id, manifest, log)
        with publish.writer_lock(db_path):
            try:
                job.execute(config_path, outputs)
            except BaseException:
                job.close()
                publish.remove_build(db_path, run_id)
                publish.discard_outputs(run_id, outputs)
                raise
        result = RunResult(run_id, 0, manifest, out_dir, db_path, outputs=outputs)
    except (AuditError, _Terminated, KeyboardInterrupt, duckdb.Error, OSError, Exception) as exc:
        code = exc.exit_code if isinstance(exc, AuditError) else 1
        message = _one_line(exc)
        if isinstance(exc, duckdb.Error) and "lock" in str(exc).lower():
            message = f"database {db_path} is locked by another process: {message}"
        result = _record_failure(manifest, out_dir, db_path, run_id, code, message, exc, log)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return result


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _record_failure(
    manifest: dict[str, Any],
    out_dir: Path,
    db_path: Path,
    run_id: str,
    code: int,
    message: str,
    exc: BaseException,
    log: Log,
) -> RunResult:
    manifest.update(
        status="failed",
        ended_at=datetime.now(UTC).isoformat(timespec="seconds"),
        exit_code=code,
        error=message,
        stage_seconds=log.timings,
    )
    failed_dir = out_dir / "failed" / run_id
    try:
        failed_dir.mkdir(parents=True, exist_ok=True)
        staged_rejects = failed_dir / ".rejected_rows.csv.partial"
        if staged_rejects.exists():
            staged_rejects.rename(failed_dir / "rejected_rows.csv")
        (failed_dir / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
        )
        if not isinstance(exc, InputError | LockedError):
            (failed_dir / "error.txt").write_text(
                "".join(traceback.format_exception(exc)), encoding="utf-8"
            )
        publish.append_history(db_path, manifest)
    except OSError as write_error:
        log.warning("could not record the failed run", error=str(write_error))
    if log.mode == "json":
        log.event("run failed", level="error", run_id=run_id, exit_code=code, error=message)
    return RunResult(run_id, code, manifest, out_dir, db_path, message=message)


class _Job:
    """One run's state; the stages are its methods, in order."""

    def __init__(
        self,
        input_dir: Path,
        out_dir: Path,
        db_path: Path,
        run_id: str,
        manifest: dict[str, Any],
        log: Log,
    ) -> None:
        self.input_dir = input_dir
        self.out_dir = out_dir
        self.db_path = db_path
        self.run_id = run_id
        self.manifest = manifest
        self.log = log
        self.con: duckdb.DuckDBPyConnection | None = None
        self.config = Config()
        self.files: dict[str, list[SourceFile]] = {}

    def close(self) -> None:
        if self.con is not None:
            try:
                self.con.close()
            finally:
                self.con = None

    # ------------------------------------------------------------ stages

    def execute(self, config_path: Path | None, outputs: list[Path]) -> None:
        self.config = load_config(config_path)
        self.manifest["parameters"] = dict(self.config.parameters)
        self.manifest["max_rejected_share"] = self.config.max_rejected_share
        self.files = self._discover()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        hashes = self._start_hashing()
        self._connect()
        with self.log.stage("load"):
            self._load()
        with self.log.stage("validate"):
            self._validate()
        with self.log.stage("audit"):
            self._audit()
        self._finish_hashing(hashes)
        with self.log.stage("report"):
            self._history()
            self._write_outputs()
        with self.log.stage("publish"):
            self._publish(outputs)

    def _discover(self) -> dict[str, list[SourceFile]]:
        return discover(self.input_dir)

    def _start_hashing(self) -> dict[Path, Future[str]]:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._pool = pool
        return {
            f.path: pool.submit(sha256_of, f.path) for files in self.files.values() for f in files
        }

    def _finish_hashing(self, hashes: dict[Path, Future[str]]) -> None:
        with self.log.stage("fingerprint"):
            for files in self.files.values():
                for f in files:
                    f.sha256 = hashes[f.path].result()
        self._pool.shutdown()
        self.manifest["inputs"] = [
            _file_entry(f) for name in TABLES for f in self.files.get(name, [])
        ]

    def _connect(self) -> None:
        build = publish.building_path(self.db_path, self.run_id)
        settings = self.config.engine_settings(self.db_path.parent / f".{self.db_path.name}.tmp")
        try:
            self.con = duckdb.connect(str(build), config=settings)
        except duckdb.Error as exc:
            raise InputError(f"[engine] settings rejected by DuckDB: {_one_line(exc)}") from None
        load.install_macros(self.con)
        load.create_support_tables(self.con)

    def _load(self) -> None:
        from jobs import validate

        con = self.con
        assert con is not None
        validate.create_issue_tables(con)
        self._load_reference()
        for name, table in TABLES.items():
            files = self.files.get(name)
            if not files:
                continue
            with self.log.stage(f"load:{name}", f"{len(files)} file(s)"):
                load.load_raw(con, table, files, self.config)
                load.create_staged_table(con, table, self.run_id)
            self.log.event(f"read {name}", rows=sum(f.rows_read for f in files), files=len(files))

    def _load_reference(self) -> None:
        from jobs.suites import load_code_validity

        load_code_validity(self.con)

    def _validate(self) -> None:
        from jobs import validate

        con = self.con
        assert con is not None
        present = [TABLES[n] for n in TABLES if n in self.files]
        for table in present:
            with self.log.stage(f"validate:{table.name}"):
                validate.validate(con, table, self.run_id)
        validate.build_rejections(con, present, self.run_id)
        self._count_rows(present)
        self._check_rejected_share(present)
        for name, table in TABLES.items():
            if name in self.files:
                load.finalize_loaded_table(con, table)
                load.drop_raw(con, table)
            else:
                load.create_empty_table(con, table)
        con.execute("drop table if exists rejected_keys")
        con.execute("drop table if exists csv_bad_records")  # now part of rejected_rows

    def _count_rows(self, present: list) -> None:
        con = self.con
        assert con is not None
        rejected = dict(
            con.execute(
                "select source_file, count(*) from rejected_rows group by source_file"
            ).fetchall()
        )
        warned = dict(
            con.execute(
                "select source_file, count(distinct record_number) from row_issues "
                "where level = 'warning' group by source_file"
            ).fetchall()
        )
        inputs = []
        for table in present:
            for f in self.files[table.name]:
                f.rows_rejected = rejected.get(str(f.path), 0)
                f.rows_with_warnings = warned.get(str(f.path), 0)
                inputs.append(f)
        self.manifest["inputs"] = [_file_entry(f) for f in inputs]

    def _check_rejected_share(self, present: list) -> None:
        limit = self.config.max_rejected_share
        for table in present:
            files = self.files[table.name]
            read = sum(f.rows_read for f in files)
            rejected = sum(f.rows_rejected for f in files)
            if read and rejected / read > limit:
                self._stage_failed_rejects()
                top = self._top_reasons(table.name)
                raise InputError(
                    f"{table.name}: {rejected} of {read} rows rejected "
                    f"({rejected / read:.1%} > max_rejected_share {limit:.1%}); "
                    f"most frequent: {top}; see {self.out_dir / 'failed' / self.run_id}"
                    "/rejected_rows.csv"
                )

    def _top_reasons(self, table: str) -> str:
        assert self.con is not None
        rows = self.con.execute(
            "select reasons, count(*) as n from rejected_rows where table_name = ? "
            "group by reasons order by n desc, reasons limit 3",
            [table],
        ).fetchall()
        return ", ".join(f"{r} ({n})" for r, n in rows)

    def _stage_failed_rejects(self) -> None:
        failed_dir = self.out_dir / "failed" / self.run_id
        failed_dir.mkdir(parents=True, exist_ok=True)
        target = failed_dir / ".rejected_rows.csv.partial"
        self._copy_rejected(target)

    def _copy_rejected(self, target: Path) -> None:
        assert self.con is not None
        self.con.execute(
            f"copy (select * exclude (run_id) from rejected_rows "
            f"order by table_name, source_file, record_number) "
            f"to {load.lit(str(target))} (header, delimiter ',')"
        )

    def _audit(self) -> None:
        from jobs import audit

        con = self.con
        assert con is not None
        eligibility = "eligibility" in self.files
        self.manifest["eligibility_supplied"] = eligibility
        try:
            stats = self._run_rules(con, eligibility)
        except ValueError as exc:  # a bad user-supplied reference file
            raise InputError(_one_line(exc)) from None
        self.manifest["rules"] = [
            {
                "id": s.rule_id,
                "version": s.rule_version,
                "title": s.title,
                "severity": s.severity,
                "lines_checked": s.lines_checked,
                "lines_exempt": s.lines_exempt,
                "findings": s.findings,
            }
            for s in stats
        ]
        self.manifest["value_sets"] = audit.value_set_versions()
        self.manifest["findings"] = _finding_totals(con)

    def _run_rules(self, con: duckdb.DuckDBPyConnection, eligibility: bool) -> list:
        from jobs import audit

        return audit.run_audit(
            con,
            dict(self.config.parameters),
            self.run_id,
            eligibility_supplied=eligibility,
            ndc_crosswalk=self.config.ndc_crosswalk,
        )

    def _history(self) -> None:
        """Carry the findings history over from the published database."""
        con = self.con
        assert con is not None
        con.execute("create table findings_history as select * from findings limit 0")
        if self.db_path.exists():
            try:
                con.execute(f"attach {load.lit(str(self.db_path))} as previous (read_only)")
            except duckdb.Error as exc:
                if "lock" in str(exc).lower():
                    raise LockedError(
                        f"database {self.db_path} is held by another writer: {_one_line(exc)}"
                    ) from None
                self.log.warning(
                    "previous database unreadable; starting a new history",
                    error=_one_line(exc),
                )
            else:
                has = con.execute(
                    "select count(*) from duckdb_tables() "
                    "where database_name = 'previous' and table_name = 'findings_history'"
                ).fetchone()[0]
                if has:
                    con.execute(
                        "insert into findings_history select * from previous.findings_history"
                    )
                con.execute("detach previous")
        con.execute("insert into findings_history select * from findings")
        self._run_history()

    def _run_history(self) -> None:
        """Every earlier run from the journal, plus this one (as succeeded).

        ``run_seq`` is the run's position in the journal (1 = oldest). Runs of one database
        are serialized by the writer lock, so it orders runs exactly; ``started_at`` has
        one-second resolution and a run that fails at once can share its second with the next.
        """
        con = self.con
        assert con is not None
        self.manifest["status"] = "succeeded"
        self.manifest["exit_code"] = 0
        history = publish.read_history(self.db_path) + [self.manifest]
        con.execute(
            """
            create or replace table run_history (
                run_id varchar, status varchar, started_at varchar, ended_at varchar,
                exit_code integer, tool_version varchar, n_findings bigint, manifest json,
                run_seq integer
            )
            """
        )
        con.executemany(
            "insert into run_history values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    m.get("run_id"),
                    m.get("status"),
                    m.get("started_at"),
                    m.get("ended_at"),
                    m.get("exit_code"),
                    m.get("tool_version"),
                    (m.get("findings") or {}).get("total"),
                    json.dumps(m, sort_keys=True, default=str),
                    seq,
                )
                for seq, m in enumerate(history, start=1)
            ],
        )

    def _write_outputs(self) -> None:
        from jobs import report

        con = self.con
        assert con is not None
        out = self.out_dir
        tmp = lambda name: publish.temp_output(out / name, self.run_id)  # noqa: E731
        order = "order by rule_id, claim_id, claim_line_number"
        con.execute(
            f"copy (select {EXCEPTION_COLUMNS} from findings {order}) "
            f"to {load.lit(str(tmp('exceptions.csv')))} (header, delimiter ',')"
        )
        con.execute(
            f"copy (select {EXCEPTION_COLUMNS} from findings {order}) "
            f"to {load.lit(str(tmp('exceptions.parquet')))} (format parquet)"
        )
        self._copy_rejected(tmp("rejected_rows.csv"))
        self.manifest["outputs"] = [str(out / n) for n in OUTPUT_NAMES]
        self.manifest["stage_seconds"] = dict(self.log.timings)
        report.write_report(con, self.manifest, self.config, tmp("report.html"))

    def _publish(self, outputs: list[Path]) -> None:
        con = self.con
        assert con is not None
        self.manifest["ended_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.manifest["stage_seconds"] = dict(self.log.timings)
        con.execute(
            "update run_history set ended_at = ?, manifest = ? where run_id = ?",
            [
                self.manifest["ended_at"],
                json.dumps(self.manifest, sort_keys=True, default=str),
                self.run_id,
            ],
        )
        from jobs import marts

        marts.create_views(con)
        con.execute("checkpoint")
        self.close()
        manifest_tmp = publish.temp_output(self.out_dir / "manifest.json", self.run_id)
        manifest_tmp.write_text(
            json.dumps(self.manifest, indent=2, default=str) + "\n", encoding="utf-8"
        )
        publish.publish(self.db_path, self.run_id, outputs)
        publish.append_history(self.db_path, self.manifest)
        tmp_dir = self.db_path.parent / f".{self.db_path.name}.tmp"
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _file_entry(f: SourceFile) -> dict[str, Any]:
    return {
        "table": f.table,
        "path": str(f.path),
        "format": f.format,
        "bytes": f.bytes,
        "sha256": f.sha256,
        "rows_read": f.rows_read,
        "rows_accepted": f.rows_accepted,
        "rows_rejected": f.rows_rejected,
        "rows_with_warnings": f.rows_with_warnings,
    }


def _finding_totals(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Totals for the manifest; dollars at risk count each failed line once."""
    total, lines = con.execute(
        "select count(*), count(distinct (claim_id, claim_line_number)) from findings"
    ).fetchone()
    by_status = dict(
        con.execute(
            "select status, count(*) from findings group by status order by status"
        ).fetchall()
    )
    amounts = dict(
        con.execute(
            """
            select status, coalesce(sum(paid_amount), 0) from (
                select distinct status, claim_id, claim_line_number, paid_amount from findings
            ) group by status
            """
        ).fetchall()
    )
    return {
        "total": total,
        "lines_with_findings": lines,
        "by_status": by_status,
        "paid_amount_by_status": {k: float(v) for k, v in amounts.items()},
        "dollars_at_risk": float(amounts.get("fail", 0)),
    }
