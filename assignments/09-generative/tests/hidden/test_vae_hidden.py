"""Hidden tests for vae.py: the KL's gradient and log-variance, sampling statistics, gradients, the prior, reproducibility."""

import pytest
import torch

from autograder.testing import ProbeLabels, assert_close, assert_probe_matches

D, HID, Z = 10, 12, 4


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_kl_gradient_closed_form(submission, rng):
    """The KL's gradient: d/dmu = mu, d/dlogvar = (exp(logvar) - 1) / 2."""
    mu, logvar = _t(rng, 3, Z), _t(rng, 3, Z)
    probe = submission.autograd_probe(submission.vae.kl_standard_normal, [mu, logvar])
    assert_probe_matches(probe, {"input_grads": [mu, 0.5 * (logvar.exp() - 1)]},
                         labels=ProbeLabels(inputs=("dKL/dmu", "dKL/dlogvar")), rtol=1e-7, atol=1e-12)


@pytest.mark.points(1)
def test_kl_reads_a_log_variance(submission, oracle):
    """kl_standard_normal takes log sigma^2: zero at (0, 0), and right for large and negative log-variances."""
    mu = torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, 0.0, 0.0], [3.0, -4.0, -0.5]], dtype=torch.float64)
    kl = submission.vae.kl_standard_normal(mu, logvar)
    assert_close(kl, oracle.kl(mu, logvar), rtol=1e-7, atol=1e-12, name="kl_standard_normal")


@pytest.mark.points(2)
def test_reparameterize_draws_with_gradient(submission):
    """reparameterize without eps draws z ~ N(mu, exp(logvar)) that still carries gradient to mu and logvar."""
    mu = torch.tensor([[1.0, -2.0, 0.0]], dtype=torch.float64).repeat(20000, 1)
    logvar = torch.tensor([[0.0, 1.0, -2.0]], dtype=torch.float64).repeat(20000, 1)
    probe = submission.autograd_probe(submission.vae.reparameterize, [mu, logvar])
    z = probe["output"]
    assert_close(z.mean(0), mu[0], atol=0.06, rtol=0, name="the mean of z")
    assert_close(z.std(0), torch.exp(0.5 * logvar[0]), atol=0.04, rtol=0, name="the standard deviation of z")
    g_mu, g_logvar = probe["input_grads"]
    assert g_mu is not None and g_logvar is not None, "the drawn z carries no gradient to mu or logvar"
    assert_close(g_mu, torch.ones_like(mu), name="dz/dmu")
    eps = (z - mu) / torch.exp(0.5 * logvar)
    assert_close(g_logvar, 0.5 * torch.exp(0.5 * logvar) * eps, rtol=1e-6, atol=1e-9, name="dz/dlogvar")


@pytest.mark.points(2)
def test_vae_parameter_gradients(submission, oracle, weights, rng):
    """The VAE's negative ELBO, and the gradients of its logits with respect to every weight, match the oracle model."""
    model = submission.vae.VAE(D, HID, Z)
    sd = weights.load(model)
    x = torch.from_numpy((rng.random((5, D)) < 0.5).astype(float))
    eps = _t(rng, 5, Z)
    logits, mu, logvar = model(x, eps)
    assert_close(submission.vae.negative_elbo(x, logits, mu, logvar), oracle.negative_elbo(x, *oracle.vae_forward(sd, x, eps)),
                 rtol=1e-7, name="negative_elbo of the model's output")
    probe = submission.autograd_probe(model, [x, eps], (torch.ones(5, D, dtype=torch.float64),
                                                        torch.zeros(5, Z, dtype=torch.float64),
                                                        torch.zeros(5, Z, dtype=torch.float64)), params=True)
    leaves = {k: v.clone().requires_grad_() for k, v in sd.items()}
    oracle.vae_forward(leaves, x, eps)[0].sum().backward()
    assert_probe_matches(probe, {"param_grads": {k: v.grad for k, v in leaves.items()}},
                         labels=ProbeLabels(param="gradient of {param}"), rtol=1e-6, atol=1e-9)


@pytest.mark.points(2)
def test_negative_elbo_gradient(submission, oracle, rng):
    """negative_elbo's gradients with respect to the logits, mu and logvar match torch.distributions'."""
    x = torch.from_numpy((rng.random((4, D)) < 0.5).astype(float))
    logits, mu, logvar = _t(rng, 4, D), _t(rng, 4, Z), _t(rng, 4, Z)
    probe = submission.autograd_probe(submission.vae.negative_elbo, [x, logits, mu, logvar])
    leaves = [a.clone().requires_grad_() for a in (logits, mu, logvar)]
    oracle.negative_elbo(x, *leaves).backward()
    assert_probe_matches(probe, {"input_grads": [None, *(leaf.grad for leaf in leaves)]},
                         labels=ProbeLabels(inputs=("dx", "dlogits", "dmu", "dlogvar")), rtol=1e-6, atol=1e-10)


@pytest.mark.points(1)
def test_sample_prior_decodes_standard_normal_codes(submission, oracle, weights, seed):
    """sample_prior decodes z = randn(N, Z) of a generator seeded with seed, and returns probabilities."""
    model = submission.vae.VAE(D, HID, Z)
    sd = weights.load(model)
    got = submission.vae.sample_prior(model, 7, seed=seed)
    z = torch.randn(7, Z, generator=torch.Generator().manual_seed(seed)).double()
    assert_close(got, torch.sigmoid(oracle.vae_decode(sd, z)), rtol=1e-6, atol=1e-9, name="sample_prior")


@pytest.mark.points(2)
def test_train_vae_is_seeded_and_learns(submission, oracle, data):
    """train_vae: the same seed gives the same losses, and the ELBO improves on the untrained model, beyond what independent pixels reach."""
    x = data.binary_digits()[:400]
    submission.seed(3)
    a = submission.vae.VAE(64, 32, 4)
    before = oracle.vae_test_loss(a.state_dict(), x)
    sd = a.state_dict()
    la = submission.vae.train_vae(a, x, epochs=40, batch_size=50, lr=3e-3, seed=4)
    b = submission.vae.VAE(64, 32, 4)
    b.load_state_dict(sd)
    lb = submission.vae.train_vae(b, x, epochs=40, batch_size=50, lr=3e-3, seed=4)
    assert la == lb, "two runs with the same seed gave different losses"
    after = oracle.vae_test_loss(a.state_dict(), x)
    assert after < before - 5, "the negative ELBO did not improve by 5 nats in 40 epochs"
    # Independent Bernoulli pixels with these digits' frequencies: the least negative ELBO of
    # any VAE whose decoder ignores z (or whose encoder says N(0, I) for every digit).
    p = x.double().mean(0).clamp(1e-3, 1 - 1e-3)
    independent = float(-(x * p.log() + (1 - x) * (1 - p).log()).sum(1).mean())
    assert after < independent - 2, (
        f"after 40 epochs the negative ELBO is {after:.2f} nats, not 2 below independent "
        f"pixels' {independent:.2f}: the code z does not carry the digits")
