"""The obvious shortcuts against 04-autoencoders' bars, on the graders' own data and seeds (issue 23).

04's tests judge the returned weights by the graders' own forward passes, against these bars:

- ``test_few_label_accuracy`` (public, 0.82) and ``test_pretraining_beats_random_init`` (hidden,
  0.82 and 3 points above random initialization): a classifier pre-trained on every training
  digit, fine-tuned on the 70 labelled ones (5%). The same network fine-tuned from random
  weights (the graders' own reference loop, ``pretrain=False``) stays below the bar, if only
  just (0.75-0.81). A plain
  linear model on the same 70 labels, however, clears it (a finding: the bar asks for the
  pre-trained network to do what logistic regression does without it).
- ``test_train_autoencoder_loss_falls`` (public): the trained AANN reconstructs 300 digits with
  less than 0.9 of the mean digit's error. The mean digit misses it by definition; PCA with one
  component clears it (a finding).
- ``test_denoising_history_on_clean_data`` (hidden, below 0.6 of the random start's error) and
  the layer-wise bars of ``test_pretrain_layer_freezes_earlier_layers`` (public, below 0.5 of
  the random start's): a random start reconstructs far worse than the mean of what it should
  reconstruct, so the mean digit, or a decoder that outputs the mean code, clears these bars
  (findings).

Where a shortcut clears a bar, a strict expected failure states the property the bar should
have; it turns into a failure when the task is changed, so that the marker goes. The linear
autoencoder's subspace tests are not listed: PCA's subspace is what they ask for.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import numpy as np
import pytest
import torch

from autograder.config import load_course
from autograder.plugin import test_seed as seed_of_test
from tests.conftest import REPO

AUTOENCODERS = load_course(REPO).assignment("04-autoencoders")
FEW_LABEL_BAR = 0.82
LOSS_FALLS_BAR = 0.9  # of the mean digit's error
DENOISING_BAR = 0.6  # of the random start's error
LAYER_BAR = 0.5  # of the random start's error
DENOISING_TEST = "hidden/test_aann_hidden.py::test_denoising_history_on_clean_data"
LAYER_TEST = "public/test_stacked.py::test_pretrain_layer_freezes_earlier_layers"
#: the seed without a secret (the public one's own), and others standing for the secret's draws
DENOISING_SEEDS = (seed_of_test(DENOISING_TEST), *range(4))
LAYER_SEEDS = (seed_of_test(LAYER_TEST), *range(4))
LAYER_SIZES = [64, 24, 12, 6]


def _load(path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def graders_oracle():
    """04's hidden ``Oracle``: the public one's data and forward passes, with the reference
    networks and training loops."""
    tests = AUTOENCODERS.root / "tests"
    public = _load(tests / "conftest.py", "graders_conftest_04")
    hidden = _load(tests / "hidden" / "conftest.py", "graders_hidden_conftest_04")
    return hidden.Oracle(public.Oracle())


@pytest.fixture(scope="module")
def oracle():
    return graders_oracle()


# ---------------------------------------------------------------- the few-label classifier
def few_labels(oracle):
    """(X_labelled (70, 64), y_labelled, X_test (450, 64), y_test), as both accuracy tests pick them."""
    X, y, X_test, y_test = oracle.digits()
    idx = oracle.few_labels(y, 0.05, seed=0)
    return X[idx], y[idx], X_test, y_test


def logistic_regression_accuracy(oracle) -> float:
    """Held-out accuracy of logistic regression on the 70 labelled digits (best C, tuned on the
    held-out digits themselves)."""
    from sklearn.linear_model import LogisticRegression

    X_l, y_l, X_test, y_test = (t.numpy() for t in few_labels(oracle))
    return max(LogisticRegression(C=C, max_iter=2000).fit(X_l, y_l).score(X_test, y_test)
               for C in (0.1, 1.0, 10.0, 100.0))


def pipeline_accuracy(oracle, pretrain: bool, seed: int) -> float:
    """Held-out accuracy of the graders' reference pretrain_and_finetune ([64, 32, 16], the
    documented defaults), judged by the graders' DeepClassifier; about 2 s without pre-training,
    12 s with it."""
    X = oracle.digits()[0]
    X_l, y_l, X_test, y_test = few_labels(oracle)
    clf, _ = oracle.pretrain_and_finetune(X, X_l, y_l, [64, 32, 16], 10, pretrain=pretrain,
                                          seed=seed)
    return oracle.accuracy(oracle.classifier_logits(oracle.state(clf), X_test), y_test)


def test_the_bars_are_the_tests_own():
    tests = AUTOENCODERS.root / "tests"
    stacked = (tests / "public" / "test_stacked.py").read_text(encoding="utf-8")
    assert f"assert accuracy >= {FEW_LABEL_BAR}" in stacked
    assert "idx = oracle.few_labels(y, 0.05, seed=0)" in stacked
    assert f"assert error < {LAYER_BAR} * untrained" in stacked
    hidden = (tests / "hidden" / "test_stacked_hidden.py").read_text(encoding="utf-8")
    assert f"assert acc_pre >= {FEW_LABEL_BAR}" in hidden
    aann = (tests / "public" / "test_aann.py").read_text(encoding="utf-8")
    assert f"assert final < {LOSS_FALLS_BAR} * mean_only" in aann
    hidden_aann = (tests / "hidden" / "test_aann_hidden.py").read_text(encoding="utf-8")
    assert f"assert final < {DENOISING_BAR} * untrained" in hidden_aann


def test_random_initialization_stays_below_the_few_label_bar(oracle):
    """Below it, but not far: 0.81 on seeds 0 and 2 (the margin is the hidden test's own
    comparison, 3 points above random initialization with seed 1)."""
    for seed in (0, 1, 2):  # the public test's seed, the hidden comparison's, another
        assert pipeline_accuracy(oracle, pretrain=False, seed=seed) < FEW_LABEL_BAR


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="finding (issue 23): logistic regression on the same 70 "
                   "labels reaches 0.86-0.90 on the held-out digits (bar 0.82)")
def test_logistic_regression_misses_the_few_label_bar(oracle):
    assert logistic_regression_accuracy(oracle) < FEW_LABEL_BAR


# ---------------------------------------------------------------- reconstruction bars
def pca_error_ratio(oracle, components: int) -> float:
    """The reconstruction error of PCA with ``components`` on the loss-falls test's 300 digits,
    as a fraction of the mean digit's (the test's bar: below 0.9)."""
    from sklearn.decomposition import PCA

    X = oracle.digits()[0][:300].numpy().astype(np.float64)
    pca = PCA(components).fit(X)
    error = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    return float(error / np.mean((X - X.mean(0)) ** 2))


def mean_image_ratio_to_random_start(oracle, seed: int) -> float:
    """The mean digit's error on the denoising test's 64 digits, as a fraction of its random
    start's (the AANN (64, 16, 4) that the test draws first from its rng; the bar: below 0.6)."""
    X = oracle.digits()[0][:64]
    start = oracle.AANN(64, 16, 4)
    oracle.load(start, oracle.random_state(start, np.random.default_rng(seed), 1.0))
    return float(torch.mean((X - X.mean(0)) ** 2)) / oracle.reconstruction_loss(start, X)


def mean_code_ratio_to_random_start(oracle, seed: int) -> float:
    """Layer 1's error when its decoder outputs the mean depth-1 code (zero weights, the code's
    logit as bias), as a fraction of its random start's, on the pretrain_layer test's stack and
    120 digits (the bar: below 0.5)."""
    shapes = {}
    for k, (a, b) in enumerate(zip(LAYER_SIZES[:-1], LAYER_SIZES[1:], strict=True)):
        shapes |= {f"encoders.{k}.weight": (b, a), f"encoders.{k}.bias": (b,),
                   f"decoders.{k}.weight": (a, b), f"decoders.{k}.bias": (a,)}
    start = oracle.random_weights(shapes, np.random.default_rng(seed), 2.0)
    X = oracle.digits()[0][:120]
    mean = oracle.stack_codes(start, X, 1).mean(0).clamp(1e-4, 1 - 1e-4)
    constant = start | {"decoders.1.weight": torch.zeros(LAYER_SIZES[1], LAYER_SIZES[2]),
                        "decoders.1.bias": torch.log(mean / (1 - mean))}
    return oracle.layer_error(constant, 1, X) / oracle.layer_error(start, 1, X)


def test_principal_components_against_the_loss_falls_bar(oracle):
    """The more components, the lower the error: 8 (the AANN's code size) clear the bar far."""
    ratios = [pca_error_ratio(oracle, k) for k in (1, 2, 8)]
    assert ratios == sorted(ratios, reverse=True) and ratios[-1] < LOSS_FALLS_BAR / 2


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="finding (issue 23): PCA with one component leaves 0.84 "
                   "of the mean digit's error (bar 0.9)")
def test_one_principal_component_misses_the_loss_falls_bar(oracle):
    assert pca_error_ratio(oracle, 1) >= LOSS_FALLS_BAR


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="finding (issue 23): the mean digit has 0.07-0.11 of the "
                   "random start's error (bar 0.6): the bar is relative to a poor start")
def test_the_mean_digit_misses_the_denoising_bar(oracle):
    assert min(mean_image_ratio_to_random_start(oracle, s) for s in DENOISING_SEEDS) >= DENOISING_BAR


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="finding (issue 23): a decoder that outputs the mean code "
                   "has 0.12-0.23 of the random start's error (bar 0.5)")
def test_the_mean_code_misses_the_layer_bars(oracle):
    assert min(mean_code_ratio_to_random_start(oracle, s) for s in LAYER_SEEDS) >= LAYER_BAR
