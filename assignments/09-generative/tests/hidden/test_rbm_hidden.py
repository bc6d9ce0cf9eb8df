"""Hidden tests for rbm.py: log Z and the conditionals by enumeration, the Gibbs chain's distribution, CD-1, training."""

import pytest
import torch

from autograder.testing import assert_close


def _rbm(rng, V, H, scale=1.0):
    return (torch.from_numpy(scale * rng.standard_normal((V, H))), torch.from_numpy(0.5 * rng.standard_normal(V)),
            torch.from_numpy(0.5 * rng.standard_normal(H)))


def _binary(rng, N, V, p=0.5):
    return torch.from_numpy((rng.random((N, V)) < p).astype(float))


@pytest.mark.points(2)
def test_log_partition_by_brute_force(submission, oracle, rng):
    """log_partition equals the log of the sum of exp(-E(v, h)) over every visible AND hidden state."""
    for V, H in ((3, 2), (6, 5)):
        W, b, c = _rbm(rng, V, H)
        assert_close(submission.rbm.log_partition(W, b, c), oracle.rbm_log_z(W, b, c), rtol=1e-9,
                     name=f"log Z of a {V}x{H} RBM")


@pytest.mark.points(2)
def test_conditionals_by_enumeration(submission, oracle, rng):
    """hidden_probs and visible_probs equal the conditionals of the exact joint distribution."""
    W, b, c = _rbm(rng, 4, 3)
    vs, hs, log_p = oracle.rbm_joint(W, b, c)
    p = log_p.exp()
    want_h = (p @ hs) / p.sum(1, keepdim=True)          # E[h | v] = p(h_j = 1 | v), one row per v
    want_v = (p.T @ vs) / p.sum(0)[:, None]             # p(v_i = 1 | h), one row per h
    assert_close(submission.rbm.hidden_probs(vs, W, c), want_h, rtol=1e-9, atol=1e-12, name="hidden_probs")
    assert_close(submission.rbm.visible_probs(hs, W, b), want_v, rtol=1e-9, atol=1e-12, name="visible_probs")


@pytest.mark.points(2)
def test_gibbs_chain_reaches_the_model_distribution(submission, oracle, rng):
    """8000 Gibbs chains of a tiny RBM, 25 steps each, visit the visible states with the exact probabilities."""
    W, b, c = _rbm(rng, 3, 2, scale=0.8)
    vs, _, log_p = oracle.rbm_joint(W, b, c)
    p_v = log_p.exp().sum(1)
    v = torch.zeros(8000, 3, dtype=torch.float64)
    for step in range(25):
        v, _ = submission.rbm.gibbs_step(v, W, b, c, 100 + step)
    codes = (v @ torch.tensor([4.0, 2.0, 1.0], dtype=torch.float64)).long()   # vs is in binary order
    freq = torch.bincount(codes, minlength=8).double() / 8000
    assert float((freq - p_v).abs().max()) < 0.025, "the chain's visible states do not follow p(v)"


@pytest.mark.points(2)
def test_cd1_gradients_other_sizes(submission, oracle, rng):
    """cd1_gradients on a wider RBM with sparse data: positive phase on the data, negative on the reconstruction."""
    W, b, c = _rbm(rng, 9, 3, scale=0.5)
    v0 = _binary(rng, 16, 9, p=0.2)
    dW, db, dc = submission.rbm.cd1_gradients(v0, W, b, c, 21)
    for name, got, want in zip(("dW", "db", "dc"), (dW, db, dc), oracle.cd1(v0, W, b, c, 21), strict=True):
        assert_close(got, want, rtol=1e-9, atol=1e-12, name=name)


@pytest.mark.points(1)
def test_train_rbm_raises_the_exact_likelihood(submission, oracle, seed):
    """train_rbm with CD-1 on two noisy patterns raises the exact mean log-likelihood above -3.5 nats."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.tensor([[1, 1, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 1, 1, 0, 1]], dtype=torch.float64)
    x = patterns[torch.randint(2, (200,), generator=g)]
    x = torch.where(torch.rand(x.shape, generator=g, dtype=torch.float64) < 0.05, 1 - x, x)
    W, b, c = submission.rbm.train_rbm(x, 4, epochs=30, batch_size=20, lr=0.1, seed=0)
    assert tuple(W.shape) == (8, 4), f"train_rbm returned W of shape {tuple(W.shape)}"
    ll = oracle.rbm_mean_log_likelihood(x, W, b, c)
    assert ll > -3.5, f"exact mean log-likelihood {ll:.2f} nats, expected above -3.5"
