"""Public tests for stacked.py: codes, greedy layer-wise pre-training, the classifier, few labels."""

import pytest
import torch

from autograder.testing import assert_close

SIZES = [64, 24, 12, 6]


def _stack(submission, oracle, rng, sizes=SIZES):
    """(student's StackedAutoencoder, the oracle's), with the same random weights."""
    ref = oracle.Stack(sizes)
    oracle.load(ref, oracle.random_state(ref, rng, 2.0))
    sae = submission.stacked.StackedAutoencoder(sizes)
    sae.load_state_dict(oracle.state(ref))
    return sae, ref


@pytest.mark.points(3)
def test_stacked_encode_depths(submission, oracle, rng):
    """StackedAutoencoder.encode(x, depth) returns the sigmoid code of the first `depth` encoders."""
    sae, ref = _stack(submission, oracle, rng)
    x = oracle.digits()[0][:20]
    with torch.no_grad():
        for depth in range(len(SIZES)):
            assert_close(sae.encode(x, depth), ref.encode(x, depth), rtol=1e-5, atol=1e-6,
                         name=f"encode(x, {depth})")
        assert_close(sae.encode(x), ref.encode(x), rtol=1e-5, atol=1e-6, name="encode(x)")


@pytest.mark.points(4)
def test_pretrain_layer_freezes_earlier_layers(submission, oracle, check, rng):
    """pretrain_layer(sae, 1, ...) trains layer 1 only: layer 0 stays fixed, layer 2 is untouched."""
    sae, ref = _stack(submission, oracle, rng)
    before = oracle.state(ref)
    X = oracle.digits()[0][:120]
    history = submission.stacked.pretrain_layer(sae, 1, X, 2, 1.0, 32, seed=0)
    assert isinstance(history, list) and len(history) == 2, "expected one loss per epoch"
    after = check.state_of(sae)
    for k in ("encoders.0.weight", "encoders.0.bias", "decoders.0.weight", "decoders.0.bias"):
        assert torch.equal(after[k], before[k]), f"{k} changed while pre-training layer 1"
    for k in ("encoders.2.weight", "decoders.2.weight"):
        assert torch.equal(after[k], before[k]), f"{k} changed while pre-training layer 1"
    for k in ("encoders.1.weight", "decoders.1.weight"):
        assert not torch.equal(after[k], before[k]), f"{k} did not change while pre-training layer 1"


@pytest.mark.points(2)
def test_deep_classifier_forward(submission, oracle, rng):
    """DeepClassifier: sigmoid hidden layers and a linear output layer of logits."""
    ref = oracle.Classifier(SIZES, 10)
    oracle.load(ref, oracle.random_state(ref, rng, 2.0))
    clf = submission.stacked.DeepClassifier(SIZES, 10)
    clf.load_state_dict(oracle.state(ref))
    x = oracle.digits()[0][:15]
    with torch.no_grad():
        assert_close(clf(x), ref(x), rtol=1e-5, atol=1e-6, name="DeepClassifier(x)")


@pytest.mark.points(4)
def test_classifier_from_encoders_copies_weights(submission, oracle, check, rng):
    """classifier_from_encoders starts every hidden layer from the matching pre-trained encoder."""
    sae, ref = _stack(submission, oracle, rng)
    clf = submission.stacked.classifier_from_encoders(sae, 10, seed=3)
    state = check.state_of(clf)
    for k in range(len(SIZES) - 1):
        for p in ("weight", "bias"):
            assert f"hidden.{k}.{p}" in state, f"the classifier has no hidden.{k}.{p}"
            assert_close(state[f"hidden.{k}.{p}"], ref.state_dict()[f"encoders.{k}.{p}"],
                         rtol=0, atol=0, name=f"hidden.{k}.{p} vs encoders.{k}.{p}")
    x = oracle.digits()[0][:10]
    with torch.no_grad():
        assert_close(clf(x), oracle.classifier_from(ref, 10, seed=3)(x), rtol=1e-5, atol=1e-6,
                     name="the new classifier's logits")


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
    for k in a:
        assert torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]), (
            f"the pre-trained {k} depends on the labels")
    torch.manual_seed(0)
    init = oracle.Stack([64, 16, 8]).state_dict()
    assert not torch.equal(a["encoders.1.weight"], init["encoders.1.weight"]), (
        "the stack was not pre-trained")


@pytest.mark.points(5)
def test_few_label_accuracy(submission, oracle):
    """Pre-trained on all digits, fine-tuned on 5% of the labels: held-out accuracy >= 0.82."""
    X, y, X_test, y_test = oracle.digits()
    idx = oracle.few_labels(y, 0.05, seed=0)
    clf, _ = submission.stacked.pretrain_and_finetune(X, X[idx], y[idx], [64, 32, 16], 10, seed=0)
    accuracy = oracle.accuracy(clf(X_test), y_test)
    assert accuracy >= 0.82, f"held-out accuracy {accuracy:.3f} < 0.82"
