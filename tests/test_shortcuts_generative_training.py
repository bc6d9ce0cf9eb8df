"""The obvious shortcuts against 09-generative's hidden "did it train" checks, on the tests' own
data and seeds (issue 23).

- ``test_train_vae_is_seeded_and_learns`` (VAE(64, 32, 4), the first 400 binarized digits,
  40 epochs): the negative ELBO must fall 5 nats below the seeded start's and end 2 nats below
  that of independent Bernoulli pixels fitted to the same digits, the least of any VAE whose
  decoder ignores z (or whose encoder says N(0, I)). Independent pixels clear the 5-nat fall
  by far on their own, which is why the second bar is there; they miss it, and the reference
  clears both.
- ``test_train_diffusion_is_seeded`` (DenoiserMLP(2, 32, 8), 500 points of two moons, 200
  Adam steps): the mean loss of the last 50 steps below 0.8 of the first 20's. A denoiser that
  ignores x_t, trained by the same loop, and one that predicts zero noise stay near the loss
  of predicting zero (E|eps|^2 per coordinate, 1) and miss it; the reference clears it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import numpy as np
import pytest
import torch

from autograder.config import load_course
from tests.conftest import REPO
from tests.test_shortcuts import _graders_conftest

GENERATIVE = load_course(REPO).assignment("09-generative")
VAE_MARGIN = 2.0  # nats below independent pixels
DIFFUSION_RATIO = 0.8  # last 50 steps' mean loss against the first 20's


@pytest.fixture(scope="module")
def graders() -> ModuleType:
    return _graders_conftest(GENERATIVE)


def reference(module: str) -> ModuleType:
    """The reference solution's ``module`` (vae or diffusion), loaded under a private name."""
    name = f"reference_{module}_09_training"
    spec = importlib.util.spec_from_file_location(name, GENERATIVE.solutions_dir / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    finally:
        sys.modules.pop(name)
    return loaded


def test_the_bars_are_the_tests_own():
    hidden = GENERATIVE.root / "tests" / "hidden"
    vae = (hidden / "test_vae_hidden.py").read_text(encoding="utf-8")
    assert "x = data.binary_digits()[:400]" in vae
    assert "epochs=40, batch_size=50, lr=3e-3, seed=4" in vae
    assert f"assert after < independent - {VAE_MARGIN:g}" in vae
    diffusion = (hidden / "test_diffusion_hidden.py").read_text(encoding="utf-8")
    assert "steps=200, batch_size=64, lr=3e-3, seed=5" in diffusion
    assert f"np.mean(la[-50:]) < {DIFFUSION_RATIO} * np.mean(la[:20])" in diffusion


# ------------------------------------------------------------------ the VAE
def vae_digits(graders) -> torch.Tensor:
    return graders.Data().binary_digits()[:400]


def independent_pixels_state(x: torch.Tensor, hidden: int = 32, latent: int = 4) -> dict:
    """A VAE(64, hidden, latent) whose encoder says N(0, I) for every digit and whose decoder
    ignores z: independent Bernoulli pixels with the frequencies of x (N, 64)."""
    p = x.double().mean(0).clamp(1e-3, 1 - 1e-3)
    D = x.shape[1]
    return {"enc_hidden.weight": torch.zeros(hidden, D), "enc_hidden.bias": torch.zeros(hidden),
            "enc_mu.weight": torch.zeros(latent, hidden), "enc_mu.bias": torch.zeros(latent),
            "enc_logvar.weight": torch.zeros(latent, hidden), "enc_logvar.bias": torch.zeros(latent),
            "dec_hidden.weight": torch.zeros(hidden, latent), "dec_hidden.bias": torch.zeros(hidden),
            "dec_out.weight": torch.zeros(D, hidden), "dec_out.bias": torch.log(p / (1 - p)).float()}


def independent_pixels_bound(x: torch.Tensor) -> float:
    """The test's closed form: the mean negative log-likelihood of x under its own pixel frequencies."""
    p = x.double().mean(0).clamp(1e-3, 1 - 1e-3)
    return float(-(x * p.log() + (1 - x) * (1 - p).log()).sum(1).mean())


def vae_before_after(graders) -> tuple[float, float]:
    """The graders' negative ELBO of the reference VAE before and after train_vae, seeded as the test."""
    vae, oracle, x = reference("vae"), graders.Oracle(), vae_digits(graders)
    torch.manual_seed(3)
    model = vae.VAE(64, 32, 4)
    before = oracle.vae_test_loss(model.state_dict(), x)
    vae.train_vae(model, x, epochs=40, batch_size=50, lr=3e-3, seed=4)
    return before, oracle.vae_test_loss(model.state_dict(), x)


def test_independent_pixels_clear_the_fall_but_miss_the_vae_bar(graders):
    """Their negative ELBO (24.3 nats, the test's closed form) is 20 below the seeded start's."""
    x = vae_digits(graders)
    independent = graders.Oracle().vae_test_loss(independent_pixels_state(x), x)
    assert independent == pytest.approx(independent_pixels_bound(x), rel=1e-6)
    torch.manual_seed(3)
    start = reference("vae").VAE(64, 32, 4).state_dict()
    assert independent < graders.Oracle().vae_test_loss(start, x) - 5  # why the fall is not enough
    assert not independent < independent_pixels_bound(x) - VAE_MARGIN


def test_the_reference_vae_clears_both_bars(graders):
    """The bound is 24.3 nats; the reference is at 20.3-21.6 already after 30 epochs (five seeds)."""
    before, after = vae_before_after(graders)
    assert after < before - 5
    assert after < independent_pixels_bound(vae_digits(graders)) - VAE_MARGIN


# ------------------------------------------------------------------ the diffusion model
class IgnoresInput(torch.nn.Module):
    """A denoiser that sees zeros instead of x_t: its best is the mean noise at each t, zero."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x, t):
        return self.inner(torch.zeros_like(x), t)


class ConstantNoise(torch.nn.Module):
    """A learned constant (starting at zero) for every x_t and t."""

    def __init__(self, dim: int = 2):
        super().__init__()
        self.value = torch.nn.Parameter(torch.zeros(dim))

    def forward(self, x, t):
        return self.value.expand_as(x)


def diffusion_losses(graders, wrap) -> list[float]:
    """train_diffusion's losses, as the test calls it, for ``wrap`` of the seeded DenoiserMLP."""
    diffusion = reference("diffusion")
    x = graders.Data().two_moons(500, seed=3)
    betas = diffusion.linear_beta_schedule(20, 1e-3, 0.3)
    torch.manual_seed(1)
    model = wrap(diffusion.DenoiserMLP(2, 32, 8))
    return diffusion.train_diffusion(model, x, betas, steps=200, batch_size=64, lr=3e-3, seed=5)


def falls(losses: list[float]) -> float:
    """The test's ratio: the last 50 steps' mean loss over the first 20's."""
    return float(np.mean(losses[-50:]) / np.mean(losses[:20]))


def test_denoisers_that_ignore_x_t_miss_the_diffusion_bar(graders):
    """They end near the loss of predicting zero noise, 1 per coordinate (ratio about 1.07)."""
    for wrap in (IgnoresInput, lambda _: ConstantNoise()):
        losses = diffusion_losses(graders, wrap)
        assert np.mean(losses[-50:]) > 0.9
        assert falls(losses) >= DIFFUSION_RATIO


def test_the_reference_diffusion_clears_the_bar(graders):
    """About 0.56 on the test's seeds (0.49 at the end)."""
    assert falls(diffusion_losses(graders, lambda model: model)) < DIFFUSION_RATIO
