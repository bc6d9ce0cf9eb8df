"""dlgrade: an autograder whose scores are computed where the submission cannot reach."""

__version__ = "0.1.0"
