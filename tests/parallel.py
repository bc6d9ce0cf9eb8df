"""A pytest plugin: which tests share a process under pytest-xdist.

``./run.sh test`` runs the suite in one process per CPU (``-n auto --dist loadscope``). A
*scope* is a unit of work that one process runs whole, so the module fixtures it builds are
built once:

- by default a test module (its module fixtures: a course copy, a built wheel, ...);
- one scope per test in modules whose tests share nothing costly (``SPREAD``);
- one per assignment in ``test_assignments.py`` (its module fixture validates one
  assignment) and one per simulated environment in ``test_environments.py``.

The costliest modules are collected first (``FIRST``), so that no long scope starts last and
leaves the other processes idle. Without xdist this plugin changes nothing.
"""

from __future__ import annotations

import pytest

SPREAD = {"tests/test_mistakes.py", "tests/hostile/test_corpus.py", "tests/test_codec.py",
          "tests/test_server.py", "tests/test_trivial.py", "tests/test_walkthroughs.py"}
FIRST = ("tests/test_environments.py", "tests/test_install.py", "tests/test_interop_tools.py",
         "tests/test_gradescope_run.py", "tests/test_assignments.py", "tests/test_mistakes.py")


def _by_environment(param_id: str) -> str:
    """``root-02-feedforward`` -> ``root``: the environment a test of test_environments runs in."""
    return param_id.split("-", 1)[0]


BY_PARAMETER = {"tests/test_assignments.py": str, "tests/test_environments.py": _by_environment}


def scope_of(nodeid: str) -> str:
    """The scope of the test ``nodeid`` (``tests/test_x.py::test_y[param]``)."""
    module, _, rest = nodeid.partition("::")
    if module in SPREAD:
        return nodeid
    if module in BY_PARAMETER and rest.endswith("]") and "[" in rest:
        return f"{module}[{BY_PARAMETER[module](rest.split('[', 1)[1][:-1])}]"
    return module


def _rank(item: pytest.Item) -> int:
    module = item.nodeid.split("::", 1)[0]
    return FIRST.index(module) if module in FIRST else len(FIRST)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: every worker sorts alike
        items.sort(key=_rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` with :func:`scope_of`'s scopes."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ScopeScheduling(config, log)
