"""What the platform's shortcut tests share: loading a graders' conftest or a reference
module as a module of its own, and importing an assignment's reference solution for a while."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from autograder.config import Assignment


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file at ``path`` (a graders' conftest, a reference module) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def reference_modules(assignment: Assignment, names: Iterable[str],
                      torch_threads: int | None = None) -> Iterator[dict[str, ModuleType]]:
    """The reference modules ``names`` of ``assignment``, imported by name as its modules import
    each other (optionally on ``torch_threads`` threads, as in a worker); sys.path, sys.modules
    and torch's thread count are restored afterwards."""
    own = [m.removesuffix(".py") for m in assignment.modules]
    saved = {n: sys.modules.pop(n) for n in own if n in sys.modules}
    folder = str(assignment.solutions_dir)
    threads = None
    if torch_threads is not None:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(torch_threads)
    sys.path.insert(0, folder)
    try:
        yield {n: importlib.import_module(n) for n in names}
    finally:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        sys.path.remove(folder)
        for n in own:
            sys.modules.pop(n, None)
        sys.modules.update(saved)
