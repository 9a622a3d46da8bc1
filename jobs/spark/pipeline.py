"""The nightly job on Spark: load, validate, audit on the cluster; report and publish on the driver.

The run follows jobs.pipeline stage by stage (its `_Job` is the base class): what
differs is where the input rows live. Loading, validation and the audit run as
Spark jobs; only findings, counts and report data come back to the driver, into
a local DuckDB audit database built and published exactly as the DuckDB engine
builds and publishes it (history, report, outputs, manifest, failed runs).

The local audit database holds what the DuckDB engine's does: findings,
findings_history, run_history, rule_stats, mart_esi_lines, mart_rule_coverage,
validation_results, row_issues, rejected_rows, input_files, input_coverage, value_sets,
ref_*, ndc_crosswalk, code_validity, the analyst views and the audited cohort (the
accepted rows of the persons with an ESI line, collected to the driver; practitioner
whole). Other persons' rows and the int_* models stay on the cluster.

Input fingerprints: every byte is not hashed on Spark; each input file's entry in
the manifest carries its size and modification time from the file system listing
(`fingerprint_method` "size+mtime"), and `sha256` is null. So on Spark a file reuses
an earlier validation when its path, size and modification time (and table, mapping
and validation version) equal those the published database recorded: the same file,
unchanged, as far as the listing can tell (git's index takes the same view).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs import __version__
from jobs import pipeline as duck_pipeline
from jobs.errors import AuditError, environment_failure
from jobs.ingest import fingerprint, schema
from jobs.ingest.schema import TABLES
from jobs.log import Log
from jobs.pipeline import RunResult, new_run_id
from jobs.publish import journal
from jobs.publish.outputs import OUTPUT_NAMES
from jobs.report.context.summary import out_of_scope_codes
from jobs.spark.session import error_line
from jobs.validation import quarantine, reuse, scan, suites
from jobs.validation import validate as duck_validate

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FINGERPRINT_METHOD = "size+mtime"


def run(
    spark: SparkSession,
    input_uri: str | Path,
    out_dir: str | Path,
    config_path: str | Path | None = None,
    db_path: str | Path | None = None,
    log: Log | None = None,
    decisions_path: str | Path | None = None,
) -> RunResult:
    """Audit the extracts under `input_uri` with an existing SparkSession.

    input_uri: a directory of Tuva-layout extracts (one entry per table, Parquet or
        CSV), as a local path or any URI the session can read (s3a://, abfss://,
        gs://, hdfs://, dbfs:/ ...).
    out_dir: where the outputs go (exceptions.csv/.parquet, rejected_rows.csv,
        manifest.json, report.html): a local or mounted path, or a URI written
        through Hadoop's FileSystem API (copied once the run has succeeded).
    config_path: the TOML configuration (same file as the DuckDB engine).
    db_path: the audit database (DuckDB file; default <out_dir>/audit.duckdb). A
        URI is downloaded before the run and uploaded after it.
    decisions_path: the reviewers' decisions CSV (a local or mounted path; overrides the
        configuration's [review] decisions). It is read on the driver, into the local
        audit database, as the DuckDB engine reads it.

    Never raises for a bad input: returns a RunResult whose exit_code follows the
    contract (0 ran, 2 unusable input or configuration, 1 anything else).
    """
    from jobs.spark import files
    from jobs.spark.session import import_pyspark, run_session

    log = log or Log()
    import_pyspark()
    out_text, db_text = str(out_dir), None if db_path is None else str(db_path)
    remote_out = not files.is_local(out_text)
    db_text = db_text or files.join(out_text, "audit.duckdb")
    remote_db = not files.is_local(db_text)
    staging = Path(tempfile.mkdtemp(prefix="claims-audit-")) if remote_out or remote_db else None
    local_out = staging / "out" if remote_out else files.local_path(out_text)
    local_db = staging / "db" / Path(db_text).name if remote_db else files.local_path(db_text)

    run_id = new_run_id()
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "status": "running",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "engine": "spark",
        "input_dir": str(files.local_path(str(input_uri)))
        if files.is_local(str(input_uri))
        else str(input_uri).rstrip("/"),
        "out_dir": out_text if remote_out else str(local_out),
        "db": db_text if remote_db else str(local_db),
        "config": str(Path(config_path).resolve()) if config_path else None,
        "fingerprint_method": FINGERPRINT_METHOD,
    }
    previous = None
    try:
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, duck_pipeline._on_sigterm)
    except ValueError:  # not the main thread (a library caller): no handler
        previous = None
    outputs = [local_out / name for name in OUTPUT_NAMES]
    job: _SparkJob | None = None
    try:
        session = run_session(spark)
        manifest["spark"] = _spark_facts(session)
        if remote_db:
            for name in (Path(db_text).name, journal.history_path(Path(db_text)).name):
                files.download(
                    spark, files.join(db_text.rsplit("/", 1)[0], name), local_db.parent / name
                )
        job = _SparkJob(session, str(input_uri), local_out, local_db, run_id, manifest, log)
        job.decisions_option = Path(decisions_path) if decisions_path else None
        input_dir = files.local_path(str(input_uri)) if files.is_local(str(input_uri)) else None
        config = Path(config_path) if config_path else None
        result = duck_pipeline.execute_run(job, config, outputs, input_dir)
        if result.exit_code == 0:
            if remote_out:  # manifest.json last: it marks a complete run
                for path in outputs:
                    files.upload(spark, path, files.join(out_text, path.name))
            if remote_db:
                _upload_db(spark, local_db, db_text)
        elif remote_out or remote_db:
            _upload_failure(
                spark, local_out, out_text, local_db, db_text, run_id, remote_out, remote_db
            )
    except (AuditError, duck_pipeline._Terminated, KeyboardInterrupt, OSError, Exception) as exc:
        code = exc.exit_code if isinstance(exc, AuditError) else 1
        message = error_line(exc)
        if job is not None and job.committed:  # ran and committed; copying it out failed
            message = f"run {run_id} finished but copying its results failed: {message}"
            return RunResult(run_id, 1, manifest, local_out, local_db, message=message)
        result, _ = duck_pipeline._record_failure(
            manifest, local_out, local_db, run_id, code, message, exc, log
        )
        if remote_out or remote_db:
            _upload_failure(
                spark, local_out, out_text, local_db, db_text, run_id, remote_out, remote_db
            )
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return result


def _spark_facts(spark: SparkSession) -> dict[str, Any]:
    facts: dict[str, Any] = {"version": spark.version}
    try:
        sc = spark.sparkContext
        facts.update(master=sc.master, app_id=sc.applicationId, parallelism=sc.defaultParallelism)
    except Exception:  # Spark Connect: no SparkContext on the client
        pass
    return facts


def _upload_db(spark: SparkSession, local_db: Path, db_uri: str) -> None:
    from jobs.spark import files

    folder = db_uri.rsplit("/", 1)[0]
    files.upload(spark, local_db, db_uri)
    journal_file = journal.history_path(local_db)
    if journal_file.exists():
        files.upload(spark, journal_file, files.join(folder, journal_file.name))


def _upload_failure(
    spark, local_out: Path, out_uri: str, local_db: Path, db_uri: str, run_id: str,
    remote_out: bool, remote_db: bool,
) -> None:  # fmt: skip
    from jobs.spark import files

    try:
        if remote_out:
            failed = local_out / "failed" / run_id
            for path in sorted(failed.glob("*")):
                files.upload(spark, path, files.join(out_uri, f"failed/{run_id}/{path.name}"))
        if remote_db:
            journal_file = journal.history_path(local_db)
            if journal_file.exists():
                folder = db_uri.rsplit("/", 1)[0]
                files.upload(spark, journal_file, files.join(folder, journal_file.name))
    except Exception:  # the failure is already recorded locally and returned
        pass


class _SparkJob(duck_pipeline._Job):
    """One Spark run; the DuckDB stages it inherits work on the local audit database."""

    def __init__(
        self,
        spark: SparkSession,
        input_uri: str,
        out_dir: Path,
        db_path: Path,
        run_id: str,
        manifest: dict[str, Any],
        log: Log,
    ) -> None:
        super().__init__(Path(input_uri), out_dir, db_path, run_id, manifest, log)
        self.spark = spark
        self.input_uri = input_uri
        self.staged: dict[str, Any] = {}
        self._outcomes: dict[str, list[Any]] = {}
        self._views: list[str] = []

    # ------------------------------------------------------------ stages

    def _discover(self) -> dict[str, list[Any]]:
        from jobs.spark.files import discover_uri

        return discover_uri(self.spark, self.input_uri)

    def _start_hashing(self) -> dict:
        """No hashing on Spark: size + modification time (FINGERPRINT_METHOD)."""
        import os

        from jobs.spark.files import is_local

        for f in self._all_files():
            if is_local(str(f.path)):
                stat = os.stat(f.path)
                f.modified_ns, f.file_id = stat.st_mtime_ns, f"{stat.st_dev}:{stat.st_ino}"
            else:  # the listing's time, to the second
                stamp = datetime.fromisoformat(f.modified) if f.modified else None
                f.modified_ns = int(stamp.timestamp()) * 10**9 if stamp else 0
        return {}

    def _finish_hashing(self, hashes: dict) -> None:
        with self.log.stage("fingerprint"):
            self._record_inputs(self._all_files())

    def _record_files(self) -> None:
        fingerprint.create_input_files(
            self._con(), self._all_files(), self.run_id, self.version, FINGERPRINT_METHOD
        )

    def _record_inputs(self, files: Any) -> None:
        self.manifest["inputs"] = [_file_entry(f) for f in files]

    def _load(self) -> None:
        from jobs.spark import stage

        con = self.con
        assert con is not None
        duck_validate.create_issue_tables(con)
        self._load_reference()
        rows = con.execute("select code, valid_from, valid_to, note from code_validity").fetchall()
        self._view(
            "code_validity",
            self.spark.createDataFrame(
                rows, "code string, valid_from date, valid_to date, note string"
            ),
        )
        for name, table in TABLES.items():
            files = self.files.get(name)
            if not files:
                continue
            with self.log.stage(f"load:{name}", f"{len(files)} file(s)"):
                self.staged[name] = stage.read_table(
                    self.spark, table, files, self.config, self.run_id
                )
            self._views += [f"raw_{name}", f"stg_{name}", suites.repeated_keys_table(name)]
            self.log.event(f"read {name}", rows=sum(f.rows_read for f in files), files=len(files))
        self.version = reuse.validation_version()
        self.manifest["validation_version"] = self.version
        reuse.create_carried_table(con)
        self._decide_reuse()

    def _validate(self) -> None:
        """The suites on the cluster; row issues, rejected rows and counts in the local
        database (as on DuckDB, reused validations included); the loaded tables as views
        on the cluster; the cohort, practitioner and the coverage collected locally."""
        from jobs.spark import stage
        from jobs.spark import validate as spark_validate
        from jobs.spark.audit import _store

        con = self._con()
        present = self._present()
        issues = None
        for table in present:
            with self.log.stage(f"validate:{table.name}"):
                outcomes, table_issues = spark_validate.validate_table(
                    self.spark, self.staged[table.name], self._validated(table)
                )
            issues = table_issues if issues is None else issues.unionByName(table_issues)
            self._outcomes[table.name] = outcomes
        assert issues is not None
        issues = stage.materialize(issues)
        staged = [self.staged[t.name] for t in present]
        _store(con, "_claims_audit_row_issues", issues)
        con.execute("insert into row_issues select * from _claims_audit_row_issues")
        con.execute("drop table _claims_audit_row_issues")
        for table in present:
            self._write_results(table)
        for s in staged:
            bad = spark_validate.bad_records(s)
            if bad:
                con.executemany(
                    "insert into csv_bad_records values (?, ?, ?, ?, ?, ?, ?, ?, ?)", bad
                )
        _store(con, "_claims_audit_originals", spark_validate.originals(self.spark, issues, staged))
        quarantine.build_rejections(
            con, present, self.run_id, reuse.CARRIED_REJECTED, "_claims_audit_originals"
        )
        con.execute("drop table _claims_audit_originals")
        self._quarantine(present)
        keys = con.execute("select * from rejected_keys").fetchall()
        self._view(
            "rejected_keys",
            self.spark.createDataFrame(
                keys, "table_name string, source_file string, record_number bigint"
            ),
        )
        con.execute("drop table if exists rejected_keys")
        con.execute("drop table if exists csv_bad_records")  # now part of rejected_rows
        for name, table in TABLES.items():
            if name in self.files:
                with self.log.stage(f"store:{name}"):
                    stage.create_loaded_view(self.spark, table)
            else:
                stage.create_empty_view(self.spark, table)
            self._views.append(name)
        self._collect_cohort(_store)
        self._detach_previous()

    def _write_results(self, table: Any) -> None:
        """validation_results of `table` (jobs.validation.validate: every file's issues)."""
        earlier = {}
        if self.previous and any(f.validation == "reused" for f in self.files[table.name]):
            earlier = reuse.earlier_examples(self._con(), table.name, duck_pipeline.PREVIOUS)
        staged = self.staged[table.name]
        duck_validate.write_results(
            self._con(),
            table,
            self.run_id,
            sum(f.rows_read for f in staged.files) - staged.n_bad,
            duck_validate.examples_of(self._outcomes[table.name]),
            earlier,
        )

    def _collect_cohort(self, store: Any) -> None:
        """The audited cohort and practitioner (jobs.ingest.load.finalize_tables) and the
        coverage (jobs.validation.scan.write_coverage) into the local database."""
        from jobs.spark import stage

        con = self._con()
        scan.create_coverage_table(con)
        codes = [c["code"] for c in out_of_scope_codes()]
        store(con, "_claims_audit_coverage", self.spark.sql(stage.coverage_sql(codes)))
        con.execute("insert into input_coverage select * from _claims_audit_coverage")
        con.execute("drop table _claims_audit_coverage")
        persons = stage.materialize(stage.cohort_persons(self.spark, self._esi_codes()))
        cohort = {}
        for name, table in TABLES.items():
            store(con, "_claims_audit_cohort", stage.cohort_rows(self.spark, table, persons))
            con.execute(schema.create_table_sql(table))
            con.execute(
                f"insert into {name} select * from _claims_audit_cohort "
                "order by source_file, record_number"
            )
            con.execute("drop table _claims_audit_cohort")
            if name in self.files:
                cohort[name] = con.execute(f"select count(*) from {name}").fetchall()[0][0]
        self.manifest["cohort"] = cohort

    def _run_rules(self, con: Any, eligibility: bool) -> list:
        from jobs.audit import reference
        from jobs.audit import runner as duck_audit
        from jobs.spark import audit as spark_audit

        stats = spark_audit.run_audit(
            self.spark,
            con,
            dict(self.config.parameters),
            self.run_id,
            eligibility_supplied=eligibility,
            ndc_crosswalk=self.config.ndc_crosswalk,
            log=self.log,
        )
        self._views += [
            "value_sets", "ndc_crosswalk", *duck_audit.INTERMEDIATE_MODELS, *duck_audit.MART_MODELS,
            *(p.stem for p in reference.reference_files()),
        ]  # fmt: skip
        return stats

    def describe_failure(self, exc: BaseException) -> AuditError:
        """Spark's errors as one line (jobs.spark.session.error_line)."""
        if isinstance(exc, AuditError):
            return exc
        return environment_failure(exc, self.spill_dir) or AuditError(error_line(exc))

    # ------------------------------------------------------------ Spark housekeeping

    def _view(self, name: str, df: Any) -> None:
        df.createOrReplaceTempView(name)
        self._views.append(name)

    def release(self) -> None:
        """Drop the run's temporary views (their materialized data is then freed by Spark)."""
        for name in dict.fromkeys(self._views):
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(name)
        self._views = []


def _file_entry(f: Any) -> dict[str, Any]:
    entry = f.manifest_entry()
    modified = getattr(f, "modified", None)
    entry.update(
        sha256=None,
        modified=modified,
        fingerprint=f"size={f.bytes};mtime={modified}",
    )
    return entry


def manifest_json(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, default=str)
