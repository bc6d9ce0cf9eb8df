"""``dlgrade new``: a new assignment that already validates, for an author to grow from.

``scaffold_assignment(course_root, "10-attention")`` writes, inside the course::

    assignments/10-attention/assignment.toml              metadata: id, title, topic, points
    assignments/10-attention/README.md                    the handout skeleton
    assignments/10-attention/tests/public/test_layers.py  one public test (students have it)
    assignments/10-attention/tests/hidden/test_layers_hidden.py   one hidden test
    assignments/10-attention/mistakes.toml                one planted mistake
    solutions/10-attention/layers.py                      the reference: one marked region
    starter/10-attention/layers.py                        generated from the reference

The example is ``affine_forward(x, w, b)``: ``x`` of shape (N, d_1, ..., d_k) flattened to
(N, D), times ``w`` (D, M), plus ``b`` (M,). Its tests compare with closed forms written
differently from the reference; the planted mistake forgets the bias. The author replaces the
example with the topic's own functions, keeping the shape of every file.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from string import Template

from autograder.authoring import write_starter
from autograder.config import Limits, load_course, parse_assignment
from autograder.errors import OutputNotWritable, UsageError

# Two digits (the syllabus topic), a dash, then lower-case words joined by dashes: 10-attention.
ASSIGNMENT_ID = re.compile(r"(?P<topic>[0-9]{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)")

MODULE = "layers.py"
PUBLIC_POINTS = 40  # the course habit: about 40 of 100 points public
HIDDEN_POINTS = 60

_ASSIGNMENT_TOML = Template('''\
# Written by `dlgrade new $id`; see docs/writing-graders.md. Unknown keys are errors.
id = "$id"  # must equal the folder name
title = $title_toml
topic = $topic  # syllabus topic number
version = "0.1.0"  # goes into every result: raise it when the graders change
modules = ["$module"]  # the files students edit and hand in
total_points = $total  # the tests' @pytest.mark.points must add up to this

[limits]  # all optional: these are the defaults
call_timeout = $call_timeout  # seconds, one call into student code
test_timeout = $test_timeout  # seconds, all calls of one test together

[banned]
apis = ["torch"]  # numpy only: importing torch fails in the student's code
''')

_README = Template('''\
# Assignment $topic_text: $title

<!-- Written by `dlgrade new $id`. Replace the example (affine_forward) with this topic's
functions and keep the sections. `dlgrade release` appends "How to check and submit". -->

In this assignment you implement the forward pass of an affine (fully connected) layer for a
batch of examples, with **numpy only**.

## Learning goals

After this assignment you can:

- write a layer that works on a whole batch at once, without a loop over examples;
- say for every array which axis is the batch and which are the features.

## Files

| File | What it contains |
|------|------------------|
| `$module` | `affine_forward` |

Every place you must fill in raises `NotImplementedError` in the starter code. Keep the
function names and signatures exactly as given: the grader calls them directly. The
docstrings list every input and output with its shape.

## Tasks

### Task 1: `affine_forward` in `$module` ($total points)

Map a batch `x` of shape `(N, d_1, ..., d_k)` to outputs of shape `(N, M)`: each example
becomes a row of `D = d_1 * ... * d_k` features, which the weights `w` of shape `(D, M)` map
to `M` outputs, plus the bias `b` of shape `(M,)`.

## Checking your work

`dlgrade check $id` runs the public tests on your files, in the same sandbox as the real
grader; add `--isolation none` to debug with `breakpoint()`.

## Submitting

Hand in `$module` (the file, or a zip of it). Do not rename it or change the function
signatures.

## How it is graded

$total points: $public_points in the public tests that you have, $hidden_points in hidden tests
that run after the due date, on inputs you have not seen. Every test is all or nothing.

| File | What is checked | Points |
|------|-----------------|-------:|
| `tests/public/test_layers.py` | `affine_forward` on a batch of 2-d examples | $public_points |
| `tests/hidden/test_layers_hidden.py` | `affine_forward` on examples with several axes | $hidden_points |
''')

_SOLUTION = Template('''\
"""Assignment $id: layers, numpy only.

Shapes: N examples in a batch, D input features per example, M outputs. Every array is
float64.
"""

import numpy as np


def affine_forward(x, w, b):
    """Affine (fully connected) layer, forward pass.

    Each example is flattened into a row of D features, which the layer maps to M outputs.

    Inputs:
    - x: array of shape (N, d_1, ..., d_k), with D = d_1 * ... * d_k
    - w: weights, array of shape (D, M)
    - b: bias, array of shape (M,)

    Returns:
    - out: array of shape (N, M)
    """
    # BEGIN SOLUTION hint: flatten each example to D features, then apply w and b
    out = np.dot(x.reshape(x.shape[0], -1), w) + b
    # END SOLUTION
    return out
''')

_PUBLIC_TEST = Template('''\
"""Public tests for $module: students have these (`dlgrade check $id`)."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points($public_points)
def test_affine_forward(submission, rng):
    """affine_forward on a batch of 2-d examples gives x @ w + b, of shape (N, M)."""
    x = rng.standard_normal((4, 5))  # D = 5 and M = 3 differ: a transposed w fails
    w = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    out = submission.layers.affine_forward(x, w, b)
    expected = np.einsum("nd,dm->nm", x, w) + b  # the closed form, not the reference
    assert_close(out, expected, name="affine_forward(x, w, b)")
''')

_HIDDEN_TEST = Template('''\
"""Hidden tests for $module: only the grading machine has them. Inputs come from the rng
fixture, which under the course secret differs for every submission."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points($hidden_points)
def test_affine_forward_flattens_each_example(submission, rng):
    """affine_forward flattens each example of a 3-d batch into one row of features."""
    batch, rows, cols, outputs = 3, 2, 4, 5
    x = rng.standard_normal((batch, rows, cols))
    w = rng.standard_normal((rows * cols, outputs))
    b = rng.standard_normal(outputs)
    out = submission.layers.affine_forward(x, w, b)
    expected = np.stack([example.ravel() @ w for example in x]) + b
    assert_close(out, expected, name="affine_forward(x, w, b) for x of shape (3, 2, 4)")
''')

_MISTAKES = Template("""\
# Planted mistakes: `dlgrade validate $id` applies each one to a copy of the reference and
# checks that every test in must_fail fails. Add one per mistake students often make. For
# authors only: it quotes the reference and is never copied into a release or a package.

[[mistake]]
id = "bias-forgotten"
module = "$module"
must_fail = ["test_affine_forward", "test_affine_forward_flattens_each_example"]
why = "the bias b is never added"

[[mistake.replace]]  # exact text, found once in the module; ''' keeps backslashes as they are
old = '''
    out = np.dot(x.reshape(x.shape[0], -1), w) + b
'''
new = '''
    out = np.dot(x.reshape(x.shape[0], -1), w)
'''
""")


def _title(slug: str, topic: str | None) -> str:
    if topic is None:
        return slug.replace("-", " ").capitalize()
    title = topic.strip()
    if not title or not title.isprintable():
        raise UsageError(f"the topic must be one line of printable text, got {topic!r}")
    return title


def scaffold_assignment(course_root: Path, assignment_id: str, *,
                        topic: str | None = None) -> list[Path]:
    """Write a minimal assignment that passes ``dlgrade validate``; return the files written.

    ``assignment_id``: ``NN-slug`` (``ASSIGNMENT_ID``), e.g. ``10-attention``; ``NN`` becomes the
    syllabus topic number. ``topic``: the title (default: from the slug, "Attention").

    Raises:
        UsageError: the id is malformed, the topic is not one printable line, or the course
            already has any folder this would write to (then nothing is written).
        ConfigError: the course's ``course.toml`` is invalid.
    """
    match = ASSIGNMENT_ID.fullmatch(assignment_id)
    if match is None:
        raise UsageError(f"malformed assignment id {assignment_id!r}: expected two digits, a dash "
                         "and a lower-case slug, such as 10-attention")
    title = _title(match["slug"], topic)
    course = load_course(Path(course_root))
    folders = [course.assignments_dir / assignment_id, course.solutions_dir / assignment_id,
               course.starter_dir / assignment_id]
    taken = [str(f.relative_to(course.root)) for f in folders if f.exists()]
    if taken:
        raise UsageError(f"assignment {assignment_id} already exists ({', '.join(taken)}): "
                         "choose another id or remove it")
    total = PUBLIC_POINTS + HIDDEN_POINTS
    values = {
        "id": assignment_id, "title": title, "title_toml": json.dumps(title, ensure_ascii=False),
        "topic": int(match["topic"]), "topic_text": match["topic"], "module": MODULE,
        "total": total, "public_points": PUBLIC_POINTS, "hidden_points": HIDDEN_POINTS,
        "call_timeout": Limits.call_timeout, "test_timeout": Limits.test_timeout,
    }
    assignment_dir, solution_dir, starter_dir = folders
    stem = Path(MODULE).stem
    files = {
        assignment_dir / "assignment.toml": _ASSIGNMENT_TOML,
        assignment_dir / "README.md": _README,
        assignment_dir / "tests" / "public" / f"test_{stem}.py": _PUBLIC_TEST,
        assignment_dir / "tests" / "hidden" / f"test_{stem}_hidden.py": _HIDDEN_TEST,
        assignment_dir / "mistakes.toml": _MISTAKES,
        solution_dir / MODULE: _SOLUTION,
    }
    try:
        for path, template in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.substitute(values), encoding="utf-8")
        parse_assignment(assignment_dir / "assignment.toml", course)
        starter = [starter_dir / rel for rel in write_starter(solution_dir, starter_dir)]
    except BaseException as exc:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputNotWritable(f"cannot write the assignment {assignment_id} into "
                                    f"{course_root}: {exc.strerror or exc}") from None
        raise
    return [*files, *starter]
