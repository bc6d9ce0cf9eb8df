"""Public tests for sequence.py: layers over sequences, the bidirectional wrapper, the long-range task."""

import pytest
import torch


def _sequence(rng, N, T, D):
    return torch.from_numpy(rng.standard_normal((N, T, D)))


@pytest.mark.points(2)
def test_lstm_layer_matches_torch(rng, oracle, check, student):
    """LSTMLayer returns the outputs and final (h, c) of torch.nn.LSTM(batch_first=True)."""
    N, T, D, H = 2, 7, 3, 4
    w = oracle.weights("lstm", D, H, rng)
    x = _sequence(rng, N, T, D)
    out, state = check.pair(student.layer("lstm", D, H, w)(x), "LSTMLayer(x)")
    h_T, c_T = check.pair(state, "the final state")
    out_ref, (h_ref, c_ref) = oracle.layer("lstm", D, H, w)(x)
    check.sequence_outputs(out, out_ref)
    check.tensors_close(h_T, h_ref[0], name="h_T")
    check.tensors_close(c_T, c_ref[0], name="c_T")


@pytest.mark.points(2)
def test_gru_layer_matches_torch(rng, oracle, check, student):
    """GRULayer returns the outputs and final h of torch.nn.GRU(batch_first=True)."""
    N, T, D, H = 2, 7, 3, 4
    w = oracle.weights("gru", D, H, rng)
    x = _sequence(rng, N, T, D)
    out, h_T = check.pair(student.layer("gru", D, H, w)(x), "GRULayer(x)")
    out_ref, h_ref = oracle.layer("gru", D, H, w)(x)
    check.sequence_outputs(out, out_ref)
    check.tensors_close(h_T, h_ref[0], name="h_T")


@pytest.mark.points(2)
def test_bidirectional_lstm_matches_torch(rng, oracle, check, student):
    """Bidirectional(LSTMLayer, LSTMLayer) matches torch.nn.LSTM(bidirectional=True), in time order."""
    N, T, D, H = 2, 6, 3, 4
    w, w_rev = oracle.weights("lstm", D, H, rng), oracle.weights("lstm", D, H, rng)
    x = _sequence(rng, N, T, D)
    out, states = check.pair(student.bidirectional("lstm", D, H, w, w_rev)(x), "Bidirectional(x)")
    out_ref, (h_ref, c_ref) = oracle.layer("lstm", D, H, w, w_rev)(x)
    check.sequence_outputs(out, out_ref, bidirectional=True)
    state_f, state_b = check.pair(states, "the final states")
    for k, (name, state) in enumerate((("forward", state_f), ("backward", state_b))):
        h, c = check.pair(state, f"the {name} layer's final state")
        check.tensors_close(h, h_ref[k], name=f"{name} h")
        check.tensors_close(c, c_ref[k], name=f"{name} c")


@pytest.mark.points(3)
def test_long_range_lstm_accuracy(submission, oracle):
    """train_long_range: the grader's LSTM classifier with your weights classifies at least 90%
    of new sequences of the task."""
    X, y = oracle.long_range_data(1024, seed=2024)
    model = submission.sequence.train_long_range(X, y, cell="lstm", seed=0)
    reference = oracle.classifier(model.state_dict())
    accuracy = reference.accuracy(*oracle.long_range_data(1000, seed=2025))
    assert accuracy >= oracle.long_range_bar, (
        f"the grader's LSTM classifier with your weights classifies {accuracy:.1%} of 1000 new "
        f"sequences right (at least {oracle.long_range_bar:.0%} needed)"
    )
