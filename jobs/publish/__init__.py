"""Publish: the writer lock, temporary outputs, the atomic swap of the audit database and
the outputs, and the run-history journal. May import the top-level helpers (errors,
safecsv, sqltext) only; never the CLI, the pipeline or another stage.
"""
