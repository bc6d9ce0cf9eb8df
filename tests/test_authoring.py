"""Starter generation from solution markers."""

from __future__ import annotations

import pytest

from autograder.authoring import LINE_LENGTH, stale_files, strip_solutions, write_starter
from autograder.errors import ConfigError

SOLUTION = '''import numpy as np


def relu_forward(x):
    """ReLU."""
    # BEGIN SOLUTION hint: keep x in the cache
    out = np.maximum(0, x)
    cache = x
    # END SOLUTION
    return out, cache


class Model:
    def step(self):
        ### BEGIN SOLUTION
        return 1
        ### END SOLUTION
'''


def test_regions_become_stubs_and_the_rest_is_kept():
    starter, regions = strip_solutions(SOLUTION)
    assert [r.function for r in regions] == ["relu_forward", "Model.step"]
    assert "np.maximum" not in starter and "return 1" not in starter
    assert "    # TODO: keep x in the cache\n" in starter
    assert '    raise NotImplementedError("relu_forward: see the TODO above")\n' in starter
    assert '        raise NotImplementedError("Model.step: not implemented")\n' in starter
    assert '"""ReLU."""' in starter and "import numpy as np" in starter
    compile(starter, "starter", "exec")


def test_stub_raises_not_implemented_naming_the_function():
    starter, _ = strip_solutions(SOLUTION)
    namespace: dict = {}
    exec(compile(starter, "starter", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="^relu_forward: see the TODO above$"):
        namespace["relu_forward"](1)
    with pytest.raises(NotImplementedError, match="^Model.step: not implemented$"):
        namespace["Model"]().step()


def test_the_stub_ends_its_block_the_return_after_the_region_is_dropped():
    starter, _ = strip_solutions(SOLUTION)
    assert "return out, cache" not in starter
    assert ('    # TODO: keep x in the cache\n'
            '    raise NotImplementedError("relu_forward: see the TODO above")\n\n\nclass Model:'
            ) in starter


def test_code_after_the_block_stays():
    source = """def f(xs):
    total = 0
    for x in xs:
        # BEGIN SOLUTION hint: add x
        total += x
        # END SOLUTION
        # about the next line, dropped with it
        print(x)
    if total:
        return total
    return 0
"""
    starter, _ = strip_solutions(source)
    assert starter == """def f(xs):
    total = 0
    for x in xs:
        # TODO: add x
        raise NotImplementedError("f: see the TODO above")
    if total:
        return total
    return 0
"""


def test_two_regions_in_one_block_both_keep_their_stubs():
    source = """def g(x):
    # BEGIN SOLUTION hint: first half
    y = x + 1
    # END SOLUTION
    z = y * 2  # given: leads up to the second region
    for _ in range(3):
        # BEGIN SOLUTION hint: second half
        z = z + y
        # END SOLUTION
        z -= 1
    w = z
    return w
"""
    starter, regions = strip_solutions(source)
    assert [(r.begin, r.end, r.function) for r in regions] == [(2, 4, "g"), (7, 9, "g")]
    assert starter == """def g(x):
    # TODO: first half
    raise NotImplementedError("g: see the TODO above")
    z = y * 2  # given: leads up to the second region
    for _ in range(3):
        # TODO: second half
        raise NotImplementedError("g: see the TODO above")
"""


def test_a_long_hint_is_wrapped_and_no_line_runs_past_the_line_length():
    hint = " ".join(f"word{k}" for k in range(60))
    source = f"""class Transformer:
    def decoder_cross_attention_backward(self, x):
        if x:
            # BEGIN SOLUTION hint: {hint}
            return x
            # END SOLUTION
            x += 1  # dropped: after the two-line raise, in its block
        return 0
"""
    starter, _ = strip_solutions(source)
    lines = starter.splitlines()
    assert max(map(len, lines)) <= LINE_LENGTH
    todo = [line for line in lines if line.lstrip().startswith("#")]
    assert len(todo) > 2 and todo[0].startswith("            # TODO: word0 ")
    assert all(line.startswith("            #       word") for line in todo[1:])
    words = " ".join(line.split("#", 1)[1] for line in todo).replace("TODO:", "").split()
    assert words == hint.split()
    # one line would be too long for this raise: its message goes on the next
    assert lines[-3:] == ["            raise NotImplementedError(",
                          '                "Transformer.decoder_cross_attention_backward: see the '
                          'TODO above")',
                          "        return 0"]  # after the if block: kept
    namespace: dict = {}
    exec(compile(starter, "starter", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="decoder_cross_attention_backward: see the"):
        namespace["Transformer"]().decoder_cross_attention_backward(1)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "without END SOLUTION"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without BEGIN SOLUTION"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
     "cannot nest"),
])
def test_marker_errors_are_reported(source, message):
    with pytest.raises(ConfigError, match=message):
        strip_solutions(source, "bad.py")


def test_generate_is_idempotent_and_check_detects_staleness(tmp_path):
    solutions, starter = tmp_path / "solutions", tmp_path / "starter"
    solutions.mkdir()
    (solutions / "layers.py").write_text(SOLUTION)
    assert stale_files(solutions, starter) == ["layers.py (missing)"]
    write_starter(solutions, starter)
    first = (starter / "layers.py").read_text()
    assert stale_files(solutions, starter) == []
    write_starter(solutions, starter)
    assert (starter / "layers.py").read_text() == first
    (starter / "layers.py").write_text(first + "# edited by hand\n")
    assert stale_files(solutions, starter) == ["layers.py (out of date)"]
    (starter / "extra.py").write_text("")
    assert "extra.py (not in the solution)" in stale_files(solutions, starter)


def test_committed_starters_are_up_to_date():
    from autograder.config import load_course
    from tests.conftest import REPO

    for root in (REPO, REPO / "tests" / "fixtures" / "course"):
        course = load_course(root)
        for assignment in course.assignments():
            assert stale_files(assignment.solutions_dir, assignment.starter_dir) == [], assignment.id
