"""Synthetic data: the `claims-audit generate` generator, its scenario catalog (each
scenario with its answer key) and its own drug facts (drugs.py, apart from the product's
crosswalk). May import jobs.ingest (the layout and staging macros) and the top-level
helpers; never the CLI, the pipeline, audit rules or report.
"""
