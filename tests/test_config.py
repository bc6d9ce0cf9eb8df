"""assignment.toml validation."""

from __future__ import annotations

import pytest

from autograder.config import load_course, parse_assignment
from autograder.errors import ConfigError, UsageError

GOOD = '''
id = "01-x"
title = "X"
topic = 1
modules = ["a.py"]
total_points = 10
[limits]
call_timeout = 3
[banned]
apis = ["torch"]
'''


def write(tmp_path, text):
    folder = tmp_path / "assignments" / "01-x"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(text)
    return folder / "assignment.toml"


def test_good_config(tmp_path):
    a = parse_assignment(write(tmp_path, GOOD))
    assert a.id == "01-x" and a.modules == ("a.py",) and a.total_points == 10
    assert a.limits.call_timeout == 3.0 and a.banned == ("torch",)


@pytest.mark.parametrize("text, message", [
    (GOOD + "colour = 1\n", "unknown key 'colour'"),
    (GOOD.replace("total_points", "total_pts"), "unknown key 'total_pts' \\(did you mean 'total_points'\\?\\)"),
    (GOOD.replace('title = "X"\n', ""), "missing required field\\(s\\): title"),
    (GOOD.replace("topic = 1", 'topic = "one"'), "'topic' must be int, got str"),
    (GOOD.replace('modules = ["a.py"]', 'modules = ["a"]'), "'modules' must be a non-empty list"),
    (GOOD.replace("call_timeout = 3", "call_timeot = 3"), "\\[limits\\]: unknown key 'call_timeot'"),
    (GOOD.replace("call_timeout = 3", "call_timeout = -1"), "must be positive"),
    (GOOD.replace('id = "01-x"', 'id = "02-y"'), "does not match its folder"),
    ("id = ", "invalid TOML"),
])
def test_bad_configs_are_explained(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        parse_assignment(write(tmp_path, text))


def test_unknown_and_prefix_assignment_ids(tmp_path):
    write(tmp_path, GOOD)
    course = load_course(tmp_path)
    assert course.assignment("01").id == "01-x"
    with pytest.raises(UsageError, match="unknown assignment 'zz' \\(known: 01-x\\)"):
        course.assignment("zz")


def test_per_file_bans(tmp_path):
    a = parse_assignment(write(tmp_path, GOOD + '[banned.modules]\n"a.py" = ["torch"]\n'))
    assert a.banned_per_file == (("a", ("torch",)),)
    with pytest.raises(ConfigError, match="'b.py' is not one of the modules"):
        parse_assignment(write(tmp_path, GOOD + '[banned.modules]\n"b.py" = ["torch"]\n'))
