"""Ingest: find the input extracts, describe the contract's tables, load them into DuckDB.

May import jobs.config, jobs.errors, jobs.resources, jobs.sqltext and jobs.validation.suites
(the staged duplicate-key helper); never the CLI, the pipeline, audit, report or publish.
"""
