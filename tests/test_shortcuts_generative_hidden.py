"""The obvious shortcuts fail 09-generative's hidden bars that test_shortcuts_generative.py does
not cover, on the graders' own data and seeds (issue 23).

- ``test_train_rbm_raises_the_exact_likelihood`` (bar: exact mean log-likelihood above -3.5
  nats, 200 noisy copies of two 8-pixel patterns drawn from the test's seed): independent
  pixels (an RBM with W = 0 and the pixels' log-odds as visible biases), the RBM's single
  Gaussian, stay far below it, since each pixel is on half the time; the reference's CD-1
  clears it.
- ``test_conditional_gan_generates_the_asked_mode`` (bar: 90% of label k's samples near mode
  k): a generator that ignores its label, even one that draws the real ring data, puts about
  an eighth of them there.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
import torch

from autograder.config import load_course
from autograder.plugin import test_seed as seed_of_test
from tests.conftest import REPO
from tests.test_shortcuts import _graders_conftest

GENERATIVE = load_course(REPO).assignment("09-generative")
RBM_TEST = "hidden/test_rbm_hidden.py::test_train_rbm_raises_the_exact_likelihood"
RBM_BAR = -3.5
CONDITIONAL_BAR = 0.9
#: the seed without a secret, and others standing for the secret's draws
RBM_SEEDS = (seed_of_test(RBM_TEST), *range(5))
PATTERNS = torch.tensor([[1, 1, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 1, 1, 0, 1]], dtype=torch.float64)


@pytest.fixture(scope="module")
def graders() -> ModuleType:
    return _graders_conftest(GENERATIVE)


def rbm_data(seed: int) -> torch.Tensor:
    """The RBM test's 200 rows (200, 8): a pattern each, 5% of the pixels flipped."""
    g = torch.Generator().manual_seed(seed)
    x = PATTERNS[torch.randint(2, (200,), generator=g)]
    return torch.where(torch.rand(x.shape, generator=g, dtype=torch.float64) < 0.05, 1 - x, x)


def independent_pixels_log_likelihood(graders, seed: int) -> float:
    """The exact mean log-likelihood of the RBM test's data under independent pixels fitted to
    it (W = 0, b = the pixels' log-odds), by the graders' own ``rbm_mean_log_likelihood``."""
    x = rbm_data(seed)
    p = x.mean(0).clamp(1e-3, 1 - 1e-3)
    return graders.Oracle().rbm_mean_log_likelihood(x, torch.zeros(8, 4), torch.log(p / (1 - p)),
                                                    torch.zeros(4))


def reference_rbm_log_likelihood(graders, seed: int) -> float:
    """The same, for the reference's ``train_rbm`` as the test calls it."""
    name = "reference_rbm_09"
    spec = importlib.util.spec_from_file_location(name, GENERATIVE.solutions_dir / "rbm.py")
    rbm = importlib.util.module_from_spec(spec)
    sys.modules[name] = rbm
    try:
        spec.loader.exec_module(rbm)
        x = rbm_data(seed)
        W, b, c = rbm.train_rbm(x, 4, epochs=30, batch_size=20, lr=0.1, seed=0)
    finally:
        sys.modules.pop(name)
    return graders.Oracle().rbm_mean_log_likelihood(x, W, b, c)


def label_blind_share(graders, seed: int) -> float:
    """The share of 2,000 real ring samples, labelled 0..7 in turn as the test asks, that lie
    within 0.25 of their label's mode: a conditional generator that ignores its label at its best."""
    samples, _ = graders.Data().ring(2000, seed=seed)
    labels = torch.arange(2000) % 8
    d = torch.cdist(samples.double(), graders.Oracle().ring_centres())
    return float(((d.argmin(1) == labels) & (d.min(1).values < 0.25)).double().mean())


def test_the_bars_are_the_tests_own():
    hidden = GENERATIVE.root / "tests" / "hidden"
    rbm = (hidden / "test_rbm_hidden.py").read_text(encoding="utf-8")
    assert f"assert ll > {RBM_BAR}" in rbm and "< 0.05, 1 - x, x)" in rbm
    gan = (hidden / "test_gan_hidden.py").read_text(encoding="utf-8")
    assert f"assert right >= {CONDITIONAL_BAR}" in gan and "labels = torch.arange(2000) % 8" in gan


@pytest.mark.parametrize("seed", RBM_SEEDS)
def test_independent_pixels_stay_far_below_the_rbm_bar(graders, seed):
    assert independent_pixels_log_likelihood(graders, seed) < RBM_BAR - 1.5


def test_the_reference_rbm_clears_the_bar(graders):
    assert reference_rbm_log_likelihood(graders, RBM_SEEDS[0]) > RBM_BAR + 0.5


def test_a_label_blind_generator_stays_far_below_the_conditional_bar(graders):
    for seed in range(3):
        assert label_blind_share(graders, seed) < 0.2
