"""Exceptions shared by the platform, each carrying the exit status ``dlgrade`` ends with.

Every exception the platform raises on purpose is a ``DlgradeError``; its class attribute
``exit_code`` is what the command line exits with when it reaches it, and ``label`` the word
printed before its one-line message (``dlgrade: error: ...``). The one table of exit codes:

  code  meaning                                           raised as
  0     success; a graded submission, whatever its score  (nothing raised)
  1     a check failed: stale starter files, validation,  CheckFailed, LeakError
        a score below --min-score, a leak in a release
  2     usage error: bad input to the platform            UsageError, ConfigError,
                                                          SubmissionRejected, ProtectionsMissing,
                                                          MissingDependency, OutputNotWritable,
                                                          GradebookError
  3     internal error: the graders or the platform       InternalError, GraderError,
        failed (a bug to report), or the gradebook could  GradebookNotWritable, DlgradeError
        not be written (a full disk: run the batch        itself, SubmissionError (one that
        again, it resumes)                                escaped grading), any other exception

Click's own usage errors (an unknown option, a missing argument) also exit 2.

``SubmissionError`` and its subclasses describe something the *submission* did (or failed
to do). Their ``reason`` is one line, safe to show to a student, and never contains grader
data; ``details`` may add the student's own traceback. Grading turns them into failed tests;
one that reaches the command line is a platform bug.
"""

from __future__ import annotations

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class DlgradeError(Exception):
    """Any exception the platform raises on purpose: ``exit_code`` and ``label`` say how the
    command line reports it."""

    exit_code: int = EXIT_INTERNAL
    label: str = "internal error"


class InternalError(DlgradeError):
    """The platform or the graders failed: not the user's fault, a bug to report."""


class CheckFailed(DlgradeError):
    """A check ran and failed (stale starter files, validation, a score below the minimum)."""

    exit_code = EXIT_CHECK_FAILED
    label = ""  # the message says what failed: ``dlgrade: score 3 is below the minimum 4``


class SubmissionError(DlgradeError):
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


class UsageError(DlgradeError):
    """Bad input to the platform: printed as one line, exit status 2."""

    exit_code = EXIT_USAGE
    label = "error"


class ConfigError(UsageError):
    """An invalid assignment.toml or course.toml."""


class SubmissionRejected(UsageError):
    """A submission archive or folder that is refused before anything is extracted."""


class ProtectionsMissing(UsageError):
    """Official grading was asked for protections this machine cannot give (course.toml's
    ``[grading] require_protections``): nothing is graded."""


class MissingDependency(UsageError):
    """Grading needs a package that is not installed here (torch for most assignments)."""


class OutputNotWritable(UsageError):
    """A file or folder the user asked for (``-o``, ``--json``, ``--html``) cannot be written."""
