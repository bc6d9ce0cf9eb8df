"""Public tests for diffusion.py: schedules, q(x_t | x_0), the posterior, a reverse step, training on two moons."""

import numpy as np
import pytest
import torch

from autograder.testing import assert_close


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_linear_schedule_and_alpha_bars(submission, oracle):
    """linear_beta_schedule spaces the betas evenly; compute_alpha_bars is the cumulative PRODUCT of 1 - beta."""
    betas = submission.diffusion.linear_beta_schedule(10, 1e-4, 0.02)
    assert_close(betas, torch.tensor(oracle.linear_betas(10, 1e-4, 0.02)), rtol=1e-10, name="linear betas")
    ab = submission.diffusion.compute_alpha_bars(betas)
    assert_close(ab, torch.tensor(oracle.alpha_bars(oracle.linear_betas(10, 1e-4, 0.02))), rtol=1e-10,
                 name="alpha_bars")


@pytest.mark.points(1)
def test_q_sample_closed_form(submission, oracle, rng):
    """q_sample(x0, t, noise) = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise, with t 0-based per row."""
    betas = oracle.linear_betas(20, 1e-3, 0.1)
    ab = oracle.alpha_bars(betas)
    x0, noise = _t(rng, 5, 2), _t(rng, 5, 2)
    t = np.array([0, 3, 7, 12, 19])
    want = np.sqrt(ab[t])[:, None] * x0.numpy() + np.sqrt(1 - ab[t])[:, None] * noise.numpy()
    got = submission.diffusion.q_sample(x0, torch.from_numpy(t), noise, torch.tensor(ab))
    assert_close(got, torch.tensor(want), rtol=1e-9, name="q_sample")


@pytest.mark.points(2)
def test_posterior_mean_and_variance(submission, oracle, rng):
    """posterior_mean_variance gives the mean and variance of q(x_{t-1} | x_t, x_0) (Bayes' rule on Gaussians)."""
    betas = oracle.linear_betas(20, 1e-3, 0.1)
    x0, xt = _t(rng, 4, 3), _t(rng, 4, 3)
    t = np.array([1, 5, 10, 19])
    mean, var = submission.diffusion.posterior_mean_variance(x0, xt, torch.from_numpy(t), torch.tensor(betas))
    want_mean, want_var = oracle.posterior(x0, xt, t, betas)
    assert_close(mean, torch.tensor(want_mean), rtol=1e-8, atol=1e-12, name="posterior mean")
    assert_close(var.reshape(-1), torch.tensor(want_var).reshape(-1), rtol=1e-8, atol=1e-14, name="posterior variance")


@pytest.mark.points(1)
def test_p_sample_step(submission, oracle, rng):
    """p_sample_step: the mean from the predicted noise plus sqrt(posterior variance) times z."""
    betas = oracle.linear_betas(20, 1e-3, 0.1)
    xt, eps, z = _t(rng, 4, 2), _t(rng, 4, 2), _t(rng, 4, 2)
    for t in (7, 19):
        got = submission.diffusion.p_sample_step(xt, t, eps, torch.tensor(betas), z)
        want = oracle.reverse_step(xt.numpy(), t, eps.numpy(), betas, z.numpy())
        assert_close(got, torch.tensor(want), rtol=1e-8, atol=1e-12, name=f"x_prev at t={t}")


@pytest.mark.points(3)
def test_train_diffusion_on_two_moons(submission, oracle, data):
    """train_diffusion on two moons (T=50, 2000 steps) then sample: close to held-out data, and on the moons."""
    train, test = data.two_moons(2000, seed=0), data.two_moons(1000, seed=1)
    betas = submission.diffusion.linear_beta_schedule(50, 1e-3, 0.2)
    submission.seed(0)
    model = submission.diffusion.DenoiserMLP(2, 128, 16)
    losses = submission.diffusion.train_diffusion(model, train, betas, steps=2000, batch_size=256, lr=1e-3, seed=0)
    assert len(losses) == 2000, f"train_diffusion returned {len(losses)} losses for 2000 steps"
    samples = submission.diffusion.sample(model, 1000, 2, betas, seed=0)
    assert tuple(samples.shape) == (1000, 2), f"sample returned shape {tuple(samples.shape)}"
    problems = oracle.moons_problems(samples.double(), test)
    assert not problems, "; ".join(problems)
