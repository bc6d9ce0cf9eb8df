"""Trivial submissions: the starter with every stub answered by zeros, its first input or
nothing, graded to show that work which does nothing earns (almost) nothing.

A grader that compares the student with the student (a gradient check against the student's
own forward, a property that a constant also has) gives points to code that computes nothing.
:func:`trivial_source` reads a starter module with :mod:`ast` (it is never imported here) and
replaces each stub's ``raise NotImplementedError(...)`` (as ``dlgrade generate`` writes them:
``autograder.authoring``) by a ``return``, per variant:

- ``zeros``: zeros shaped like the first argument that has a ``shape`` (a numpy array or a
  torch tensor, same dtype), else ``0.0``;
- ``identity``: the first argument (``self`` and ``cls`` not counted), ``None`` without one;
- ``nothing``: ``None``.

``__init__`` returns ``None`` in every variant. Code the starter keeps before a stub
(``super().__init__()``, layers built in the signature's scaffolding) still runs, as it would
for a student who wrote one line under the TODO. :func:`grade_trivial` writes and grades a
variant with the real graders, hidden tests included, and :func:`trivial_problems` says
whether it scored more than :data:`MAX_TRIVIAL_POINTS`. ``dlgrade validate`` runs them all.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Assignment
from autograder.grading import grade_submission
from autograder.results import GradeResult
from autograder.sandbox.backend import WorkerBackend

#: the most points a trivial submission may earn on an assignment (of its total)
MAX_TRIVIAL_POINTS = 3.0

VARIANTS = ("zeros", "identity", "nothing")

#: the message of a generated stub (``authoring._stub``): "<function>: see the TODO above" or
#: "<function>: not implemented"; a base class's own ``raise NotImplementedError("subclasses
#: implement step")`` is not a stub and stays
_STUB_MESSAGE = re.compile(r"[\w.]+: (?:see the TODO above|not implemented)")

#: appended to every module of a variant that needs it (a function's globals are looked up
#: when it is called, so the end of the module is early enough)
ZEROS_HELPER = '''

def _dlgrade_trivial_zeros(*args):
    """Zeros shaped like the first argument that has a shape (same type and dtype), else 0.0."""
    for arg in args:
        shape = getattr(arg, "shape", None)
        if shape is None:
            continue
        if hasattr(arg, "new_zeros"):  # a torch tensor
            return arg.new_zeros(shape)
        import numpy

        return numpy.zeros_like(arg)
    return 0.0
'''


@dataclass(frozen=True)
class Stub:
    """One stub of a starter module: the span of its raise and its function's parameters.

    Attributes:
        function: the function as the stub's message names it (``"NetVLAD.forward"``).
        start, end: 1-based line and 0-based column where the raise begins and ends.
        params: the arguments the function is called with, in order, as Python expressions
            (``"x"``, ``"*args"``); a method's ``self`` or a classmethod's ``cls`` left out.
        is_init: the function is ``__init__`` (which must return None).
    """

    function: str
    start: tuple[int, int]
    end: tuple[int, int]
    params: tuple[str, ...]
    is_init: bool


def _is_stub(node: ast.AST) -> bool:
    """``raise NotImplementedError("<function>: ...")`` as ``dlgrade generate`` writes it."""
    if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
        return False
    call = node.exc
    return (isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError"
            and len(call.args) == 1 and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and _STUB_MESSAGE.fullmatch(call.args[0].value) is not None)


def _call_params(func: ast.FunctionDef | ast.AsyncFunctionDef,
                 is_method: bool) -> tuple[str, ...]:
    """The parameters a call passes, ``self``/``cls`` of a method (not a staticmethod) left out."""
    args = func.args
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list)
    if is_method and not static and names:
        names = names[1:]
    if args.vararg:
        names.append(f"*{args.vararg.arg}")
    names.extend(a.arg for a in args.kwonlyargs)
    return tuple(names)


def find_stubs(source: str, filename: str = "<starter>") -> list[Stub]:
    """The stubs of a starter module's text, in source order (nothing is imported or run).

    Raises:
        SyntaxError: the module does not parse.
    """
    tree = ast.parse(source, filename)
    stubs: list[Stub] = []

    def visit(node: ast.AST, func: ast.FunctionDef | ast.AsyncFunctionDef | None,
              is_method: bool, class_body: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, None, False, True)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child, class_body, False)
            elif func is not None and _is_stub(child):
                message = child.exc.args[0].value  # type: ignore[union-attr]
                stubs.append(Stub(message.split(":", 1)[0], (child.lineno, child.col_offset),
                                  (child.end_lineno, child.end_col_offset),  # type: ignore[arg-type]
                                  _call_params(func, is_method), func.name == "__init__"))
            else:
                visit(child, func, is_method, class_body)

    visit(tree, None, False, False)
    return sorted(stubs, key=lambda s: s.start)


def _answer(stub: Stub, variant: str) -> str:
    """The expression a stub returns in ``variant``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown trivial variant {variant!r} (one of {', '.join(VARIANTS)})")
    if stub.is_init or variant == "nothing":
        return "None"
    if variant == "identity":
        first = stub.params[0] if stub.params else "None"
        if first.startswith("*"):  # def f(*args): the first of them
            return f"{first[1:]}[0] if {first[1:]} else None"
        return first
    return f"_dlgrade_trivial_zeros({', '.join(stub.params)})"


def trivial_source(source: str, variant: str, filename: str = "<starter>") -> str:
    """A starter module's text with every stub's raise replaced by ``variant``'s return (the
    zeros helper appended where a stub uses it); a module without stubs comes back unchanged.

    Raises:
        ValueError: an unknown variant.
        SyntaxError: the module does not parse.
    """
    stubs = find_stubs(source, filename)
    if not stubs:
        return source
    lines = io.StringIO(source, newline="").readlines()
    for stub in reversed(stubs):  # from the end, so earlier spans keep their positions
        (first, col), (last, end_col) = stub.start, stub.end
        head, tail = lines[first - 1][:col], lines[last - 1][end_col:]
        lines[first - 1:last] = [f"{head}return {_answer(stub, variant)}{tail}"]
    text = "".join(lines)
    if variant == "zeros" and any(not s.is_init for s in stubs):
        text = text.rstrip("\n") + "\n" + ZEROS_HELPER
    return text


def write_trivial(starter_dir: Path, variant: str, dest: Path) -> Path:
    """Copy ``starter_dir`` into ``dest`` (created if needed), rewrite each of its ``.py``
    files as ``variant`` does (:func:`trivial_source`), and return ``dest``.

    Raises:
        ValueError: an unknown variant, or no ``.py`` files in ``starter_dir``.
    """
    dest = Path(dest)
    shutil.copytree(starter_dir, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    modules = sorted(dest.glob("*.py"))
    if not modules:
        raise ValueError(f"no .py files in {starter_dir}")
    for path in modules:
        text = trivial_source(path.read_text(encoding="utf-8"), variant, str(path))
        path.write_text(text, encoding="utf-8")
    return dest


def grade_trivial(assignment: Assignment, variant: str, dest: Path, *,
                  parent: WorkerBackend | None = None) -> GradeResult:
    """Write ``variant`` of the assignment's starter at ``dest`` and grade it on every test
    (hidden ones included), like any submission.

    Raises:
        ValueError: see :func:`write_trivial`.
    """
    write_trivial(assignment.starter_dir, variant, dest)
    return grade_submission(assignment, dest, parent=parent)


def passing_tests(result: GradeResult) -> list[str]:
    """The names (``test_x[case]``) of the tests that earned points."""
    return [t.name.rsplit("::", 1)[-1] for t in result.tests if t.score > 0]


def trivial_problems(result: GradeResult, variant: str) -> list[str]:
    """``[]`` when ``variant`` scored at most :data:`MAX_TRIVIAL_POINTS`, else one line naming
    the variant, its score and the tests that gave it points."""
    if result.score <= MAX_TRIVIAL_POINTS:
        return []
    return [f"{variant}: {result.score:g}/{result.max_score:g} points (at most "
            f"{MAX_TRIVIAL_POINTS:g} allowed) from {', '.join(passing_tests(result))}"]
