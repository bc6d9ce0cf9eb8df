"""Hidden tests for stacked.py: the stack's decoder, exact greedy pre-training, fine-tuning,
the whole recipe, and what pre-training buys with few labels."""

import pytest
import torch

from autograder.testing import assert_close

SIZES = [64, 20, 10, 5]
FEW_LABEL_SIZES = [64, 32, 16]
#: the handout's hyperparameters (§2.4), passed by the grader rather than left to defaults
RECIPE = dict(pretrain_epochs=20, pretrain_lr=1.0, pretrain_batch_size=32, finetune_epochs=60,
              finetune_lr=0.5, finetune_batch_size=16)


def _stack(submission, oracle, rng, sizes=SIZES, scale=2.0):
    ref = oracle.Stack(sizes)
    oracle.load(ref, oracle.random_state(ref, rng, scale))
    sae = submission.stacked.StackedAutoencoder(sizes)
    sae.load_state_dict(oracle.state(ref))
    return sae, ref


@pytest.mark.points(2)
def test_initialization_order(submission, oracle, check, seed):
    """StackedAutoencoder and DeepClassifier create their layers in the documented order."""
    worker_torch = submission.stacked.torch  # seeds the RNG of the worker, where the model is built
    torch.manual_seed(seed)
    expected = oracle.state(oracle.Stack(SIZES))
    worker_torch.manual_seed(seed)
    check.same_state(check.state_of(submission.stacked.StackedAutoencoder(SIZES)), expected,
                     "StackedAutoencoder after torch.manual_seed(seed)", rtol=0, atol=0)
    torch.manual_seed(seed + 1)
    expected = oracle.state(oracle.Classifier(SIZES, 4))
    worker_torch.manual_seed(seed + 1)
    check.same_state(check.state_of(submission.stacked.DeepClassifier(SIZES, 4)), expected,
                     "DeepClassifier after torch.manual_seed(seed + 1)", rtol=0, atol=0)


@pytest.mark.points(3)
def test_stacked_decode_mirrors_encoder(submission, oracle, rng):
    """decode and forward mirror the encoder: sigmoid layers, then a linear output (also for one layer)."""
    x = oracle.digits()[0][:12]
    for sizes in (SIZES, [64, 7]):
        sae, ref = _stack(submission, oracle, rng, sizes)
        z = torch.tensor(rng.standard_normal((12, sizes[-1])), dtype=torch.float32)
        with torch.no_grad():
            assert_close(sae.decode(z), ref.decode(z), rtol=1e-5, atol=1e-6,
                         name=f"decode(z) for sizes {sizes}")
            assert_close(sae(x), ref(x), rtol=1e-5, atol=1e-6, name=f"forward(x) for sizes {sizes}")


@pytest.mark.points(2)
def test_layer_autoencoder(submission, oracle, rng):
    """layer_autoencoder(k): linear reconstruction for k = 0, sigmoid reconstruction for deeper layers."""
    sae, ref = _stack(submission, oracle, rng)
    for k in range(len(SIZES) - 1):
        c = torch.as_tensor(rng.random((9, SIZES[k])), dtype=torch.float32)
        with torch.no_grad():
            assert_close(sae.layer_autoencoder(k)(c), oracle.LayerAE(ref, k)(c), rtol=1e-5,
                         atol=1e-6, name=f"layer_autoencoder({k})(codes)")


@pytest.mark.points(5)
def test_pretrain_layer_matches_reference(submission, oracle, check, rng):
    """pretrain_layer trains layer k's autoencoder on the depth-k codes, exactly as documented."""
    X = oracle.digits()[0][:90]
    for k in (0, 2):
        sae, ref = _stack(submission, oracle, rng)
        history = submission.stacked.pretrain_layer(sae, k, X, 2, 0.5, 32, seed=k + 1)
        expected = oracle.pretrain_layer(ref, k, X, 2, 0.5, 32, seed=k + 1)
        check.same_history(history, expected, f"pretrain_layer(sae, {k}, ...)")
        check.same_state(check.state_of(sae), oracle.state(ref), f"the stack after pretrain_layer {k}")


@pytest.mark.points(5)
def test_greedy_pretrain_matches_reference(submission, oracle, check, rng):
    """greedy_pretrain trains the layers one by one, bottom up, with seed + k for layer k."""
    X = oracle.digits()[0][:80]
    sae, ref = _stack(submission, oracle, rng, scale=1.0)
    histories = submission.stacked.greedy_pretrain(sae, X, 2, 0.5, 20, seed=3)
    expected = oracle.greedy_pretrain(ref, X, 2, 0.5, 20, seed=3)
    assert isinstance(histories, list) and len(histories) == len(expected), (
        "greedy_pretrain must return one history per layer")
    for k, (h, e) in enumerate(zip(histories, expected, strict=True)):
        check.same_history(h, e, f"layer {k}")
    check.same_state(check.state_of(sae), oracle.state(ref), "the stack after greedy_pretrain")


@pytest.mark.points(3)
def test_greedy_pretrain_keeps_lower_layers_fixed(submission, oracle, check, rng):
    """greedy_pretrain trains every layer, and afterwards layer 0 is exactly what training layer 0 alone made of it."""
    X = oracle.digits()[0][:80]
    ref = oracle.Stack(SIZES)
    state = oracle.random_state(ref, rng, 1.0)
    greedy = submission.stacked.StackedAutoencoder(SIZES)
    greedy.load_state_dict(state)
    submission.stacked.greedy_pretrain(greedy, X, 100, 1.0, 20, seed=0)
    g = check.state_of(greedy)
    check.same_keys_and_shapes(g, state, "the stack after greedy_pretrain")
    # First, that every layer was trained: by the grader's own forward pass, each layer
    # reconstructs its codes with less error than their mean code (the least of any
    # reconstruction that ignores its input), by a margin; layer 0, with less than 0.65 of
    # it, which one principal component of the digits misses too.
    for k in range(len(SIZES) - 1):
        error = oracle.layer_error(g, k, X)
        mean_code = oracle.mean_error(oracle.stack_codes(g, X, k))
        bar = 0.65 if k == 0 else 0.95
        assert error < bar * mean_code, (
            f"after greedy_pretrain, layer {k} reconstructs its codes with {error / mean_code:.2f} "
            f"of their mean code's error (need < {bar}): it was not trained")
    alone = submission.stacked.StackedAutoencoder(SIZES)
    alone.load_state_dict(state)
    submission.stacked.pretrain_layer(alone, 0, X, 100, 1.0, 20, seed=0)
    a = check.state_of(alone)
    for key in ("encoders.0.weight", "encoders.0.bias", "decoders.0.weight", "decoders.0.bias"):
        assert torch.equal(a[key], g[key]), f"{key} changed after layer 0 was pre-trained"


@pytest.mark.points(3)
def test_classifier_holds_copies(submission, oracle, check, rng):
    """classifier_from_encoders copies the encoders: fine-tuning leaves the stack as it was."""
    sae, ref = _stack(submission, oracle, rng, [64, 12, 6])
    clf = submission.stacked.classifier_from_encoders(sae, 10, seed=7)
    expected = oracle.classifier_from(ref, 10, seed=7)
    check.same_state(check.state_of(clf), oracle.state(expected), "the new classifier",
                     rtol=0, atol=0)
    X, y, _, _ = oracle.digits()
    submission.stacked.fine_tune(clf, X[:40], y[:40], 2, 0.5, 16, seed=0)
    check.same_state(check.state_of(sae), oracle.state(ref), "the stack after fine-tuning",
                     rtol=0, atol=0)


@pytest.mark.points(4)
def test_fine_tune_matches_reference(submission, oracle, check, rng):
    """fine_tune trains every layer of the classifier on cross-entropy, exactly as documented."""
    ref = oracle.Classifier([64, 16, 8], 10)
    oracle.load(ref, oracle.random_state(ref, rng, 1.0))
    clf = submission.stacked.DeepClassifier([64, 16, 8], 10)
    clf.load_state_dict(oracle.state(ref))
    X, y, _, _ = oracle.digits()
    history = submission.stacked.fine_tune(clf, X[:70], y[:70], 3, 0.5, 16, momentum=0.8, seed=4)
    expected = oracle.fine_tune(ref, X[:70], y[:70], 3, 0.5, 16, momentum=0.8, seed=4)
    check.same_history(history, expected, "fine_tune")
    check.same_state(check.state_of(clf), oracle.state(ref), "the classifier after fine_tune")


@pytest.mark.points(5)
def test_pipeline_matches_reference(submission, oracle, check):
    """pretrain_and_finetune: greedy pre-training on the unlabelled data, then fine-tuning from it."""
    X, y, _, _ = oracle.digits()
    idx = oracle.few_labels(y, 0.05, seed=1)
    kwargs = dict(pretrain_epochs=2, finetune_epochs=3, seed=2)
    clf, sae = submission.stacked.pretrain_and_finetune(X[:150], X[idx], y[idx], [64, 16, 8], 10,
                                                        **kwargs)
    ref_clf, ref_sae = oracle.pretrain_and_finetune(X[:150], X[idx], y[idx], [64, 16, 8], 10,
                                                    **kwargs)
    check.same_state(check.state_of(sae), oracle.state(ref_sae), "the pre-trained stack")
    check.same_state(check.state_of(clf), oracle.state(ref_clf), "the fine-tuned classifier")


@pytest.mark.points(2)
def test_pipeline_random_init_baseline(submission, oracle, check):
    """pretrain_and_finetune(pretrain=False) fine-tunes the same network from random weights."""
    X, y, _, _ = oracle.digits()
    idx = oracle.few_labels(y, 0.05, seed=1)
    kwargs = dict(pretrain=False, finetune_epochs=3, seed=4)
    clf, sae = submission.stacked.pretrain_and_finetune(X[:150], X[idx], y[idx], [64, 16, 8], 10,
                                                        **kwargs)
    assert sae is None, "without pre-training, the second result must be None"
    ref_clf, _ = oracle.pretrain_and_finetune(X[:150], X[idx], y[idx], [64, 16, 8], 10, **kwargs)
    check.same_state(check.state_of(clf), oracle.state(ref_clf), "the fine-tuned classifier")


@pytest.mark.points(5)
def test_pretraining_beats_random_init(submission, oracle, check):
    """With 5% of the labels, pre-training beats random initialization by at least 4 points."""
    X, y, X_test, y_test = oracle.digits()
    idx = oracle.few_labels(y, 0.05, seed=0)
    pre, _ = submission.stacked.pretrain_and_finetune(X, X[idx], y[idx], FEW_LABEL_SIZES, 10,
                                                      pretrain=True, seed=1, **RECIPE)
    # The baseline is the grader's own: the same network fine-tuned from random weights with
    # the same seed and labels. The classifier's weights run through the grader's own
    # DeepClassifier([64, 32, 16], 10), which rejects another model's names and shapes.
    rand, _ = oracle.pretrain_and_finetune(X, X[idx], y[idx], FEW_LABEL_SIZES, 10,
                                           pretrain=False, seed=1, **RECIPE)
    acc_pre = oracle.accuracy(
        oracle.classifier_logits(check.state_of(pre), X_test, FEW_LABEL_SIZES, 10), y_test)
    acc_rand = oracle.accuracy(
        oracle.classifier_logits(oracle.state(rand), X_test, FEW_LABEL_SIZES, 10), y_test)
    assert acc_pre >= 0.82, "the pre-trained network's held-out accuracy is too low"
    assert acc_pre >= acc_rand + 0.04, "pre-training should beat random initialization clearly"
