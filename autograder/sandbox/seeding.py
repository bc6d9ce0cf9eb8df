"""Seeding a worker (or the grader) for a test: Python, numpy and torch, one torch thread."""

from __future__ import annotations

import random
import sys


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch, and pin torch to one thread."""
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        seed_torch(torch, seed)
        torch.set_num_threads(1)


def seed_torch(torch, seed: int) -> None:
    """``torch.manual_seed(seed)``, without its cost on a machine with no accelerator.

    ``torch.manual_seed`` also queues a lazy seed for CUDA, XPU and MTIA, and each
    queued call records ``traceback.format_stack()``, which re-checks every file in
    ``linecache``: milliseconds per call in a grader that has seen many tracebacks,
    paid before every test. Without an accelerator only the CPU generator matters.
    """
    accelerator = getattr(torch, "accelerator", None)  # torch >= 2.6
    if accelerator is None or accelerator.is_available():
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)
