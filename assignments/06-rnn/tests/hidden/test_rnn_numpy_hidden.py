"""Hidden tests for rnn_numpy.py: BPTT details, spectral-radius theory, clipping edge cases."""

import numpy as np
import pytest


def _problem(rng, N, T, D, H, scale=0.5):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    Wx = scale * rng.standard_normal((D, H))
    Wh = scale * rng.standard_normal((H, H))
    b = 0.1 * rng.standard_normal(H)
    return x, h0, Wx, Wh, b


def _orthogonal(rng, H):
    q, r = np.linalg.qr(rng.standard_normal((H, H)))
    return q * np.sign(np.diag(r))


@pytest.mark.points(1)
def test_rnn_step_backward_saturated(submission, rng, oracle, check):
    """rnn_step_backward goes through tanh' = 1 - h**2, also for saturated units, with one example and D > H."""
    x, h0, Wx, Wh, b = _problem(rng, N=1, T=1, D=6, H=3, scale=2.0)
    dnext = rng.standard_normal((1, 3))
    _, cache = submission.rnn_numpy.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    grads = submission.rnn_numpy.rnn_step_backward(dnext, cache)
    dx, dh0, dWx, dWh, db = oracle.rnn_backward(x, h0, Wx, Wh, b, dnext[:, None, :])
    for name, actual, want in zip(("dx", "dh_prev", "dWx", "dWh", "db"), grads,
                                  (dx[:, 0], dh0, dWx, dWh, db), strict=True):
        check.numpy_close(actual, want, name=name)


@pytest.mark.points(3)
def test_rnn_backward_loss_on_last_step(submission, rng, oracle, check):
    """BPTT with a loss on the last step only: dWh, dWx, db summed over all 12 steps, dh0 and dx."""
    x, h0, Wx, Wh, b = _problem(rng, N=3, T=12, D=2, H=5, scale=0.6)
    dh = np.zeros((3, 12, 5))
    dh[:, -1] = rng.standard_normal((3, 5))
    _, cache = submission.rnn_numpy.rnn_forward(x, h0, Wx, Wh, b)
    grads = submission.rnn_numpy.rnn_backward(dh, cache)
    expected = oracle.rnn_backward(x, h0, Wx, Wh, b, dh)
    for name, actual, want in zip(("dWh", "dWx", "db", "dh0", "dx"), (grads[3], grads[2], grads[4],
                                  grads[1], grads[0]), (expected[3], expected[2], expected[4],
                                  expected[1], expected[0]), strict=True):
        check.numpy_close(actual, want, name=name)


@pytest.mark.points(2)
def test_rnn_backward_all_steps_nonsquare(submission, rng, oracle, check):
    """BPTT with losses on every step, D > H, a single example and a zero initial state."""
    x, _, Wx, Wh, b = _problem(rng, N=1, T=9, D=7, H=3, scale=0.8)
    h0 = np.zeros((1, 3))
    dh = rng.standard_normal((1, 9, 3))
    h, cache = submission.rnn_numpy.rnn_forward(x, h0, Wx, Wh, b)
    check.numpy_close(h, oracle.rnn_forward(x, h0, Wx, Wh, b), name="rnn_forward(...)[0]")
    grads = submission.rnn_numpy.rnn_backward(dh, cache)
    expected = oracle.rnn_backward(x, h0, Wx, Wh, b, dh)
    for name, actual, want in zip(("dx", "dh0", "dWx", "dWh", "db"), grads, expected, strict=True):
        check.numpy_close(actual, want, name=name)


@pytest.mark.points(1)
def test_rnn_numpy_returns_numpy_arrays(submission, rng, oracle, check):
    """rnn_numpy.py returns numpy float64 arrays everywhere (no torch tensors), with the right values."""
    x, h0, Wx, Wh, b = _problem(rng, N=2, T=3, D=3, H=2)
    # each array's type and shape first, then its value (zeros of the right shape pass the first)
    h, cache = submission.rnn_numpy.rnn_forward(x, h0, Wx, Wh, b)
    check.numpy_array(h, (2, 3, 2), "rnn_forward(...)[0]")
    check.numpy_close(h, oracle.rnn_forward(x, h0, Wx, Wh, b), name="rnn_forward(...)[0]")
    dh = np.ones((2, 3, 2))
    grads = submission.rnn_numpy.rnn_backward(dh, cache)
    for name, g, shape, want in zip(("dx", "dh0", "dWx", "dWh", "db"), grads,
                                    ((2, 3, 3), (2, 2), (3, 2), (2, 2), (2,)),
                                    oracle.rnn_backward(x, h0, Wx, Wh, b, dh), strict=True):
        check.numpy_array(g, shape, name)
        check.numpy_close(g, want, name=name)
    norms = submission.rnn_numpy.hidden_state_grad_norms(x, h0, Wx, Wh, b, np.ones((2, 2)))
    check.numpy_array(norms, (3,), "hidden_state_grad_norms(...)")
    check.numpy_close(norms, oracle.hidden_grad_norms(x, h0, Wx, Wh, b, np.ones((2, 2))),
                      name="hidden_state_grad_norms(...)")
    clipped, _ = submission.rnn_numpy.clip_grad_norm({"W": np.ones((2, 2))}, 1.0)
    check.numpy_array(clipped["W"], (2, 2), "clipped['W']")
    check.numpy_close(clipped["W"], np.full((2, 2), 0.5), name="clipped['W']")  # ||W|| = 2


def _linear_regime_norms(submission, rng, rho, T=20, H=6):
    """Norms from a zero state and zero inputs (tanh' = 1 everywhere), Wh = rho * orthogonal."""
    N, D = 2, 3
    x = np.zeros((N, T, D))
    h0 = np.zeros((N, H))
    Wx = rng.standard_normal((D, H))
    Wh = rho * _orthogonal(rng, H)
    b = np.zeros(H)
    dh_last = rng.standard_normal((N, H))
    norms = submission.rnn_numpy.hidden_state_grad_norms(x, h0, Wx, Wh, b, dh_last)
    expected = np.linalg.norm(dh_last) * rho ** np.arange(T - 1, -1, -1, dtype=np.float64)
    return norms, expected


@pytest.mark.points(2)
def test_grad_norms_vanish_below_spectral_radius_one(submission, rng, check):
    """With Wh = 0.5 * orthogonal and tanh' = 1, ||dL/dh_t|| = 0.5**(T-1-t) * ||dh_last|| (vanishing)."""
    norms, expected = _linear_regime_norms(submission, rng, 0.5)
    check.numpy_close(norms, expected, name="hidden_state_grad_norms(...)", tol="vanishing")


@pytest.mark.points(2)
def test_grad_norms_explode_above_spectral_radius_one(submission, rng, check):
    """With Wh = 1.5 * orthogonal and tanh' = 1, ||dL/dh_t|| = 1.5**(T-1-t) * ||dh_last|| (exploding)."""
    norms, expected = _linear_regime_norms(submission, rng, 1.5)
    check.numpy_close(norms, expected, name="hidden_state_grad_norms(...)")


@pytest.mark.points(2)
def test_grad_norms_follow_the_spectral_radius(submission, rng, oracle, check):
    """Gradient norms decay at the rate of Wh's spectral radius and never beat ||Wh||_2**(T-1-t)."""
    N, T, D, H = 2, 30, 3, 6
    eigvecs = _orthogonal(rng, H)
    for rho in (0.7, 0.9):
        eigvals = np.linspace(-0.5 * rho, rho, H)
        Wh = eigvecs @ np.diag(eigvals) @ eigvecs.T  # symmetric: spectral radius = ||Wh||_2 = rho
        # tiny inputs: tanh' is close to 1, so the decay rate is close to rho
        x = 1e-4 * rng.standard_normal((N, T, D))
        h0 = np.zeros((N, H))
        Wx = rng.standard_normal((D, H))
        b = np.zeros(H)
        dh_last = rng.standard_normal((N, H))
        norms = submission.rnn_numpy.hidden_state_grad_norms(x, h0, Wx, Wh, b, dh_last)
        check.numpy_close(norms, oracle.hidden_grad_norms(x, h0, Wx, Wh, b, dh_last),
                          name="hidden_state_grad_norms(...)")
        rate = (norms[0] / norms[10]) ** (1 / 10)
        assert abs(rate - rho) < 0.02 * rho, "the decay rate does not follow the spectral radius"
        # large inputs (saturated tanh) only make the decay faster
        x = 3.0 * rng.standard_normal((N, T, D))
        norms = np.asarray(submission.rnn_numpy.hidden_state_grad_norms(x, h0, Wx, Wh, b, dh_last))
        bound = np.linalg.norm(dh_last) * rho ** np.arange(T - 1, -1, -1, dtype=np.float64)
        assert np.all(norms <= bound * (1 + 1e-9)), "a gradient norm exceeds ||Wh||_2**(T-1-t) * ||dh_last||"


@pytest.mark.points(2)
def test_clip_grad_norm_below_threshold(submission, rng, check):
    """clip_grad_norm leaves gradients under the threshold unchanged and returns the norm before clipping."""
    grads = {"W": 0.1 * rng.standard_normal((3, 4)), "b": 0.1 * rng.standard_normal(4)}
    originals = {k: v.copy() for k, v in grads.items()}
    total_norm = float(np.sqrt(sum(np.sum(v**2) for v in grads.values())))
    clipped, total = submission.rnn_numpy.clip_grad_norm(grads, 10.0)
    for k, v in originals.items():
        check.numpy_close(clipped[k], v, name=f"clipped[{k!r}]")
    assert abs(float(total) - total_norm) <= 1e-9 * total_norm, "total_norm is wrong"
    grads = {"W": 10 * rng.standard_normal((3, 4))}
    clipped, _ = submission.rnn_numpy.clip_grad_norm(grads, 1.0)
    assert np.linalg.norm(clipped["W"]) < 1.0, "gradients above the threshold were not clipped"


@pytest.mark.points(2)
def test_clip_grad_norm_global_not_per_element(submission, rng, oracle, check):
    """clip_grad_norm uses ONE global norm over all arrays, keeps the direction, and matches torch."""
    grads = {
        "Wx": rng.standard_normal((4, 3)) * 0.2,
        "Wh": rng.standard_normal((3, 3)) * 5.0,
        "b": np.array([0.01, -3.0, 0.5]),
    }
    clipped, total = submission.rnn_numpy.clip_grad_norm(grads, 2.0)
    expected, expected_total = oracle.clip_grad_norm(grads, 2.0)
    for k, v in expected.items():
        check.numpy_close(clipped[k], v, name=f"clipped[{k!r}]")
    assert abs(float(total) - expected_total) <= 1e-9 * expected_total, "total_norm is wrong"
    flat = np.concatenate([np.ravel(clipped[k]) for k in grads])
    assert abs(np.linalg.norm(flat) - 2.0) < 1e-5, "the clipped gradients' global norm is not max_norm"


@pytest.mark.points(1)
def test_clip_grad_norm_many_shapes(submission, rng, oracle, check):
    """clip_grad_norm handles scalars-like, vectors, matrices and 3-d arrays together."""
    grads = {"a": rng.standard_normal(1), "B": rng.standard_normal((2, 3, 4)),
             "C": rng.standard_normal((5, 2)), "d": rng.standard_normal(7)}
    clipped, total = submission.rnn_numpy.clip_grad_norm(grads, 0.5)
    expected, expected_total = oracle.clip_grad_norm(grads, 0.5)
    for k, v in expected.items():
        check.numpy_close(clipped[k], v, name=f"clipped[{k!r}]")
    assert abs(float(total) - expected_total) <= 1e-9 * expected_total, "total_norm is wrong"
