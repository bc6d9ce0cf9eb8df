"""Run-time enforcement of an assignment's banned APIs inside the worker.

A banned name is either a module (``"torch"``) or a callable reached through a
module (``"torch.nn.functional.conv2d"``).

- A banned module cannot be imported by the submission: ``__import__`` and
  ``importlib.import_module`` refuse it even when it is already loaded, and an
  import hook refuses to load it.
- A banned callable is replaced, on its module and on every preloaded module
  that exposes the same object, by a stub that raises ``BannedAPIError``.

Only the worker installs these guards; grader code never runs there. This is
enforcement against honest mistakes and casual shortcuts, not a proof against
a determined attacker who digs references out of the platform's own modules
(see SECURITY notes in docs/architecture.md).
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterable
from dataclasses import dataclass


class BannedAPIError(RuntimeError):
    """The submission called a function that the assignment bans."""


class BannedModuleError(ImportError):
    """The submission imported a module that the assignment bans.

    An ImportError, so that libraries probing for optional modules
    (``try: import sklearn except ImportError``) carry on as if it were absent.
    """


def _message(name: str) -> str:
    return f"{name} is banned in this assignment"


class _BlockLoader(importlib.abc.Loader):
    def create_module(self, spec):
        raise BannedModuleError(_message(spec.name.split(".")[0]), name=spec.name)

    def exec_module(self, module):  # never reached: create_module raises
        raise BannedModuleError(_message(module.__name__), name=module.__name__)


class _BlockFinder(importlib.abc.MetaPathFinder):
    """Finds banned modules first, with a loader that refuses to load them. A probe
    (``importlib.util.find_spec``) sees a spec and raises nothing; an import fails."""

    def __init__(self, modules: set[str]):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if _matches(fullname, self.modules):
            return importlib.machinery.ModuleSpec(fullname, _BlockLoader())
        return None


def _matches(fullname: str, modules: set[str]) -> bool:
    return fullname in modules or fullname.startswith(tuple(m + "." for m in modules))


def _matching_root(fullname: str, modules: set[str]) -> str:
    return next(m for m in modules if fullname == m or fullname.startswith(m + "."))


def _is_module_name(name: str) -> bool:
    """True if ``name`` names an importable module (not an attribute of one)."""
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _banned_stub(name: str, original):
    @functools.wraps(original)
    def banned(*args, **kwargs):
        raise BannedAPIError(_message(name))

    banned.__dlgrade_banned__ = name
    return banned


@dataclass(frozen=True)
class BanPlan:
    """What ``install`` will change, computed without changing anything.

    The warm parent computes a plan once per list of banned names and every
    worker forked from it only applies it, which keeps worker start fast.
    """

    modules: frozenset[str]
    # (module name, attribute, banned dotted name) for every alias of a banned callable
    attributes: tuple[tuple[str, str, str], ...]
    # (student module, modules it may not import): e.g. torch in the numpy part only
    per_file: tuple[tuple[str, frozenset[str]], ...] = ()


def plan(banned: Iterable[str], per_file: dict[str, list[str]] | None = None) -> BanPlan:
    """Classify ``banned`` into modules and callables, and find every alias of the callables.

    ``per_file`` maps a student module's name (``"rnn_numpy"``) to modules that only
    that file may not import (a numpy part next to a torch part).
    """
    modules: set[str] = set()
    attributes: list[tuple[str, str, str]] = []
    for name in banned:
        if "." not in name or _is_module_name(name):
            modules.add(name)
        else:
            attributes += _aliases(name)
    files = tuple(sorted((f, frozenset(names)) for f, names in (per_file or {}).items()))
    return BanPlan(frozenset(modules), tuple(attributes), files)


def install(banned: Iterable[str] | BanPlan) -> None:
    """Install guards for every banned name (or a precomputed plan) in this process. Irreversible."""
    ban_plan = banned if isinstance(banned, BanPlan) else plan(banned)
    stubs: dict[str, object] = {}
    for module_name, key, name in ban_plan.attributes:
        module = sys.modules.get(module_name)
        original = getattr(module, key, None)
        if original is None:
            continue
        stub = stubs.setdefault(name, _banned_stub(name, original))
        try:
            setattr(module, key, stub)
        except (AttributeError, TypeError):
            pass
    if ban_plan.modules or ban_plan.per_file:
        _ban_modules(set(ban_plan.modules), dict(ban_plan.per_file))


def _aliases(name: str) -> list[tuple[str, str, str]]:
    owner_name, _, attr = name.rpartition(".")
    try:
        owner = importlib.import_module(owner_name)
    except ImportError:
        return []  # the owning module is not installed: nothing to ban
    original = getattr(owner, attr, None)
    if original is None:
        return []
    found = []
    # Aliases live in the same package (torch.conv2d is torch.nn.functional.conv2d).
    package = owner_name.split(".")[0]
    for module_name, module in list(sys.modules.items()):
        if module_name != package and not module_name.startswith(package + "."):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if value is original:
                found.append((module_name, key, name))
    return found


def _refuse(name: str, importer: str | None, modules: set[str],
            per_file: dict[str, frozenset[str]]) -> None:
    if _matches(name, modules):
        raise BannedModuleError(_message(_matching_root(name, modules)), name=name)
    local = per_file.get(importer or "")
    if local and _matches(name, set(local)):
        root = _matching_root(name, set(local))
        raise BannedModuleError(f"{root} is banned in {importer}.py in this assignment",
                                name=name)


def _ban_modules(modules: set[str], per_file: dict[str, frozenset[str]]) -> None:
    # Already-loaded modules stay in sys.modules: walking or freeing thousands of
    # entries in a forked worker copies much of the warm parent's heap (ms per test),
    # and a cheater could reach them through other references anyway.
    if modules:
        sys.meta_path.insert(0, _BlockFinder(modules))
    original_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            _refuse(name, (globals or {}).get("__name__"), modules, per_file)
        return original_import(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import
    original_import_module = importlib.import_module

    def guarded_import_module(name, package=None):
        if not name.startswith("."):
            _refuse(name, sys._getframe(1).f_globals.get("__name__"), modules, per_file)
        return original_import_module(name, package)

    importlib.import_module = guarded_import_module
