"""Public tests for stacked.py: codes, greedy layer-wise pre-training, the classifier, few labels.

The expected values below were computed once, for small hand-made networks and inputs.
"""

import pytest
import torch

from autograder.testing import assert_close

SIZES = [64, 24, 12, 6]
FEW_LABEL_SIZES = [64, 32, 16]
#: the handout's hyperparameters (§2.4), passed by the grader rather than left to defaults
RECIPE = dict(pretrain_epochs=20, pretrain_lr=1.0, pretrain_batch_size=32, finetune_epochs=60,
              finetune_lr=0.5, finetune_batch_size=16)


def _tensors(values: dict) -> dict:
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in values.items()}


def stack_shapes(sizes):
    """The parameter shapes of StackedAutoencoder(sizes), as the docstring lists them."""
    shapes = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes |= {f"encoders.{k}.weight": (b, a), f"encoders.{k}.bias": (b,),
                   f"decoders.{k}.weight": (a, b), f"decoders.{k}.bias": (a,)}
    return shapes


def _stack(submission, oracle, rng, sizes=SIZES):
    """(the student's StackedAutoencoder with random weights, those weights)."""
    state = oracle.random_weights(stack_shapes(sizes), rng, 2.0)
    sae = submission.stacked.StackedAutoencoder(sizes)
    sae.load_state_dict(state)
    return sae, state


# Hand-made encoders of a stack [3, 2, 2, 1] (its decoders are zero), inputs, and the
# codes at depths 1, 2 and 3.
ENCODERS_3_2_2_1 = {
    "encoders.0.weight": [[1.0, -2.0, 0.5], [-1.5, 0.5, 2.0]], "encoders.0.bias": [0.5, -0.5],
    "encoders.1.weight": [[2.0, -3.0], [-1.0, 2.5]], "encoders.1.bias": [0.25, -0.75],
    "encoders.2.weight": [[3.0, -2.0]], "encoders.2.bias": [-0.5],
}
X_3_3 = [[0.0, 0.0, 0.0], [1.0, -1.0, 0.5], [-2.0, 1.5, 1.0]]
CODES = {
    1: [[0.6224594, 0.3775407], [0.9770226, 0.1824255], [0.01798621, 0.9947799]],
    2: [[0.5895963, 0.3944589], [0.8398038, 0.2190932], [0.06306976, 0.8479953]],
    3: [[0.6177174], [0.8293779], [0.1184928]],
}

# A hand-made DeepClassifier([3, 2, 2], 2) and its logits for X_3_3.
CLASSIFIER_3_2_2 = {
    "hidden.0.weight": [[1.0, -2.0, 0.5], [-1.5, 0.5, 2.0]], "hidden.0.bias": [0.5, -0.5],
    "hidden.1.weight": [[2.0, -3.0], [-1.0, 2.5]], "hidden.1.bias": [0.25, -0.75],
    "output.weight": [[3.0, -2.0], [-1.0, 4.0]], "output.bias": [-0.5, 0.25],
}
LOGITS = [[0.4798711, 1.238239], [1.581225, 0.2865689], [-2.006781, 3.578912]]


@pytest.mark.points(3)
def test_stacked_encode_depths(submission, oracle, rng):
    """StackedAutoencoder.encode(x, depth) returns the sigmoid code of the first `depth` encoders."""
    sae = submission.stacked.StackedAutoencoder([3, 2, 2, 1])
    state = {k: torch.zeros(shape) for k, shape in stack_shapes([3, 2, 2, 1]).items()}
    sae.load_state_dict(state | _tensors(ENCODERS_3_2_2_1))
    x = torch.tensor(X_3_3)
    with torch.no_grad():
        assert_close(sae.encode(x, 0), x, rtol=0, atol=0, name="encode(x, 0)")
        for depth, code in CODES.items():
            assert_close(sae.encode(x, depth), torch.tensor(code), rtol=1e-5, atol=1e-5,
                         name=f"encode(x, {depth}) of a hand-made stack [3, 2, 2, 1]")
        assert_close(sae.encode(x), torch.tensor(CODES[3]), rtol=1e-5, atol=1e-5,
                     name="encode(x) (depth None) of a hand-made stack [3, 2, 2, 1]")

    sae, _ = _stack(submission, oracle, rng)
    x = oracle.digits()[0][:20]
    with torch.no_grad():
        for depth in range(1, len(SIZES)):
            code = sae.encode(x, depth)
            assert tuple(code.shape) == (20, SIZES[depth]), (
                f"encode(x, {depth}) has shape {tuple(code.shape)}, expected (20, {SIZES[depth]})")
            assert bool(((code > 0) & (code < 1)).all()), (
                f"encode(x, {depth}) has entries outside (0, 1): every code is a sigmoid's output")


@pytest.mark.points(4)
def test_pretrain_layer_freezes_earlier_layers(submission, oracle, check, rng):
    """pretrain_layer(sae, 1, ...) trains layer 1 only: it learns to reconstruct the depth-1 codes, layer 0 stays fixed, layer 2 is untouched."""
    sae, before = _stack(submission, oracle, rng)
    X = oracle.digits()[0][:120]
    history = submission.stacked.pretrain_layer(sae, 1, X, 100, 10.0, 16, seed=0)
    assert isinstance(history, list) and len(history) == 100, "expected one loss per epoch"
    after = check.state_of(sae)
    check.same_keys_and_shapes(after, before, "the stack after pretrain_layer")
    # What training made of layer 1, by the grader's own forward pass, against the error of the
    # mean depth-1 code (the least of any reconstruction that ignores its input; PCA with one
    # component misses the bar too).
    error = oracle.layer_error(after, 1, X)
    mean_code = oracle.mean_error(oracle.stack_codes(before, X, 1))
    assert error < 0.56 * mean_code, (
        f"layer 1 reconstructs its depth-1 codes with {error / mean_code:.2f} of the mean code's "
        "error (need < 0.56): the stack's own encoders.1 and decoders.1 were not trained")
    assert_close(history[-1], error, rtol=1e-4, atol=1e-6,
                 name="history[-1] vs layer 1's reconstruction error on its depth-1 codes")
    for k in ("encoders.0.weight", "encoders.0.bias", "decoders.0.weight", "decoders.0.bias"):
        assert torch.equal(after[k], before[k]), f"{k} changed while pre-training layer 1"
    for k in ("encoders.2.weight", "decoders.2.weight"):
        assert torch.equal(after[k], before[k]), f"{k} changed while pre-training layer 1"
    for k in ("encoders.1.weight", "decoders.1.weight"):
        assert not torch.equal(after[k], before[k]), f"{k} did not change while pre-training layer 1"


@pytest.mark.points(2)
def test_deep_classifier_forward(submission):
    """DeepClassifier: sigmoid hidden layers and a linear output layer of logits (a small hand-made network)."""
    clf = submission.stacked.DeepClassifier([3, 2, 2], 2)
    clf.load_state_dict(_tensors(CLASSIFIER_3_2_2))
    with torch.no_grad():
        assert_close(clf(torch.tensor(X_3_3)), torch.tensor(LOGITS), rtol=1e-5, atol=1e-5,
                     name="DeepClassifier([3, 2, 2], 2)(x)")


@pytest.mark.points(4)
def test_classifier_from_encoders_copies_weights(submission, oracle, check, rng):
    """classifier_from_encoders starts every hidden layer from the matching pre-trained encoder."""
    sae, state = _stack(submission, oracle, rng)
    clf = submission.stacked.classifier_from_encoders(sae, 10, seed=3)
    actual = check.state_of(clf)
    for k in range(len(SIZES) - 1):
        for p in ("weight", "bias"):
            assert f"hidden.{k}.{p}" in actual, f"the classifier has no hidden.{k}.{p}"
            assert_close(actual[f"hidden.{k}.{p}"], state[f"encoders.{k}.{p}"],
                         rtol=0, atol=0, name=f"hidden.{k}.{p} vs encoders.{k}.{p}")
    # The output layer is the one of a DeepClassifier built right after torch.manual_seed(3).
    submission.stacked.torch.manual_seed(3)  # the global generator of the student's process
    fresh = check.state_of(submission.stacked.DeepClassifier(SIZES, 10))
    check.same_keys_and_shapes(actual, fresh, "the new classifier")
    for k in ("output.weight", "output.bias"):
        assert_close(actual[k], fresh[k], rtol=0, atol=0,
                     name=f"{k} vs a DeepClassifier's after torch.manual_seed(seed)")
    x = oracle.digits()[0][:10]
    logits = clf(x)
    assert tuple(logits.shape) == (10, 10), f"the classifier's logits have shape {tuple(logits.shape)}"


@pytest.mark.points(4)
def test_pretraining_uses_no_labels(submission, oracle, check):
    """pretrain_and_finetune: the pre-trained stack is the same whatever the labels are."""
    X, y, _, _ = oracle.digits()
    X_u, idx = X[:200], oracle.few_labels(y, 0.05, seed=0)
    kwargs = dict(pretrain_epochs=2, finetune_epochs=2, seed=0)
    run = submission.stacked.pretrain_and_finetune
    _, sae_a = run(X_u, X[idx], y[idx], [64, 16, 8], 10, **kwargs)
    _, sae_b = run(X_u, X[idx], y[idx].flip(0), [64, 16, 8], 10, **kwargs)
    _, sae_c = run(X_u, X[idx], (y[idx] + 3) % 10, [64, 16, 8], 10, **kwargs)
    a, b, c = check.state_of(sae_a), check.state_of(sae_b), check.state_of(sae_c)
    submission.stacked.torch.manual_seed(0)  # the global generator of the student's process
    init = check.state_of(submission.stacked.StackedAutoencoder([64, 16, 8]))
    check.same_keys_and_shapes(a, init, "the pre-trained stack")
    # First, that there is a pre-trained stack at all: pre-trained longer (100 epochs), every
    # layer reconstructs its codes, by the grader's own forward pass, with less than 0.65 of
    # the error of the mean code (the least of any reconstruction that ignores its input; PCA
    # with one component misses the bar too).
    trained = check.state_of(run(X_u, X[idx], y[idx], [64, 16, 8], 10, pretrain_epochs=100,
                                 pretrain_lr=1.0, pretrain_batch_size=32, finetune_epochs=2,
                                 seed=0)[1])
    for k in range(2):
        error = oracle.layer_error(trained, k, X_u)
        mean_code = oracle.mean_error(oracle.stack_codes(trained, X_u, k))
        assert error < 0.65 * mean_code, (
            f"after 100 epochs of pre-training, layer {k} of the returned stack reconstructs its "
            f"codes with {error / mean_code:.2f} of the mean code's error (need < 0.65): the "
            "stack was not pre-trained")
    for k in a:
        assert torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]), (
            f"the pre-trained {k} depends on the labels")


@pytest.mark.points(5)
def test_few_label_accuracy(submission, oracle, check):
    """Pre-trained on all digits, fine-tuned on 5% of the labels: held-out accuracy >= 0.82, which the same network from random weights does not reach."""
    X, y, X_test, y_test = oracle.digits()
    idx = oracle.few_labels(y, 0.05, seed=0)
    clf, _ = submission.stacked.pretrain_and_finetune(X, X[idx], y[idx], FEW_LABEL_SIZES, 10,
                                                      seed=0, **RECIPE)
    # The classifier's weights, run through the grader's own DeepClassifier([64, 32, 16], 10):
    # another model's weights (a linear classifier's, say) fail its names and shapes.
    logits = oracle.classifier_logits(check.state_of(clf), X_test, FEW_LABEL_SIZES, 10)
    accuracy = oracle.accuracy(logits, y_test)
    assert accuracy >= 0.82, f"held-out accuracy {accuracy:.3f} < 0.82"
