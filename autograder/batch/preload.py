"""What a pool of grading processes imports once, before it forks them.

Every grading process of ``grade-batch --jobs N`` is forked from one fork
server. Whatever the fork server has imported, each grading process shares
copy-on-write instead of importing it again: importing scikit-learn alone costs
about 2 s of CPU, which each of N grading processes would otherwise pay on its
first submission.

The list is the platform's own imports plus the third-party modules that an
assignment's graders import (found by reading the test files, never by running
them). Modules of the course itself (the assignment's tests and data, a
student's module names) are never preloaded: the fork server only imports
installed libraries.
"""

from __future__ import annotations

from autograder.config import Assignment
from autograder.grader_imports import grader_imports, imported_modules, uses_torch

__all__ = ["PLATFORM_PRELOAD", "TORCH_PRELOAD", "grader_imports", "imported_modules",
           "preload_for"]

PLATFORM_PRELOAD = ["numpy", "pytest", "autograder.grading", "autograder.plugin"]
# Only where grading uses torch (``uses_torch``): 01's graders never import it.
# torch.fx.experimental.symbolic_shapes (and sympy with it) is what torch imports lazily on
# the first backward(): the graders' autograd oracles would pay it once per process.
TORCH_PRELOAD = ["torch", "torch.fx.experimental.symbolic_shapes"]


def preload_for(assignment: Assignment) -> list[str]:
    """The fork server's preload list for grading ``assignment``: the platform's, torch if
    grading it uses torch, then the rest of what its graders import."""
    base = PLATFORM_PRELOAD + (TORCH_PRELOAD if uses_torch(assignment) else [])
    return base + [m for m in grader_imports(assignment) if m not in base]
