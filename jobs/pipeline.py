"""The nightly job: load, validate, audit, report, publish.

`run()` is the library entry point the CLI wraps. It never raises for a bad
input: it returns a RunResult whose exit code follows the contract (0 the
audit ran, 2 unusable input or configuration, 1 anything else), and every
run, failed ones too, leaves a manifest.

`_Job` holds one run's state and the sequence of the stages; each stage's work
lives in its package (jobs.ingest, jobs.validation, jobs.audit, jobs.report,
jobs.review, jobs.publish). The Spark engine (jobs.spark.pipeline) overrides the
hooks that differ: discovery, fingerprints, loading, validation and the rules.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import signal
import traceback
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from jobs import __version__, faults
from jobs.audit import marts, runner
from jobs.audit.reference import (
    ReferenceDataError,
    check_reference_data,
    read_value_sets,
    value_set_versions,
)
from jobs.config import Config, load_config
from jobs.errors import (
    AuditError,
    ForeignDatabaseError,
    InputError,
    LockedError,
    classify,
    environment_failure,
    first_line,
)
from jobs.ingest import fingerprint, load, volume
from jobs.ingest.discover import SourceFile, discover, sha256_of
from jobs.ingest.schema import DECISIONS, TABLES, Table
from jobs.log import Log
from jobs.publish import atomic, journal, outputs, recovery, target
from jobs.publish.lock import RunInfo, writer_lock
from jobs.report.context.summary import out_of_scope_codes
from jobs.report.render import write_report
from jobs.review import decisions as review_decisions
from jobs.review import lifecycle
from jobs.review.history import carry_findings_history, carry_review_tables
from jobs.sqltext import lit
from jobs.validation import gx_duckdb, increment, quarantine, reuse, scan, validate
from jobs.validation.suites import load_code_validity

# The published database, attached read-only while the run reads what it retains.
PREVIOUS = "previous"
# The value set whose codes make a medical-claim line an ESI line (the cohort's persons).
ESI_VALUE_SET = "esi_cervical_thoracic"


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
    decisions_path: Path | None = None,
    run_date: date | None = None,
    rehash: bool = False,
) -> RunResult:
    """Run the nightly job (see the module docstring). `decisions_path`: the reviewers'
    decisions file (wins over ``[review] decisions``); `run_date`: the run's date (first
    seen, ages, waiver expiry; default ``CLAIMS_AUDIT_RUN_DATE``, else today in UTC);
    `rehash`: compute every input file's SHA-256 even when its path, size and
    modification time are unchanged."""
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
    final = [out_dir / name for name in outputs.OUTPUT_NAMES]
    try:
        job = _Job(Path(input_dir), out_dir, db_path, run_id, manifest, log)
        job.decisions_option = Path(decisions_path) if decisions_path else None
        job.run_date_option = run_date
        job.rehash = rehash
        return execute_run(job, config_path, final, Path(input_dir))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def execute_run(
    job: _Job, config_path: Path | None, final: list[Path], input_dir: Path | None
) -> RunResult:
    """What both engines do around a job: check the database to publish to, read the
    configuration, take the writer lock, finish or clean up after a run that died
    (jobs.publish.recovery), run the stages, and record the run's end. Never raises for
    a failure: returns the RunResult with the contract's exit code."""
    try:
        target.check_database(job.db_path, input_dir)
        config = load_config(config_path)
        job.spill_dir = atomic.spill_path(job.db_path, job.run_id, config.temp_directory)
        info = RunInfo(
            run_id=job.run_id,
            started_at=job.manifest["started_at"],
            db=str(job.db_path),
            out_dir=str(job.out_dir),
            spill_dir=str(job.spill_dir),
        )
        with writer_lock(job.db_path) as lock:
            recovery.recover(job.db_path, lock.previous, job.run_id, job.out_dir, job.log)
            lock.claim(info)
            result, recorded = job.run_to_end(config, final)
            if recorded:
                lock.released_cleanly()
            return result
    except (AuditError, _Terminated, KeyboardInterrupt, Exception) as exc:
        return job.record_failure(exc)[0]


def _record_failure(
    manifest: dict[str, Any],
    out_dir: Path,
    db_path: Path,
    run_id: str,
    code: int,
    message: str,
    exc: BaseException,
    log: Log,
) -> tuple[RunResult, bool]:
    """Record a failed run: its manifest (and staged rejected rows) in
    ``<out>/failed/<run_id>/``, its record in the run journal (not beside a `--db` that is
    not ours). Returns the result and whether the journal record was written."""
    manifest.update(
        status="failed",
        ended_at=datetime.now(UTC).isoformat(timespec="seconds"),
        exit_code=code,
        error=message,
        stage_seconds=log.timings,
    )
    failed_dir = out_dir / "failed" / run_id
    recorded = False
    try:
        failed_dir.mkdir(parents=True, exist_ok=True)
        staged_rejects = failed_dir / quarantine.STAGED_REJECTS
        if staged_rejects.exists():
            staged_rejects.rename(failed_dir / "rejected_rows.csv")
        (failed_dir / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
        )
        if not isinstance(exc, InputError | LockedError):
            (failed_dir / "error.txt").write_text(
                "".join(traceback.format_exception(exc)), encoding="utf-8"
            )
    except OSError as write_error:
        log.warning("could not record the failed run", error=str(write_error))
    if not isinstance(exc, ForeignDatabaseError):
        try:
            journal.append_history(db_path, manifest)
            recorded = True
        except OSError as write_error:
            log.warning("could not record the failed run's history", error=str(write_error))
    if log.mode == "json":
        log.event("run failed", level="error", run_id=run_id, exit_code=code, error=message)
    return RunResult(run_id, code, manifest, out_dir, db_path, message=message), recorded


class _Job:
    """One run's state and the sequence of its stages; each stage delegates to its package."""

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
        self.spill_dir = atomic.spill_path(db_path, run_id, None)
        self.committed = False  # the run's journal record is written: it is published
        self.decisions_option: Path | None = None  # run --decisions (wins over [review])
        self.decisions_path: Path | None = None
        self.run_date_option: date | None = None  # run(run_date=...): wins over the variable
        self.run_date = datetime.now(UTC).date()  # execute() reads CLAIMS_AUDIT_RUN_DATE
        self.rehash = False  # run --rehash: hash every file, keep no indexed SHA-256
        self.previous = False  # the published database is attached as PREVIOUS
        self.retained: list[fingerprint.Retained] = []
        self.increment: increment.Increment | None = None  # a night that adds files
        self.version = ""
        self._hashes: dict[Path, Future[str]] = {}

    def close(self) -> None:
        if self.con is not None:
            try:
                self.con.close()
            finally:
                self.con = None

    def release(self) -> None:
        """Free what the engine holds besides the connection (the Spark engine's views)."""

    # ------------------------------------------------------------ start and end

    def run_to_end(self, config: Config, final: list[Path]) -> tuple[RunResult, bool]:
        """Run the stages and record the end; returns the result and whether the end is
        recorded (when it is not, the lock keeps naming this run for the next one)."""
        try:
            self.execute(config, final)
        except (AuditError, _Terminated, KeyboardInterrupt, Exception) as exc:
            if self.committed:  # published: the next run finishes the renames
                error = self.describe_failure(exc)
                message = (
                    f"run {self.run_id} is published but its files could not all be moved "
                    f"into place ({first_line(error)}); the next run finishes moving them"
                )
                self.log.warning(message)
                return self._result(1, message), False
            return self.record_failure(exc)
        finally:
            self.release()
        atomic.remove_run_folder(self.spill_dir, self.run_id)
        return self._result(0, "", final), True

    def _result(self, code: int, message: str, final: list[Path] | None = None) -> RunResult:
        return RunResult(
            self.run_id, code, self.manifest, self.out_dir, self.db_path, message, final or []
        )

    def record_failure(self, exc: BaseException) -> tuple[RunResult, bool]:
        """Remove the run's unpublished files and record it as failed (exit code from the
        error: the input's fault 2, anything else 1)."""
        with contextlib.suppress(Exception):  # what is left, the next run removes
            self.close()
            atomic.remove_build(self.db_path, self.run_id)
            atomic.discard_outputs(self.run_id, [self.out_dir / n for n in outputs.OUTPUT_NAMES])
            atomic.remove_run_folder(self.spill_dir, self.run_id)
        error = self.describe_failure(exc)
        message = first_line(error)
        if isinstance(exc, duckdb.Error) and "lock" in str(exc).lower():
            message = f"database {self.db_path} is locked by another process: {message}"
        return _record_failure(
            self.manifest, self.out_dir, self.db_path, self.run_id, error.exit_code, message,
            exc, self.log,
        )  # fmt: skip

    def describe_failure(self, exc: BaseException) -> AuditError:
        """The error as the contract sees it: its exit code and one line."""
        return classify(exc, self.spill_dir)

    # ------------------------------------------------------------ the sequence

    def execute(self, config: Config, final: list[Path]) -> None:
        self.config = config
        self._check_reference()
        self.decisions_path = self._decisions_file()
        self.run_date = self.run_date_option or lifecycle.run_date()
        self.manifest["run_date"] = self.run_date.isoformat()
        self.manifest["parameters"] = dict(self.config.parameters)
        self.manifest["max_rejected_share"] = self.config.max_rejected_share
        self.manifest["max_volume_drop"] = self.config.max_volume_drop
        self.files = self._discover()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._connect()
        self._attach_previous()
        hashes = self._hashes = self._start_hashing()
        with self.log.stage("load"):
            self._load()
            self._check_volume()
        with self.log.stage("validate"):
            faults.at("validate")
            self._validate()
        with self.log.stage("audit"):
            self._audit()
        self._finish_hashing(hashes)
        self._record_files()
        with self.log.stage("review"):
            self._lifecycle()
            self._decisions()
        with self.log.stage("report"):
            self._history()
            faults.at("report", self.out_dir)
            self._write_outputs()
        with self.log.stage("publish"):
            self._publish(final)

    # ------------------------------------------------------------ the stages

    def _check_reference(self) -> None:
        """The value sets, reference files and crosswalk, before any work: a configured
        crosswalk the rules cannot use exits 2, broken shipped reference data exits 1."""
        try:
            check_reference_data(self.config.ndc_crosswalk)
        except ReferenceDataError as exc:
            error = InputError if exc.user_supplied else AuditError
            raise error(first_line(exc)) from None

    def _discover(self) -> dict[str, list[SourceFile]]:
        return discover(self.input_dir)

    def _all_files(self) -> list[SourceFile]:
        return [f for name in TABLES for f in self.files.get(name, [])]

    def _attach_previous(self) -> None:
        """Attach the published database read-only: the validations it retains (its
        files' fingerprints and row issues) can be reused. An unreadable one is not."""
        if not self.db_path.exists():
            return
        try:
            self._con().execute(f"attach {lit(str(self.db_path))} as {PREVIOUS} (read_only)")
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                raise LockedError(
                    f"database {self.db_path} is held by another writer: {first_line(exc)}"
                ) from None
            self.log.warning("previous database unreadable; nothing reused", error=first_line(exc))
            return
        self.previous = True
        self.retained = fingerprint.read_retained(self._con(), PREVIOUS)

    def _detach_previous(self) -> None:
        if self.previous:
            self._con().execute(f"detach {PREVIOUS}")
            self.previous = False

    def _start_hashing(self) -> dict[Path, Future[str]]:
        """Hash, in the background, every file whose SHA-256 the previous run's index does
        not give (all of them with `rehash`)."""
        files = self._all_files()
        fingerprint.stat_files(files)
        todo = files if self.rehash else fingerprint.keep_indexed_hashes(files, self.retained)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._pool = pool
        return {f.path: pool.submit(sha256_of, f.path) for f in todo}

    def _finish_hashing(self, hashes: dict[Path, Future[str]]) -> None:
        with self.log.stage("fingerprint"):
            for f in self._all_files():
                self._hash(f, hashes)
        self._pool.shutdown()
        self._record_inputs(self._all_files())

    def _record_files(self) -> None:
        """Table ``input_files``: what the next run reuses (jobs.ingest.fingerprint)."""
        fingerprint.create_input_files(self._con(), self._all_files(), self.run_id, self.version)

    def _hash(self, f: SourceFile, hashes: dict[Path, Future[str]]) -> None:
        if f.path in hashes and f.sha256_from != "hashed":
            f.sha256, f.sha256_from = hashes[f.path].result(), "hashed"

    def _record_inputs(self, files: Iterable[SourceFile]) -> None:
        self.manifest["inputs"] = [f.manifest_entry() for f in files]

    def _connect(self) -> None:
        build = atomic.building_path(self.db_path, self.run_id)
        settings = {
            **self.config.engine_settings(self.spill_dir),
            "temp_directory": str(self.spill_dir),
        }
        try:
            self.con = duckdb.connect(str(build), config=settings)
        except duckdb.Error as exc:
            raise environment_failure(exc, self.spill_dir) or InputError(
                f"[engine] settings rejected by DuckDB: {first_line(exc)}"
            ) from None
        # Every statement over an extract would parse its footer again: 0.11 s for a
        # 100M-line history file (801 row groups x 148 columns), in each of the run's
        # scans. DuckDB checks the file's modification time before using its copy.
        self.con.execute("set parquet_metadata_cache = true")
        load.install_macros(self.con)
        load.create_support_tables(self.con)

    def _load(self) -> None:
        """Read every file (raw relations), decide which files are validated and which
        reuse an earlier validation, and scan the tables (jobs.validation.scan): the
        staged tables hold the rows validation and the cohort need."""
        con = self._con()
        # Great Expectations' import (about 2.5 s of one core) starts now, beside the
        # reference data, the reads of the files' metadata and the reuse decisions
        # (mostly DuckDB on one core: a night at 100M spends about 0.9 s there).
        gx_duckdb.preload()
        validate.create_issue_tables(con)
        self._load_reference()
        load.read_tables(con, self.files, self.config, self.log)
        self.version = reuse.validation_version()
        self.manifest["validation_version"] = self.version
        reuse.create_carried_table(con)
        self._decide_reuse()
        esi = self._esi_codes()
        inc = self.increment = (
            increment.plan(con, self.files, self.retained, PREVIOUS) if self.previous else None
        )
        incremental = inc.tables() if inc else []
        if not incremental:
            # On a night the DuckDB work is small, so the import takes what it needs. On a
            # cold run the scans use both cores: at the same priority the import slowed
            # them more than it saved (10M lines), so it goes on at the lowest one, on the
            # CPU they leave idle (10M: 19.9-20.9 s to 17.0-17.2 s; the peak grows by the
            # import, about 180 MB).
            gx_duckdb.idle_preload()
        for name in incremental:
            increment.create_views(con, TABLES[name], inc)

        def scope(table: Table) -> tuple[str | None, list[str] | None]:
            """(the relation pass 1 and pass 2 read, the files validated in it): in an
            increment, the new files only (all validated); else every file."""
            if table.name in incremental:
                return f"raw_{table.name}_new", None
            return None, self._validated(table)

        found = {}
        for table in self._present():
            with self.log.stage(f"scan:{table.name}"):
                plan = scan.scan_plan(table)
                codes = esi if table.name == "medical_claim" else None
                source, validated = scope(table)
                found[table.name] = (plan, scan.pass1(con, plan, validated, codes, source))
                self._note_trimmed_keys(table, found[table.name][1], inc if source else None)
        history = 0
        if inc:
            with self.log.stage("scan:history"):
                entering = increment.add_previous_persons(con, PREVIOUS, esi)
                for name in incremental:
                    files = self.files[name]
                    checked = entering and increment.note_trimmed_persons(
                        con, TABLES[name], inc, files
                    )
                    if checked:
                        self.log.event(f"checked the person ids of {name}", files=checked)
                    trimmed = {str(f.path) for f in files if f.keys_trimmed}
                    persons = {str(f.path) for f in files if f.persons_trimmed}
                    history += increment.find_old_rows(
                        con, *found[name], inc, PREVIOUS, entering, trimmed, persons
                    )
            self.manifest["increment"] = {"history_rows_staged": history}
        for table in self._present():
            plan, result = found[table.name]
            source, validated = scope(table)
            with self.log.stage(f"stage:{table.name}"):
                n = scan.pass2(
                    con,
                    plan,
                    result,
                    validated,
                    self.run_id,
                    keep_all=table.name == "practitioner",
                    source=source,
                )
                if table.name in incremental:
                    parquet = {str(f.path) for f in self.files[table.name] if f.format == "parquet"}
                    n += increment.stage_old_rows(con, table, self.run_id, parquet)
            self.log.event(
                f"staged {table.name}", rows=n, bad_values=sum(result.bad_values.values())
            )

    def _note_trimmed_keys(
        self, table: Table, found: scan.ScanResult, inc: increment.Increment | None
    ) -> None:
        """Record, for each file pass 1 read (`inc`: only tonight's new files), whether its
        key ids are all their own trimmed text (input_files.key_ids_trimmed)."""
        if found.untrimmed_files is None:
            return
        read = set(inc.new[table.name]) if inc else None
        for f in self.files[table.name]:
            if read is None or str(f.path) in read:
                f.keys_trimmed = str(f.path) not in found.untrimmed_files

    def _check_volume(self) -> None:
        """Stop (exit 2) on an empty medical_claim or a table whose rows read fell by more
        than [validation] max_volume_drop against the previous successful run."""
        report = volume.volume_report(self.files, journal.last_succeeded(self.db_path))
        self.manifest["volume"] = report
        volume.check_volume(report, self.config.max_volume_drop, self.files)

    def _load_reference(self) -> None:
        load_code_validity(self._con())

    def _esi_codes(self) -> list[str]:
        return sorted({r["code"] for r in read_value_sets() if r["value_set"] == ESI_VALUE_SET})

    def _decide_reuse(self) -> None:
        """Mark each file validated or reused (carrying its earlier row issues)."""
        for f in self._all_files():
            f.validation, f.validated_by = "validated", self.run_id
            if not fingerprint.may_reuse(f, self.retained, self.version):
                continue
            self._hash(f, self._hashes)
            earlier = fingerprint.reusable(f, self.retained, self.version)
            if earlier:
                f.validation, f.validated_by = "reused", earlier.validated_by
                f.earlier_path = earlier.path
                f.keys_trimmed = earlier.keys_trimmed
                f.persons_trimmed = earlier.persons_trimmed
                reuse.carry(self._con(), f, earlier.path, PREVIOUS)

    def _validated(self, table: Table) -> list[str] | None:
        """The files of `table` validated in this run (None: all of them)."""
        files = self.files[table.name]
        validated = [str(f.path) for f in files if f.validation == "validated"]
        return None if len(validated) == len(files) else validated

    def _validate(self) -> None:
        con = self._con()
        present = self._present()
        for table in present:
            with self.log.stage(f"validate:{table.name}"):
                outcomes = validate.validate(
                    con, table, self.run_id, self._validated(table), results=False
                )
                if self.increment and table.name in self.increment.tables():
                    increment.carry_spanning(con, table, PREVIOUS)
            earlier = {}
            if self.previous and any(f.validation == "reused" for f in self.files[table.name]):
                earlier = reuse.earlier_examples(con, table.name, PREVIOUS)
            validate.write_results(
                con,
                table,
                self.run_id,
                self._rows_checked(table),
                validate.examples_of(outcomes),
                earlier,
            )
        quarantine.build_rejections(con, present, self.run_id, reuse.CARRIED_REJECTED)
        self._quarantine(present)
        codes = [c["code"] for c in out_of_scope_codes()]
        if not (self.increment and increment.write_coverage(con, self.increment, PREVIOUS, codes)):
            scan.write_coverage(con, "medical_claim" in self.files, codes)
        earlier = None
        if self.increment:
            earlier = functools.partial(increment.earlier_rows, PREVIOUS, run_id=self.run_id)
        self.manifest["cohort"] = load.finalize_tables(con, self.files, self._esi_codes(), earlier)
        scan.drop_scan_tables(con)
        con.execute("drop table if exists rejected_keys")
        con.execute("drop table if exists csv_bad_records")  # now part of rejected_rows
        self._detach_previous()

    def _rows_checked(self, table: Table) -> int:
        """Rows of `table` the suite checks: rows read, less the unparseable CSV records."""
        ((bad,),) = (
            self._con()
            .execute("select count(*) from csv_bad_records where table_name = ?", [table.name])
            .fetchall()
        )
        return sum(f.rows_read for f in self.files[table.name]) - bad

    def _present(self) -> list[Table]:
        return [TABLES[n] for n in TABLES if n in self.files]

    def _quarantine(self, present: list[Table]) -> None:
        """Count each file's rejected rows; stop (exit 2) when a table rejects too many."""
        con = self._con()
        self._record_inputs(quarantine.count_rows(con, self.files, present))
        quarantine.check_rejected_share(
            con,
            self.files,
            present,
            self.config.max_rejected_share,
            self.out_dir / "failed" / self.run_id,
        )

    def _audit(self) -> None:
        con = self._con()
        eligibility = "eligibility" in self.files
        self.manifest["eligibility_supplied"] = eligibility
        try:
            stats = self._run_rules(con, eligibility)
        except ValueError as exc:  # a bad user-supplied reference file
            raise InputError(first_line(exc)) from None
        self.manifest["rules"] = runner.manifest_rules(stats)
        self.manifest["value_sets"] = value_set_versions()
        self.manifest["findings"] = runner.finding_totals(con)

    def _run_rules(self, con: duckdb.DuckDBPyConnection, eligibility: bool) -> list:
        return runner.run_audit(
            con,
            dict(self.config.parameters),
            self.run_id,
            eligibility_supplied=eligibility,
            ndc_crosswalk=self.config.ndc_crosswalk,
        )

    def _decisions_file(self) -> Path | None:
        """The reviewers' decisions file (`--decisions`, else ``[review] decisions``); a
        configured file that does not exist stops the run (exit 2)."""
        path = self.decisions_option or self.config.decisions
        if path is None:
            return None
        path = Path(path).resolve()
        if not path.is_file():
            raise InputError(f"decisions file {path}: not found")
        return path

    def _lifecycle(self) -> None:
        """finding_lifecycle from the published database's and this run's findings."""
        self.manifest["lifecycle"] = lifecycle.build_lifecycle(
            self._con(),
            self.db_path,
            self.run_id,
            self.run_date,
            dict(self.config.parameters),
            self.log,
        )

    def _decisions(self) -> None:
        """Read and validate the decisions file (rejected rows with their reasons, table
        ``decisions``), apply the decisions: review states, dollars at risk, findings."""
        con = self._con()
        path = self.decisions_path
        if path is not None:
            source = SourceFile(
                table=DECISIONS.name,
                path=path,
                format="parquet" if path.name.lower().endswith(".parquet") else "csv",
                bytes=path.stat().st_size,
            )
            load.create_support_tables(con)
            load.load_raw(con, DECISIONS, [source], self.config)
            load.create_staged_table(con, DECISIONS, self.run_id)
            validate.validate(con, DECISIONS, self.run_id)
            quarantine.insert_rejected_rows(con, DECISIONS, self.run_id)
            quarantine.insert_malformed_records(con, self.run_id)
            quarantine.count_rows(con, {DECISIONS.name: [source]}, [DECISIONS])
            source.sha256 = sha256_of(path)
            self.manifest["decisions_file"] = source.manifest_entry()
        counts = review_decisions.apply_decisions(
            con, self.db_path, self.run_id, self.run_date, self.log, read=path is not None
        )
        self.manifest["decisions"] = counts
        if path is not None:
            con.execute("drop table stg_decisions")
            load.drop_raw(con, DECISIONS)
            con.execute("drop table if exists csv_bad_records")
        review_decisions.finalize_findings(con, outputs.EXCEPTION_COLUMNS)
        self.manifest.setdefault("findings", {}).update(review_decisions.dollar_totals(con))
        self.manifest["lifecycle"]["worklist"] = review_decisions.build_worklist(
            con, self.run_id, self.run_date
        )

    def _history(self) -> None:
        """The findings history and the run history the new database carries."""
        con = self._con()
        carry_findings_history(con, self.db_path, self.log, lifecycle.finding_id_sql())
        carry_review_tables(con, self.db_path, self.log)
        self.manifest["status"] = "succeeded"
        self.manifest["exit_code"] = 0
        journal.write_run_history(con, self.db_path, self.manifest)

    def _write_outputs(self) -> None:
        try:
            self._write_output_files()
        except (OSError, duckdb.Error) as exc:
            failure = environment_failure(exc, self.spill_dir, where=self.out_dir)
            if failure is None:
                raise
            raise failure from exc

    def _write_output_files(self) -> None:
        con = self._con()
        tmp = lambda name: atomic.temp_output(self.out_dir / name, self.run_id)  # noqa: E731
        # rejected_rows.csv holds every rejected row of the run (394 MB for a 100M-line
        # history): one DuckDB COPY, which leaves the interpreter free, while the other
        # outputs are written and the report, mostly Python (its template), is built.
        # It is the stage's longest part (a night at 100M: 2.7 s against 2.0 s for the
        # report), so it starts first, on a cursor of its own (rejected_rows is
        # committed); the pool waits for the copy whatever the rest does, and the copy's
        # error, if any, is raised here.
        cursor = con.cursor()
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rejected-csv") as pool:
                copying = pool.submit(quarantine.copy_rejected, cursor, tmp("rejected_rows.csv"))
                outputs.write_exceptions(con, tmp("exceptions.csv"), tmp("exceptions.parquet"))
                outputs.write_worklist(con, tmp("worklist.csv"))
                self.manifest["outputs"] = [str(self.out_dir / n) for n in outputs.OUTPUT_NAMES]
                self.manifest["stage_seconds"] = dict(self.log.timings)
                write_report(con, self.manifest, self.config, tmp("report.html"))
            copying.result()
        finally:
            cursor.close()

    def _publish(self, final: list[Path]) -> None:
        """One commit point: the run's journal record (jobs.publish.atomic)."""
        con = self._con()
        self.manifest["ended_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.manifest["stage_seconds"] = dict(self.log.timings)
        journal.update_run(con, self.manifest)
        marts.create_views(con)
        con.execute("checkpoint")
        self.close()
        manifest_tmp = atomic.temp_output(self.out_dir / "manifest.json", self.run_id)
        manifest_tmp.write_text(
            json.dumps(self.manifest, indent=2, default=str) + "\n", encoding="utf-8"
        )
        faults.at("outputs-written")
        atomic.publish(self.db_path, self.run_id, final, self._commit)

    def _commit(self) -> None:
        journal.append_history(self.db_path, self.manifest)
        self.committed = True

    def _con(self) -> duckdb.DuckDBPyConnection:
        assert self.con is not None
        return self.con
