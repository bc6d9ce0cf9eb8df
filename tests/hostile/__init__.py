"""The hostile-submission corpus (see corpus.py); ``python -m tests.hostile`` prints its table."""
