"""Public tests for cells.py: RNNCell, LSTMCell and GRUCell against torch's cells."""

import pytest
import torch


def _inputs(rng, N, D, H):
    """x (N, D), h (N, H), c (N, H): float64 tensors drawn from rng."""
    return tuple(torch.from_numpy(rng.standard_normal(shape)) for shape in ((N, D), (N, H), (N, H)))


def _probe_cell(kind, submission, rng, oracle, student):
    """(probe, expected): an autograd probe of the student's ``kind`` cell ("rnn" or "gru") on
    random x (3, 4), h (3, 5) and upstream gradient, and what it must return (torch's cell)."""
    N, D, H = 3, 4, 5
    w = oracle.weights(kind, D, H, rng)
    x, h, _ = _inputs(rng, N, D, H)
    dout = torch.from_numpy(rng.standard_normal((N, H)))
    probe = submission.autograd_probe(student.cell(kind, D, H, w), [x, h], dout, params=True)
    ref = oracle.cell(kind, D, H, w)
    xr, hr = x.clone().requires_grad_(), h.clone().requires_grad_()
    out = ref(xr, hr)
    out.backward(dout)
    return probe, {"output": out, "input_grads": [xr.grad, hr.grad], "param_grads": oracle.param_grads(ref)}


@pytest.mark.points(2)
def test_rnn_cell_matches_torch(submission, rng, oracle, check, student):
    """RNNCell's output and gradients match torch.nn.RNNCell with the same weights."""
    probe, expected = _probe_cell("rnn", submission, rng, oracle, student)
    del expected["param_grads"]["hh.bias"]  # an RNN cell's two biases get the same gradient
    check.probe_matches(probe, expected, name="RNNCell(x, h)")


@pytest.mark.points(2)
def test_lstm_cell_forward(rng, oracle, check, student):
    """LSTMCell(x, (h, c)) returns the (h', c') of torch.nn.LSTMCell (gates i, f, g, o)."""
    N, D, H = 3, 4, 5
    w = oracle.weights("lstm", D, H, rng)
    x, h, c = _inputs(rng, N, D, H)
    h_next, c_next = check.pair(student.cell("lstm", D, H, w)(x, (h, c)), "LSTMCell(x, (h, c))")
    h_ref, c_ref = oracle.cell("lstm", D, H, w)(x, (h, c))
    check.tensors_close(h_next, h_ref, name="h'")
    check.tensors_close(c_next, c_ref, name="c'")


@pytest.mark.points(1)
def test_lstm_cell_gradients(submission, rng, oracle, check, student):
    """LSTMCell's gradients (input and every weight) match torch.nn.LSTMCell."""
    N, D, H = 3, 4, 5
    w = oracle.weights("lstm", D, H, rng)
    x, h, c = _inputs(rng, N, D, H)
    dh, dc = (torch.from_numpy(rng.standard_normal((N, H))) for _ in range(2))
    probe = submission.autograd_probe(
        student.cell("lstm", D, H, w), [x, (h, c)], (dh, dc), params=True
    )
    ref = oracle.cell("lstm", D, H, w)
    xr = x.clone().requires_grad_()
    torch.autograd.backward(ref(xr, (h, c)), (dh, dc))
    check.probe_matches(probe, {"input_grads": [xr.grad], "param_grads": oracle.param_grads(ref)})


@pytest.mark.points(2)
def test_gru_cell_forward(rng, oracle, check, student):
    """GRUCell(x, h) returns the h' of torch.nn.GRUCell (gates r, z, n)."""
    N, D, H = 3, 4, 5
    w = oracle.weights("gru", D, H, rng)
    x, h, _ = _inputs(rng, N, D, H)
    h_next = student.cell("gru", D, H, w)(x, h)
    check.tensors_close(h_next, oracle.cell("gru", D, H, w)(x, h), name="GRUCell(x, h)")


@pytest.mark.points(2)
def test_gru_cell_gradients(submission, rng, oracle, check, student):
    """GRUCell's gradients (input, state and every weight) match torch.nn.GRUCell."""
    probe, expected = _probe_cell("gru", submission, rng, oracle, student)
    del expected["output"]  # test_gru_cell_forward checks it
    check.probe_matches(probe, expected)
