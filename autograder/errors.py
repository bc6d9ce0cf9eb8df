"""Exceptions shared by the platform.

``SubmissionError`` and its subclasses describe something the *submission* did
(or failed to do). Their ``reason`` is one line, safe to show to a student, and
never contains grader data; ``details`` may add the student's own traceback.
``UsageError`` is bad input to the platform itself (unknown assignment,
rejected archive, invalid config): the CLI prints it and exits non-zero.
"""

from __future__ import annotations


class SubmissionError(Exception):
    """The submission failed a request. ``reason`` is a one-line, student-safe message."""

    def __init__(self, reason: str, details: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.details = details

    def __str__(self) -> str:
        return self.reason + (f"\n{self.details}" if self.details else "")


class StudentException(SubmissionError):
    """The student's code raised. ``kind`` says how (see ``worker.Dispatcher``)."""

    def __init__(self, kind: str, reason: str, details: str = ""):
        super().__init__(reason, details)
        self.kind = kind


class WorkerTimeout(SubmissionError):
    """A call into the submission ran past its time limit; the worker was killed."""


class WorkerCrashed(SubmissionError):
    """The worker process died (os._exit, a signal, a resource limit)."""


class ModuleUnavailable(SubmissionError):
    """A module of the submission is missing or failed to import; its tests score 0."""


class UsageError(Exception):
    """Bad input to the platform: printed as one line, exit status 2."""


class ConfigError(UsageError):
    """An invalid assignment.toml or course.toml."""


class SubmissionRejected(UsageError):
    """A submission archive or folder that is refused before anything is extracted."""


class ProtectionsMissing(UsageError):
    """Official grading was asked for protections this machine cannot give (course.toml's
    ``[grading] require_protections``): nothing is graded."""


class MissingDependency(UsageError):
    """Grading needs a package that is not installed here (torch for most assignments)."""
