"""``dlgrade serve``: a self-hosted course server (docs/server.md).

Students sign in, submit and see their public results in seconds; staff see the class,
release hidden results, regrade, grant extensions, override scores and export grades.
Grading runs in worker processes that take jobs from a durable queue in the database;
the score is computed by the trusted graders, never in the submission's process.
"""
