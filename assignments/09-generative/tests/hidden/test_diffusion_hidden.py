"""Hidden tests for diffusion.py: the cosine schedule, indexing at both ends, the denoiser, the loss, the sampling loop."""

import numpy as np
import pytest
import torch

from autograder.testing import ProbeLabels, assert_close, assert_probe_matches


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_cosine_schedule(submission, oracle):
    """cosine_beta_schedule follows Nichol & Dhariwal's closed form, clipped at max_beta."""
    for T in (10, 100):
        got = submission.diffusion.cosine_beta_schedule(T)
        assert_close(got, torch.tensor(oracle.cosine_betas(T)), rtol=1e-9, atol=1e-14, name=f"cosine betas, T={T}")
    got = submission.diffusion.cosine_beta_schedule(8, max_beta=0.3)
    assert_close(got, torch.tensor(oracle.cosine_betas(8, max_beta=0.3)), rtol=1e-9, atol=1e-14,
                 name="cosine betas with max_beta=0.3")


@pytest.mark.points(2)
def test_alpha_bars_of_any_schedule(submission, oracle, rng):
    """compute_alpha_bars on arbitrary betas, and the cosine schedule's alpha_bars follow its closed form."""
    betas = rng.uniform(0.01, 0.5, size=12)
    assert_close(submission.diffusion.compute_alpha_bars(torch.tensor(betas)), torch.tensor(oracle.alpha_bars(betas)),
                 rtol=1e-10, name="alpha_bars of random betas")
    T, s = 20, 0.008
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    ab = submission.diffusion.compute_alpha_bars(submission.diffusion.cosine_beta_schedule(T))
    # The last beta is clipped at max_beta, so only the first T - 1 follow f exactly.
    assert_close(ab[:-1], torch.tensor(f[1:-1] / f[0]), rtol=1e-8, atol=1e-12, name="alpha_bars of the cosine schedule")


@pytest.mark.points(2)
def test_q_sample_statistics_and_ends(submission, oracle, rng):
    """q_sample at t = 0 and t = T - 1 uses alpha_bar[0] and alpha_bar[T - 1]; draws have the right moments."""
    betas = oracle.linear_betas(30, 1e-3, 0.2)
    ab = oracle.alpha_bars(betas)
    x0 = torch.full((20000, 1), 1.5, dtype=torch.float64)
    noise = torch.from_numpy(rng.standard_normal((20000, 1)))
    for t in (0, 29):
        xt = submission.diffusion.q_sample(x0, torch.full((20000,), t), noise, torch.tensor(ab))
        assert_close(xt[:3], np.sqrt(ab[t]) * x0[:3] + np.sqrt(1 - ab[t]) * noise[:3], rtol=1e-9,
                     name=f"q_sample at t={t}")
        # 0.05: over 5 standard errors of 20000 draws, so no draw of the noise fails the reference
        assert abs(float(xt.mean()) - 1.5 * np.sqrt(ab[t])) < 0.05, f"the mean of x_t at t={t} is off"
        assert abs(float(xt.var()) - (1 - ab[t])) < 0.05, f"the variance of x_t at t={t} is off"


@pytest.mark.points(2)
def test_posterior_at_the_ends(submission, oracle, rng):
    """The posterior at t = 0 is the point x0 (variance 0); at t = T - 1 it matches Bayes' rule, cosine schedule."""
    betas = oracle.cosine_betas(40)
    x0, xt = _t(rng, 3, 2), _t(rng, 3, 2)
    t = np.array([0, 39, 20])
    mean, var = submission.diffusion.posterior_mean_variance(x0, xt, torch.from_numpy(t), torch.tensor(betas))
    want_mean, want_var = oracle.posterior(x0, xt, t, betas)
    assert_close(mean, torch.tensor(want_mean), rtol=1e-8, atol=1e-12, name="posterior mean")
    assert_close(var.reshape(-1), torch.tensor(want_var).reshape(-1), rtol=1e-8, atol=1e-14,
                 name="posterior variance")


@pytest.mark.points(1)
def test_denoiser_matches_oracle(submission, oracle, weights, rng):
    """DenoiserMLP(x, t) concatenates the given time embedding to x and runs three SiLU layers and a linear output."""
    model = submission.diffusion.DenoiserMLP(2, 16, 8)
    sd = weights.load(model)
    x, t = _t(rng, 5, 2), torch.from_numpy(rng.integers(0, 50, size=5))
    assert_close(model(x, t), oracle.denoiser(sd, x, t, 8), rtol=1e-6, atol=1e-9, name="DenoiserMLP(x, t)")


@pytest.mark.points(3)
def test_diffusion_loss_and_gradient(submission, oracle, weights, rng):
    """diffusion_loss is the MSE between the model's prediction at (x_t, t) and the noise; its gradients match."""
    model = submission.diffusion.DenoiserMLP(2, 16, 8)
    sd = weights.load(model)
    ab = torch.tensor(oracle.alpha_bars(oracle.linear_betas(50, 1e-3, 0.2)))
    x0, noise = _t(rng, 6, 2), _t(rng, 6, 2)
    t = torch.from_numpy(rng.integers(0, 50, size=6))
    x0r, noiser = x0.clone().requires_grad_(), noise.clone().requires_grad_()
    a = ab[t][:, None]
    want = ((oracle.denoiser(sd, a.sqrt() * x0r + (1 - a).sqrt() * noiser, t, 8) - noiser) ** 2).mean()
    want.backward()
    probe = submission.autograd_probe(submission.diffusion.diffusion_loss, [model, x0, t, noise, ab])
    assert_close(probe["output"], want.detach(), rtol=1e-7, name="diffusion_loss")
    labels = ProbeLabels(inputs=("d loss / d model", "d loss / d x0", "d loss / d t", "d loss / d noise"))
    assert_probe_matches(probe, {"input_grads": [None, x0r.grad, None, noiser.grad]}, labels=labels,
                         rtol=1e-6, atol=1e-10)


@pytest.mark.points(2)
def test_p_sample_step_last_step_is_deterministic(submission, oracle, rng):
    """p_sample_step at t = 0 adds no noise; at t = T - 1 it uses the posterior variance; xt, eps and z stay unchanged."""
    betas = oracle.cosine_betas(30)
    xt, eps, z = _t(rng, 4, 2), _t(rng, 4, 2), _t(rng, 4, 2)
    for t in (0, 29):
        kept = [submission.keep(a.clone()) for a in (xt, eps, z)]
        got = submission.diffusion.p_sample_step(kept[0], t, kept[1], torch.tensor(betas), kept[2])
        want = oracle.reverse_step(xt.numpy(), t, eps.numpy(), betas, z.numpy())
        assert_close(got, torch.tensor(want), rtol=1e-8, atol=1e-12, name=f"x_prev at t={t}")
        for name, handle, original in zip(("xt", "eps", "z"), kept, (xt, eps, z), strict=True):
            assert torch.equal(handle.value(), original), (
                f"p_sample_step changed its {name} argument in place; compute a new tensor "
                "(no function modifies its inputs)")


@pytest.mark.points(2)
def test_sample_loop_with_pinned_draws(submission, oracle, weights, seed):
    """sample runs t = T - 1 .. 0 from x ~ N(0, I) with the handout's order of draws, calling the model at each t."""
    model = submission.diffusion.DenoiserMLP(2, 16, 8)
    sd = weights.load(model, scale=0.5, dtype=torch.float32)
    betas = oracle.linear_betas(12, 1e-3, 0.3)
    got = submission.diffusion.sample(model, 6, 2, torch.tensor(betas), seed=seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(6, 2, generator=g).double().numpy()
    sd64 = {k: v.double() for k, v in sd.items()}
    for t in range(11, -1, -1):
        z = torch.randn(6, 2, generator=g).double().numpy()
        eps = oracle.denoiser(sd64, torch.from_numpy(x), torch.full((6,), t), 8).detach().numpy()
        x = oracle.reverse_step(x, t, eps, betas, z)
    assert tuple(got.shape) == (6, 2), f"sample returned shape {tuple(got.shape)}"
    assert_close(got.double(), torch.from_numpy(x), rtol=1e-4, atol=1e-4, name="the samples")


@pytest.mark.points(1)
def test_train_diffusion_is_seeded(submission, data, oracle, rng):
    """train_diffusion: the same seed gives the same losses, the loss goes down, and the
    trained weights (run by the grader's denoiser) predict the noise of new moons better."""
    x = data.two_moons(500, seed=3)
    betas = submission.diffusion.linear_beta_schedule(20, 1e-3, 0.3)
    submission.seed(1)
    a = submission.diffusion.DenoiserMLP(2, 32, 8)
    sd = a.state_dict()
    la = submission.diffusion.train_diffusion(a, x, betas, steps=200, batch_size=64, lr=3e-3, seed=5)
    b = submission.diffusion.DenoiserMLP(2, 32, 8)
    b.load_state_dict(sd)
    lb = submission.diffusion.train_diffusion(b, x, betas, steps=200, batch_size=64, lr=3e-3, seed=5)
    assert la == lb, "two runs with the same seed gave different losses"
    assert np.mean(la[-50:]) < 0.8 * np.mean(la[:20]), "the loss did not go down"
    x0 = data.two_moons(1000, seed=4).double()
    t = torch.from_numpy(rng.integers(0, 20, size=1000))
    noise = _t(rng, 1000, 2)
    ab = torch.from_numpy(oracle.alpha_bars(oracle.linear_betas(20, 1e-3, 0.3)))[t][:, None]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def held_out_loss(state) -> float:
        prediction = oracle.denoiser({k: v.double() for k, v in state.items()}, xt, t, 8)
        return float(((prediction - noise) ** 2).mean())

    before, after = held_out_loss(sd), held_out_loss(a.state_dict())
    assert after < 0.8 * before, (
        f"the trained weights predict the noise of new moons with loss {after:.3f}, against "
        f"{before:.3f} before training (must be below 0.8 of it): the returned losses say it "
        "learnt, the weights do not")
