"""Review: findings across nights (their history, lifecycle and reviewers' decisions), the
review sample and the overpayment estimate. May import jobs.audit, jobs.publish (the
writer lock and atomic publication: sample and estimate change the published database)
and the top-level helpers; never ingest, the CLI or the pipeline.
"""
