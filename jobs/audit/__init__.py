"""Audit: the rule catalog (sql/rules), its parameters, the reference data, running the
models and rules, and the analyst views. May import the top-level helpers only; never
ingest, validation, report, the CLI or the pipeline.
"""
