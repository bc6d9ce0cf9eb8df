"""Grading a whole class: discovering submissions, backends (local pool, Dask), the batch loop."""
