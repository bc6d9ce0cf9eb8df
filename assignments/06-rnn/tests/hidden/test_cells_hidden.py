"""Hidden tests for cells.py: parameter layout, default states, gate roles, other sizes."""

import numpy as np
import pytest
import torch


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_cell_parameter_layout(submission):
    """Each cell has exactly ih and hh nn.Linear layers with G * H outputs (G = 1, 4, 3)."""
    D, H = 3, 5
    for name, G in (("RNNCell", 1), ("LSTMCell", 4), ("GRUCell", 3)):
        state = getattr(submission.cells, name)(D, H).state_dict()
        expected = {"ih.weight": (G * H, D), "ih.bias": (G * H,),
                    "hh.weight": (G * H, H), "hh.bias": (G * H,)}
        assert sorted(state) == sorted(expected), f"{name}'s parameters are {sorted(state)}"
        for k, shape in expected.items():
            assert tuple(state[k].shape) == shape, (
                f"{name}: {k} has shape {tuple(state[k].shape)}, expected {shape}"
            )


@pytest.mark.points(2)
def test_cells_default_state_is_zero(rng, oracle, check, student):
    """A missing state (None) means zeros, for the RNN, LSTM and GRU cells."""
    N, D, H = 2, 3, 4
    x = _t(rng, N, D)
    zeros = torch.zeros(N, H, dtype=torch.float64)
    for kind in ("rnn", "gru"):
        w = oracle.weights(kind, D, H, rng)
        check.tensors_close(student.cell(kind, D, H, w)(x), oracle.cell(kind, D, H, w)(x, zeros),
                            name=f"{kind} cell(x)")
    w = oracle.weights("lstm", D, H, rng)
    h_next, c_next = check.pair(student.cell("lstm", D, H, w)(x), "LSTMCell(x)")
    h_ref, c_ref = oracle.cell("lstm", D, H, w)(x, (zeros, zeros))
    check.tensors_close(h_next, h_ref, name="h'")
    check.tensors_close(c_next, c_ref, name="c'")


@pytest.mark.points(2)
def test_lstm_cell_gate_roles(rng, oracle, check, student):
    """LSTMCell: the forget gate (2nd block) scales the old cell state, the input gate (1st) the candidate."""
    N, D, H = 4, 3, 5
    x, h = _t(rng, N, D), _t(rng, N, H)
    c = 3.0 * _t(rng, N, H)
    for f_bias, i_bias in ((6.0, -6.0), (-6.0, 6.0), (0.0, 2.0)):
        w = oracle.weights("lstm", D, H, rng)
        w["bias_ih"][H : 2 * H] += f_bias
        w["bias_ih"][0:H] += i_bias
        h_next, c_next = check.pair(student.cell("lstm", D, H, w)(x, (h, c)), "LSTMCell(x, (h, c))")
        h_ref, c_ref = oracle.cell("lstm", D, H, w)(x, (h, c))
        check.tensors_close(c_next, c_ref, name=f"c' (forget bias {f_bias:+}, input bias {i_bias:+})")
        check.tensors_close(h_next, h_ref, name=f"h' (forget bias {f_bias:+}, input bias {i_bias:+})")


@pytest.mark.points(2)
def test_lstm_cell_other_sizes(submission, rng, oracle, check, student):
    """LSTMCell with one example and D > H: outputs and all gradients match torch.nn.LSTMCell."""
    N, D, H = 1, 7, 2
    w = oracle.weights("lstm", D, H, rng, scale=1.0)
    x, h, c = _t(rng, N, D), _t(rng, N, H), _t(rng, N, H)
    dh, dc = _t(rng, N, H), _t(rng, N, H)
    probe = submission.autograd_probe(student.cell("lstm", D, H, w), [x, (h, c)], (dh, dc), params=True)
    ref = oracle.cell("lstm", D, H, w)
    xr = x.clone().requires_grad_()
    out = ref(xr, (h, c))
    torch.autograd.backward(out, (dh, dc))
    h_next, c_next = check.pair(probe["output"], "LSTMCell(x, (h, c))")
    check.tensors_close(h_next, out[0], name="h'")
    check.tensors_close(c_next, out[1], name="c'")
    check.probe_matches(probe, {"input_grads": [xr.grad], "param_grads": oracle.param_grads(ref)})


@pytest.mark.points(2)
def test_gru_cell_update_gate_direction(rng, oracle, check, student):
    """GRUCell: z close to 1 keeps the old state, z close to 0 takes the candidate n, as in torch."""
    N, D, H = 3, 4, 5
    x, h = _t(rng, N, D), _t(rng, N, H)
    for z_bias in (8.0, -8.0, 0.0):
        w = oracle.weights("gru", D, H, rng)
        w["bias_ih"][H : 2 * H] += z_bias
        h_next = student.cell("gru", D, H, w)(x, h)
        check.tensors_close(h_next, oracle.cell("gru", D, H, w)(x, h), name=f"h' (update bias {z_bias:+})")
    w = oracle.weights("gru", D, H, rng)
    w["bias_ih"][H : 2 * H] += 30.0
    h_next = student.cell("gru", D, H, w)(x, h)
    assert np.allclose(h_next.numpy(), h.numpy(), atol=1e-9), "with z = 1 the GRU must keep its state"


@pytest.mark.points(2)
def test_gru_cell_reset_gate_and_sizes(submission, rng, oracle, check, student):
    """GRUCell: r multiplies (h @ W_hn.T + b_hn); one example, D > H, all gradients match torch."""
    N, D, H = 1, 6, 3
    w = oracle.weights("gru", D, H, rng, scale=1.0)
    w["bias_hh"][2 * H :] += 2.0  # a large b_hn shows where the reset gate is applied
    x, h, dout = _t(rng, N, D), _t(rng, N, H), _t(rng, N, H)
    probe = submission.autograd_probe(student.cell("gru", D, H, w), [x, h], dout, params=True)
    ref = oracle.cell("gru", D, H, w)
    xr, hr = x.clone().requires_grad_(), h.clone().requires_grad_()
    out = ref(xr, hr)
    out.backward(dout)
    expected = {"output": out, "input_grads": [xr.grad, hr.grad], "param_grads": oracle.param_grads(ref)}
    check.probe_matches(probe, expected, name="GRUCell(x, h)")


@pytest.mark.points(2)
def test_rnn_cell_other_sizes(rng, oracle, check, student):
    """RNNCell with one example and D > H, and with a saturating input, matches torch.nn.RNNCell."""
    for N, D, H, scale in ((1, 6, 2, 1.0), (5, 2, 3, 4.0)):
        w = oracle.weights("rnn", D, H, rng, scale=scale)
        x, h = _t(rng, N, D), _t(rng, N, H)
        check.tensors_close(student.cell("rnn", D, H, w)(x, h), oracle.cell("rnn", D, H, w)(x, h),
                            name=f"RNNCell(x, h) with N={N}, D={D}, H={H}")
