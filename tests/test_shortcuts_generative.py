"""The obvious shortcuts fail 09-generative's sample-quality bars, on the graders' own data and seeds (issue 23).

A single Gaussian fitted to the data is the generative model that needs no concept at all: it
has the data's mean and covariance. Here, with the graders' own data sets, splits, noise seeds
and bars (read from the assignment's ``tests/conftest.py``):

- on the ring of 8 Gaussians, a fitted Gaussian, a collapsed generator (one point) and a
  generator that covers 6 of the 8 modes each fail the GAN bar;
- on the digits, a Gaussian over the 64 pixels (raw, or clipped to the pixels' range) and a
  collapsed generator (one image) fail the DCGAN bar;
- on two moons, a fitted Gaussian fails the diffusion model's bar, and on binarized digits a
  VAE whose decoder ignores its code (independent pixels) fails the VAE's;
- graded as submissions, a ``train_gan`` that collapses the generator scores 0 on the ring and
  the digits tests, and one that turns the ring generator into the fitted Gaussian (exactly,
  through the grader's own forward pass of the handout's MLP) scores 0 on the ring test.
"""

from __future__ import annotations

import shutil
from types import ModuleType

import numpy as np
import pytest
import torch

from autograder.config import load_course
from autograder.grading import grade_submission
from autograder.results import GradeResult
from tests.conftest import REPO
from tests.test_shortcuts import _graders_conftest

GENERATIVE = load_course(REPO).assignment("09-generative")
RING_TEST = "test_train_gan_covers_every_mode"
DIGITS_TEST = "test_train_dcgan_on_digits"
#: seeds of the shortcuts' own draws: the bars must hold against every one
DRAWS = range(5)


@pytest.fixture(scope="module")
def graders() -> ModuleType:
    """09's ``tests/conftest.py`` (its oracle, data, bars and digit judge), loaded as a module."""
    return _graders_conftest(GENERATIVE)


@pytest.fixture(scope="module")
def judge(graders):
    return graders.DigitJudge(graders.Data())


def _gaussian_like(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """n draws from the Gaussian with the mean and covariance of the rows of x (float64)."""
    rows = x.reshape(len(x), -1).double().numpy()
    draws = np.random.default_rng(seed).multivariate_normal(rows.mean(0), np.cov(rows.T), size=n)
    return torch.from_numpy(draws)


# ------------------------------------------------------------------ the ring GAN's bar

def _ring(graders):
    """The public ring test's training data and held-out samples."""
    data = graders.Data()
    return data.ring(4000, seed=0)[0], data.ring(2000, seed=99)[0]


def ring_gaussian_scores(graders, seed: int) -> tuple[float, float, list[str]]:
    """(share near a mode, energy distance to the held-out ring, the bar's problems) of 2,000
    draws from the Gaussian fitted to the ring's training data."""
    oracle, (train, held_out) = graders.Oracle(), _ring(graders)
    samples = _gaussian_like(train, 2000, seed)
    _, near = oracle.mode_counts(samples)
    return near, oracle.energy_distance(samples, held_out), oracle.ring_problems(samples, held_out)


def test_a_fitted_gaussian_fails_the_ring_bar(graders):
    for seed in DRAWS:
        near, energy, problems = ring_gaussian_scores(graders, seed)
        assert near < graders.RING_NEAR_BAR / 5  # about 5% near a mode, against 60%
        assert energy > graders.RING_ENERGY_BAR * 1.5
        assert len(problems) >= 2


def test_collapsed_and_partial_generators_fail_the_ring_bar(graders):
    oracle, (train, held_out) = graders.Oracle(), _ring(graders)
    centres = oracle.ring_centres()
    one_point = centres[:1].repeat(2000, 1)
    problems = oracle.ring_problems(one_point, held_out)
    assert any("misses modes" in p for p in problems) and any("energy distance" in p for p in problems)
    # the data itself, with two modes left out: every sample on a mode, 6 modes well covered
    _, labels = graders.Data().ring(4000, seed=0)
    partial = train[labels < 6][:2000]
    counts, near = oracle.mode_counts(partial)
    assert near > 0.99 and int((counts > 0).sum()) == 6
    assert any("mode(s) [6, 7]" in p for p in oracle.ring_problems(partial, held_out))
    # the reference's own margin, for comparison: the real data passes
    assert oracle.ring_problems(held_out[:2000], _ring(graders)[0][:2000]) == []


# ------------------------------------------------------------------ the DCGAN's bar

def test_a_gaussian_over_the_pixels_fails_the_digits_bar(graders, judge):
    train, _, held_out = graders.Data().digit_images()
    assert judge.problems(held_out) == []  # real digits pass
    for seed in DRAWS:
        gaussian = _gaussian_like(train, 1000, seed)
        for samples in (gaussian, gaussian.clamp(-1.0, 1.0)):
            stats = judge.statistics(samples)
            assert stats["mid_grey"] > graders.DIGITS_MID_GREY[1] + 0.04
            assert stats["edges"] > graders.DIGITS_EDGE_BAR + 0.02
            assert len(judge.problems(samples)) >= 2


def test_a_collapsed_generator_fails_the_digits_bar(graders, judge):
    train, labels, _ = graders.Data().digit_images()
    for digit in range(10):
        one_image = train[labels == digit][:1].repeat(1000, 1, 1, 1)
        problems = judge.problems(one_image)
        assert any("collapsed to a few digits" in p for p in problems), problems
    five_digits = train[labels < 5][:1000]  # real digits, half the classes
    assert any("collapsed to a few digits" in p for p in judge.problems(five_digits))


# ------------------------------------------------------------------ the VAE's and the diffusion model's bars

def moons_gaussian_scores(graders, seed: int) -> tuple[float, list[str]]:
    """(share near the moons, the bar's problems) of 1,000 draws from the Gaussian fitted to the
    diffusion test's two moons."""
    oracle, data = graders.Oracle(), graders.Data()
    train, held_out = data.two_moons(2000, seed=0), data.two_moons(1000, seed=1)
    samples = _gaussian_like(train, 1000, seed)
    return oracle.moons_near_fraction(samples), oracle.moons_problems(samples, held_out)


def test_a_fitted_gaussian_fails_the_diffusion_bar(graders):
    """Its energy distance to the held-out moons is close to the bar (0.027-0.032 against 0.03),
    so the bar also asks for samples on the moons, where the Gaussian puts about a third."""
    oracle, data = graders.Oracle(), graders.Data()
    train, held_out = data.two_moons(2000, seed=0), data.two_moons(1000, seed=1)
    assert oracle.moons_problems(held_out, train[:1000]) == []  # real data passes
    for seed in DRAWS:
        near, problems = moons_gaussian_scores(graders, seed)
        assert near < graders.DIFFUSION_NEAR_BAR - 0.05
        assert any("spread off the data" in p for p in problems)


def independent_pixels_vae_loss(graders) -> float:
    """The held-out negative ELBO of a VAE whose encoder says N(0, I) for every digit and whose
    decoder ignores z: independent Bernoulli pixels with the training digits' frequencies."""
    oracle = graders.Oracle()
    x = graders.Data().binary_digits()
    D, H, Z = 64, 128, 8
    p = x[:1400].double().mean(0).clamp(1e-3, 1 - 1e-3)
    sd = {"enc_hidden.weight": torch.zeros(H, D), "enc_hidden.bias": torch.zeros(H),
          "enc_mu.weight": torch.zeros(Z, H), "enc_mu.bias": torch.zeros(Z),
          "enc_logvar.weight": torch.zeros(Z, H), "enc_logvar.bias": torch.zeros(Z),
          "dec_hidden.weight": torch.zeros(H, Z), "dec_hidden.bias": torch.zeros(H),
          "dec_out.weight": torch.zeros(D, H), "dec_out.bias": torch.log(p / (1 - p)).float()}
    return oracle.vae_test_loss(sd, x[1400:])


def test_independent_pixels_fail_the_vae_bar(graders):
    assert independent_pixels_vae_loss(graders) > graders.Oracle().VAE_HELD_OUT_BAR + 3


# ------------------------------------------------------------------ graded as submissions

# train_gan replaced: no training; the generator's first layer zeroed, so that every z gives
# the same output (the ring's Generator calls it fc1, the DCGAN's fc).
COLLAPSE = '''

def train_gan(G, D, data, labels=None, steps=2000, batch_size=128, lr=1e-3, seed=0):
    with torch.no_grad():
        first = G.fc1 if hasattr(G, "fc1") else G.fc
        first.weight.zero_()
    return [0.0] * steps, [0.0] * steps
'''

# train_gan replaced: the ring Generator(2, H, 2) set to x = mu + L z, the Gaussian with the
# data's mean and covariance. fc1 passes z shifted by +10 through its ReLU unchanged, fc2 is the
# identity, and out undoes the shift.
GAUSSIAN = '''

def train_gan(G, D, data, labels=None, steps=2000, batch_size=128, lr=1e-3, seed=0):
    x = data.double()
    mu = x.mean(0)
    L = torch.linalg.cholesky(torch.cov(x.T))
    hidden = G.fc1.weight.shape[0]
    with torch.no_grad():
        G.fc1.weight.zero_()
        G.fc1.weight[:2] = torch.eye(2)
        G.fc1.bias.fill_(10.0)
        G.fc2.weight.copy_(torch.eye(hidden))
        G.fc2.bias.zero_()
        G.out.weight.zero_()
        G.out.weight[:, :2] = L.float()
        G.out.bias.copy_((mu - 10.0 * L.sum(1)).float())
    return [0.0] * steps, [0.0] * steps
'''


def _grade_with_train_gan(tmp_path, warm_parent, name: str, replacement: str, keyword: str) -> GradeResult:
    submission = tmp_path / name
    shutil.copytree(GENERATIVE.solutions_dir, submission, ignore=shutil.ignore_patterns("__pycache__"))
    gan = submission / "gan.py"
    gan.write_text(gan.read_text(encoding="utf-8") + replacement, encoding="utf-8")
    return grade_submission(GENERATIVE, submission, parent=warm_parent, pytest_args=("-k", keyword))


def _by_name(result: GradeResult) -> dict[str, object]:
    return {t.name.rsplit("::", 1)[-1]: t for t in result.tests}


def test_a_collapsing_train_gan_scores_zero_on_the_gan_bars(tmp_path, warm_parent):
    result = _grade_with_train_gan(tmp_path, warm_parent, "collapse", COLLAPSE,
                                   f"{RING_TEST} or {DIGITS_TEST}")
    tests = _by_name(result)
    assert sorted(tests) == sorted((RING_TEST, DIGITS_TEST))
    for test in tests.values():
        assert test.status == "failed" and test.score == 0, test.name
    assert "misses modes" in tests[RING_TEST].reason
    assert "collapsed to a few digits" in tests[DIGITS_TEST].reason
    assert result.score == 0


def test_a_gaussian_ring_generator_scores_zero(tmp_path, warm_parent, graders):
    # the replacement is the fitted Gaussian exactly, through the grader's forward pass
    namespace: dict = {"torch": torch}
    exec(compile(GAUSSIAN, "gaussian.py", "exec"), namespace)
    G = torch.nn.Module()
    G.fc1, G.fc2, G.out = torch.nn.Linear(2, 128), torch.nn.Linear(128, 128), torch.nn.Linear(128, 2)
    train, _ = _ring(graders)
    namespace["train_gan"](G, None, train)
    z = torch.randn(20000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    samples = graders.Oracle().generator(G.state_dict(), z)
    assert torch.allclose(samples.mean(0), train.double().mean(0), atol=0.05)
    assert torch.allclose(torch.cov(samples.T), torch.cov(train.double().T), atol=0.05)

    result = _grade_with_train_gan(tmp_path, warm_parent, "gaussian", GAUSSIAN, RING_TEST)
    test = _by_name(result)[RING_TEST]
    assert test.status == "failed" and test.score == 0
    assert "near a mode" in test.reason and "energy distance" in test.reason
