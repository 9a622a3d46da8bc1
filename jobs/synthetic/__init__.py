"""Synthetic data: the `claims-audit generate` generator and its scenario catalog (each
scenario with its answer key). May import jobs.ingest (the layout and staging macros) and
the top-level helpers; never the CLI, the pipeline, audit rules or report.
"""
