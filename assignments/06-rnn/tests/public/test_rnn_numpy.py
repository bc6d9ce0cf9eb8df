"""Public tests for rnn_numpy.py: the vanilla RNN in numpy, BPTT, gradient norms, clipping."""

import numpy as np
import pytest


def _problem(rng, N, T, D, H, scale=0.5):
    """x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), drawn from rng."""
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, H))
    Wh = scale * rng.standard_normal((H, H))
    b = 0.1 * rng.standard_normal(H)
    return x, h0, Wx, Wh, b


@pytest.mark.points(2)
def test_rnn_step_forward(submission, rng, oracle, check):
    """rnn_step_forward computes tanh(x @ Wx + h_prev @ Wh + b)."""
    x, h0, Wx, Wh, b = _problem(rng, N=3, T=1, D=4, H=5)
    h_next, _ = submission.rnn_numpy.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    expected = oracle.rnn_forward(x, h0, Wx, Wh, b)[:, 0]
    check.numpy_close(h_next, expected, name="rnn_step_forward(...)[0]")


@pytest.mark.points(2)
def test_rnn_step_backward(submission, rng, oracle, check):
    """rnn_step_backward returns dx, dh_prev, dWx, dWh, db of one step, like torch autograd."""
    x, h0, Wx, Wh, b = _problem(rng, N=3, T=1, D=4, H=5)
    dnext = rng.standard_normal((3, 5))
    _, cache = submission.rnn_numpy.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    grads = submission.rnn_numpy.rnn_step_backward(dnext, cache)
    dx, dh0, dWx, dWh, db = oracle.rnn_backward(x, h0, Wx, Wh, b, dnext[:, None, :])
    names = ("dx", "dh_prev", "dWx", "dWh", "db")
    assert len(grads) == 5, f"rnn_step_backward returned {len(grads)} values, expected 5"
    for name, actual, want in zip(names, grads, (dx[:, 0], dh0, dWx, dWh, db), strict=True):
        check.numpy_close(actual, want, name=name)


@pytest.mark.points(1)
def test_rnn_forward(submission, rng, oracle, check):
    """rnn_forward returns every hidden state (N, T, H) of the unrolled RNN."""
    x, h0, Wx, Wh, b = _problem(rng, N=2, T=6, D=3, H=4)
    h, _ = submission.rnn_numpy.rnn_forward(x, h0, Wx, Wh, b)
    check.numpy_close(h, oracle.rnn_forward(x, h0, Wx, Wh, b), name="rnn_forward(...)[0]")


@pytest.mark.points(3)
def test_rnn_backward(submission, rng, oracle, check):
    """rnn_backward (BPTT) matches torch autograd with upstream gradients on every step."""
    x, h0, Wx, Wh, b = _problem(rng, N=2, T=6, D=3, H=4)
    dh = rng.standard_normal((2, 6, 4))
    _, cache = submission.rnn_numpy.rnn_forward(x, h0, Wx, Wh, b)
    grads = submission.rnn_numpy.rnn_backward(dh, cache)
    expected = oracle.rnn_backward(x, h0, Wx, Wh, b, dh)
    assert len(grads) == 5, f"rnn_backward returned {len(grads)} values, expected 5"
    for name, actual, want in zip(("dx", "dh0", "dWx", "dWh", "db"), grads, expected, strict=True):
        check.numpy_close(actual, want, name=name)


@pytest.mark.points(2)
def test_hidden_state_grad_norms(submission, rng, oracle, check):
    """hidden_state_grad_norms returns ||dL/dh_t|| for every step, like torch autograd."""
    x, h0, Wx, Wh, b = _problem(rng, N=2, T=8, D=3, H=4)
    dh_last = rng.standard_normal((2, 4))
    norms = submission.rnn_numpy.hidden_state_grad_norms(x, h0, Wx, Wh, b, dh_last)
    expected = oracle.hidden_grad_norms(x, h0, Wx, Wh, b, dh_last)
    check.numpy_close(norms, expected, name="hidden_state_grad_norms(...)")


@pytest.mark.points(2)
def test_clip_grad_norm(submission, rng, oracle, check):
    """clip_grad_norm rescales all gradients by one factor, like torch's clip_grad_norm_."""
    grads = {"Wx": rng.standard_normal((3, 4)), "Wh": rng.standard_normal((4, 4)),
             "b": rng.standard_normal(4)}
    clipped, total = submission.rnn_numpy.clip_grad_norm(grads, 1.5)
    expected, expected_total = oracle.clip_grad_norm(grads, 1.5)
    assert sorted(clipped) == sorted(grads), f"clipped has keys {sorted(clipped)}"
    for k, v in expected.items():
        check.numpy_close(clipped[k], v, name=f"clipped[{k!r}]")
    assert np.ndim(total) == 0, "total_norm must be a scalar"
    assert abs(float(total) - expected_total) <= 1e-8 * expected_total, "total_norm is wrong"
