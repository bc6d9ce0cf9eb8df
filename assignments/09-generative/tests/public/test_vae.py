"""Public tests for vae.py: the KL term, the reparameterisation trick, the model, the ELBO, training on digits."""

import pytest
import torch

from autograder.testing import assert_close

D, HID, Z = 12, 16, 3


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


def _vae(submission, weights):
    model = submission.vae.VAE(D, HID, Z)
    return model, weights.load(model)


@pytest.mark.points(2)
def test_kl_matches_torch_distributions(submission, oracle, rng):
    """kl_standard_normal equals torch.distributions' KL(N(mu, sigma^2) || N(0, 1)), summed over latents."""
    mu, logvar = _t(rng, 5, 4), 1.5 * _t(rng, 5, 4)
    assert_close(submission.vae.kl_standard_normal(mu, logvar), oracle.kl(mu, logvar), rtol=1e-7,
                 name="kl_standard_normal(mu, logvar)")


@pytest.mark.points(2)
def test_reparameterize_value_and_gradient(submission, rng):
    """reparameterize returns mu + exp(logvar / 2) * eps, with gradient 1 to mu and eps * sigma / 2 to logvar."""
    mu, logvar, eps = _t(rng, 4, 3), _t(rng, 4, 3), _t(rng, 4, 3)
    sigma = torch.exp(0.5 * logvar)
    probe = submission.autograd_probe(submission.vae.reparameterize, [mu, logvar, eps])
    assert_close(probe["output"], mu + sigma * eps, rtol=1e-7, name="z")
    grads = probe["input_grads"]
    assert grads[0] is not None and grads[1] is not None, "z carries no gradient to mu or logvar"
    assert_close(grads[0], torch.ones_like(mu), name="dz/dmu")
    assert_close(grads[1], 0.5 * sigma * eps, rtol=1e-7, name="dz/dlogvar")


@pytest.mark.points(1)
def test_vae_forward_matches_oracle(submission, oracle, weights, rng):
    """VAE.forward with given eps: encoder to (mu, logvar), z = mu + sigma * eps, decoder to logits."""
    model, sd = _vae(submission, weights)
    x = torch.from_numpy((rng.random((6, D)) < 0.5).astype(float))
    eps = _t(rng, 6, Z)
    logits, mu, logvar = model(x, eps)
    ref = oracle.vae_forward(sd, x, eps)
    for name, got, want in (("mu", mu, ref[1]), ("logvar", logvar, ref[2]), ("logits", logits, ref[0])):
        assert_close(got, want, rtol=1e-6, atol=1e-9, name=name)


@pytest.mark.points(2)
def test_negative_elbo_matches_distributions(submission, oracle, rng):
    """negative_elbo is the batch mean of the Bernoulli negative log-likelihood plus the analytic KL."""
    x = torch.from_numpy((rng.random((5, D)) < 0.4).astype(float))
    logits, mu, logvar = 2 * _t(rng, 5, D), _t(rng, 5, Z), _t(rng, 5, Z)
    assert_close(submission.vae.negative_elbo(x, logits, mu, logvar), oracle.negative_elbo(x, logits, mu, logvar),
                 rtol=1e-7, name="negative_elbo")


@pytest.mark.points(3)
def test_train_vae_on_digits(submission, oracle, data):
    """train_vae on binarized digits (30 epochs): the held-out negative ELBO is at most 21 nats."""
    x = data.binary_digits()
    submission.seed(0)
    model = submission.vae.VAE(64, 128, 8)
    losses = submission.vae.train_vae(model, x[:1400], epochs=30, batch_size=64, lr=2e-3, seed=0)
    assert len(losses) == 30, f"train_vae returned {len(losses)} losses for 30 epochs"
    loss = oracle.vae_test_loss(model.state_dict(), x[1400:])
    assert loss <= oracle.VAE_HELD_OUT_BAR, f"held-out negative ELBO {loss:.2f} nats, expected at most {oracle.VAE_HELD_OUT_BAR}"
