"""Validation: the Great Expectations suites, their adjustments for DuckDB, running them,
and the quarantine of rejected rows. May import jobs.ingest.schema and the top-level
helpers (config, errors, resources, safecsv, sqltext); never the CLI, the pipeline, audit
or report.
"""
