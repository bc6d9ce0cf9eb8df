"""Public tests for rbm.py: the free energy by enumeration, one block-Gibbs step, the CD-1 gradients."""

import pytest
import torch

from autograder.testing import assert_close


def _rbm(rng, V, H, scale=1.0):
    return (torch.from_numpy(scale * rng.standard_normal((V, H))), torch.from_numpy(0.5 * rng.standard_normal(V)),
            torch.from_numpy(0.5 * rng.standard_normal(H)))


def _binary(rng, N, V):
    return torch.from_numpy((rng.random((N, V)) < 0.5).astype(float))


@pytest.mark.points(2)
def test_free_energy_by_enumeration(submission, oracle, rng):
    """free_energy(v) = -log sum_h exp(-E(v, h)), checked by summing over every h of a small RBM."""
    W, b, c = _rbm(rng, 5, 4)
    v = _binary(rng, 6, 5)
    assert_close(submission.rbm.free_energy(v, W, b, c), -oracle.rbm_neg_free_energy(v, W, b, c), rtol=1e-9,
                 name="free_energy")


@pytest.mark.points(2)
def test_gibbs_step_with_pinned_draws(submission, oracle, rng):
    """gibbs_step samples h ~ p(h | v), then v ~ p(v | h), with the handout's order of uniform draws."""
    W, b, c = _rbm(rng, 6, 4)
    v = _binary(rng, 8, 6)
    v_new, h = submission.rbm.gibbs_step(v, W, b, c, 5)
    want_v, want_h = oracle.gibbs(v, W, b, c, 5)
    assert_close(h, want_h, name="h")
    assert_close(v_new, want_v, name="v_new")


@pytest.mark.points(1)
def test_cd1_gradients(submission, oracle, rng):
    """cd1_gradients: data statistics (positive phase) minus reconstruction statistics (negative phase)."""
    W, b, c = _rbm(rng, 6, 4)
    v0 = _binary(rng, 10, 6)
    dW, db, dc = submission.rbm.cd1_gradients(v0, W, b, c, 3)
    for name, got, want in zip(("dW", "db", "dc"), (dW, db, dc), oracle.cd1(v0, W, b, c, 3), strict=True):
        assert_close(got, want, rtol=1e-9, atol=1e-12, name=name)
