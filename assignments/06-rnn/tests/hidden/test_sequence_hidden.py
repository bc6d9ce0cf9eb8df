"""Hidden tests for sequence.py: carried states, BPTT gradients, bidirectional time order, held-out accuracy."""

import pytest
import torch
import torch.nn.functional as F


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


def _layer_grads(oracle, ref):
    """The student's layer's parameter names -> their gradients in the torch layer ``ref``."""
    return oracle.param_grads(ref, prefix="cell.", suffix="_l0")


@pytest.mark.points(2)
def test_lstm_layer_initial_state_and_chunks(rng, oracle, check, student):
    """LSTMLayer starts from a given (h0, c0), and two chunks with the carried state equal one pass."""
    N, T, D, H = 3, 9, 2, 4
    w = oracle.weights("lstm", D, H, rng)
    x, h0, c0 = _t(rng, N, T, D), _t(rng, N, H), _t(rng, N, H)
    layer = student.layer("lstm", D, H, w)
    ref = oracle.layer("lstm", D, H, w)
    out, state = check.pair(layer(x, (h0, c0)), "LSTMLayer(x, (h0, c0))")
    out_ref, (h_ref, c_ref) = ref(x, (h0[None], c0[None]))
    check.sequence_outputs(out, out_ref)
    h_T, c_T = check.pair(state, "the final state")
    check.tensors_close(h_T, h_ref[0], name="h_T")
    check.tensors_close(c_T, c_ref[0], name="c_T")
    out1, state1 = check.pair(layer(x[:, :4], (h0, c0)), "LSTMLayer(x[:, :4], (h0, c0))")
    out2, state2 = check.pair(layer(x[:, 4:], tuple(state1)), "LSTMLayer(x[:, 4:], state)")
    check.tensors_close(torch.cat([out1, out2], dim=1), out_ref, name="out of the two chunks")
    check.tensors_close(check.pair(state2, "state")[1], c_ref[0], name="c_T after the two chunks")


@pytest.mark.points(2)
def test_lstm_layer_gradients_through_time(submission, rng, oracle, check, student):
    """Gradients of an LSTMLayer over 8 steps (input and every weight) match torch.nn.LSTM."""
    N, T, D, H = 2, 8, 3, 4
    w = oracle.weights("lstm", D, H, rng)
    x, dout = _t(rng, N, T, D), _t(rng, N, T, H)
    probe = submission.autograd_probe(student.layer("lstm", D, H, w), [x], (dout, None), params=True)
    ref = oracle.layer("lstm", D, H, w)
    xr = x.clone().requires_grad_()
    ref(xr)[0].backward(dout)
    check.probe_matches(probe, {"input_grads": [xr.grad], "param_grads": _layer_grads(oracle, ref)})


def _check_layer_from_h0(kind, sizes, submission, rng, oracle, check, student):
    """The ``kind`` ("rnn" or "gru") layer from a random h0, sizes (N, T, D, H), against torch's:
    outputs, final state, and the gradients of x and every weight (the final state's ignored)."""
    N, T, D, H = sizes
    w = oracle.weights(kind, D, H, rng)
    x, h0, dout = _t(rng, N, T, D), _t(rng, N, H), _t(rng, N, T, H)
    probe = submission.autograd_probe(
        student.layer(kind, D, H, w), [x, h0], (dout, torch.zeros(N, H, dtype=torch.float64)), params=True
    )
    ref = oracle.layer(kind, D, H, w)
    xr = x.clone().requires_grad_()
    out_ref, h_ref = ref(xr, h0[None])
    out_ref.backward(dout)
    out, h_T = check.pair(probe["output"], f"{kind.upper()}Layer(x, h0)")
    check.sequence_outputs(out, out_ref)
    check.tensors_close(h_T, h_ref[0], name="h_T")
    check.probe_matches(probe, {"input_grads": [xr.grad], "param_grads": _layer_grads(oracle, ref)})


@pytest.mark.points(2)
def test_rnn_layer_matches_torch(submission, rng, oracle, check, student):
    """RNNLayer from a given h0 matches torch.nn.RNN: outputs, final state and weight gradients."""
    _check_layer_from_h0("rnn", (2, 10, 3, 5), submission, rng, oracle, check, student)


@pytest.mark.points(2)
def test_gru_layer_initial_state_and_gradients(submission, rng, oracle, check, student):
    """GRULayer from a given h0 matches torch.nn.GRU: outputs, final state and weight gradients."""
    _check_layer_from_h0("gru", (3, 7, 2, 4), submission, rng, oracle, check, student)


@pytest.mark.points(1)
def test_bidirectional_gru_time_order(submission, rng, oracle, check, student):
    """Bidirectional(GRULayer, GRULayer) matches torch.nn.GRU(bidirectional=True): outputs, states, gradients."""
    N, T, D, H = 2, 5, 3, 4
    w, w_rev = oracle.weights("gru", D, H, rng), oracle.weights("gru", D, H, rng)
    x, dout = _t(rng, N, T, D), _t(rng, N, T, 2 * H)
    module = student.bidirectional("gru", D, H, w, w_rev)
    probe = submission.autograd_probe(module, [x], (dout, None))
    xr = x.clone().requires_grad_()
    out_ref, h_ref = oracle.layer("gru", D, H, w, w_rev)(xr)
    out_ref.backward(dout)
    out, states = check.pair(probe["output"], "Bidirectional(x)")
    check.sequence_outputs(out, out_ref, bidirectional=True)
    h_f, h_b = check.pair(states, "the final states")
    check.tensors_close(h_f, h_ref[0], name="forward h")
    check.tensors_close(h_b, h_ref[1], name="backward h")
    check.tensors_close(probe["input_grads"][0], xr.grad, name="dx")


@pytest.mark.points(1)
def test_sequence_classifier_forward(submission, rng, oracle, check, student):
    """SequenceClassifier: one-hot tokens, an LSTM, and a linear head on the LAST hidden state."""
    V, H, C, N, T = 5, 4, 3, 3, 6
    w = oracle.weights("lstm", V, H, rng)
    head_w, head_b = _t(rng, C, H), _t(rng, C)
    tokens = torch.from_numpy(rng.integers(0, V, size=(N, T)))
    model = submission.sequence.SequenceClassifier(V, H, C, cell="lstm")
    model.double()
    state = student.cell_state(w, "rnn.cell.")
    state.update({"head.weight": head_w, "head.bias": head_b})
    model.load_state_dict(state)
    out, _ = oracle.layer("lstm", V, H, w)(F.one_hot(tokens, V).double())
    expected = out[:, -1] @ head_w.T + head_b
    check.tensors_close(model(tokens), expected, name="SequenceClassifier(tokens)")
    pred = model.predict(tokens)
    assert torch.equal(pred, expected.argmax(dim=1)), "predict is not the argmax of the scores"


@pytest.mark.points(4)
def test_long_range_lstm_heldout(submission, oracle):
    """train_long_range: the grader's LSTM classifier with your weights classifies at least 90%
    of held-out sequences of the task."""
    X, y = oracle.long_range_data(1024, seed=606)
    model = submission.sequence.train_long_range(X, y, cell="lstm", seed=3)
    reference = oracle.classifier(model.state_dict())
    accuracy = reference.accuracy(*oracle.long_range_data(2000, seed=607))
    assert accuracy >= oracle.long_range_bar, (
        f"the grader's LSTM classifier with your weights classifies {accuracy:.1%} of 2000 "
        f"held-out sequences right (at least {oracle.long_range_bar:.0%} needed)"
    )
