"""Report: every number the compliance report shows (context/), its charts, statistics and
member pseudonyms, and rendering the single-file HTML. May import jobs.audit (the rule
catalog, parameters, value sets) and the top-level helpers; never ingest or the pipeline.
"""
