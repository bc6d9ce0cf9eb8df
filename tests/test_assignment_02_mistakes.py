"""Assignment 02: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/02-feedforward/ with exact string replacements
applied to one module (one function, except where noted); it is graded with the
real graders, only on the listed tests (``-k``), and each of them must fail.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("02-feedforward")

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    Mutant(
        "softmax-without-max-subtraction",
        "layers.py",
        [
            (
                "    shifted = x - np.max(x, axis=-1, keepdims=True)\n    e = np.exp(shifted)\n",
                "    e = np.exp(x)\n",
            )
        ],
        ["test_softmax_large_logits"],
    ),
    Mutant(
        "cross-entropy-without-max-subtraction",
        "layers.py",
        [
            (
                "    shifted = scores - np.max(scores, axis=1, keepdims=True)\n",
                "    shifted = scores\n",
            )
        ],
        ["test_softmax_cross_entropy_large_logits", "test_mlp_loss_large_scores"],
    ),
    Mutant(
        "cross-entropy-as-log-of-softmax",
        "layers.py",
        [
            (
                "    log_z = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))\n"
                "    log_probs = shifted - log_z\n",
                "    log_probs = np.log(softmax(scores))\n",
            )
        ],
        ["test_softmax_cross_entropy_large_logits", "test_mlp_loss_large_scores"],
    ),
    Mutant(
        "relu-gradient-at-zero",
        "layers.py",
        [("    dx = dout * (x > 0)\n", "    dx = dout * (x >= 0)\n")],
        ["test_relu_backward_at_zero"],
    ),
    Mutant(
        "cross-entropy-summed-over-batch",
        "layers.py",
        [
            (
                "    loss = float(-np.sum(log_probs[np.arange(n), y]) / n)\n",
                "    loss = float(-np.sum(log_probs[np.arange(n), y]))\n",
            )
        ],
        [
            "test_softmax_cross_entropy_loss",
            "test_softmax_cross_entropy_batch_average",
            "test_mlp_loss_and_grads",
        ],
    ),
    Mutant(
        "mse-summed-over-batch",
        "layers.py",
        [("    n = pred.shape[0]\n", "    n = 1\n")],
        ["test_mse_loss", "test_mse_loss_batch_average"],
    ),
    Mutant(
        "transposed-weight-gradient",
        "layers.py",
        [("    dW = x.T @ dout\n", "    dW = dout.T @ x\n")],
        ["test_linear_backward", "test_linear_backward_square_weights", "test_mlp_loss_and_grads"],
    ),
    Mutant(
        "bias-gradient-mean-over-batch",
        "layers.py",
        [("    db = np.sum(dout, axis=0)\n", "    db = np.mean(dout, axis=0)\n")],
        [
            "test_linear_backward",
            "test_linear_backward_square_weights",
            "test_linear_bias_gradient_sums_over_batch",
        ],
    ),
    Mutant(
        "bias-gradient-first-example-only",
        "layers.py",
        [("    db = np.sum(dout, axis=0)\n", "    db = dout[0]\n")],
        ["test_linear_backward", "test_linear_bias_gradient_sums_over_batch"],
    ),
    Mutant(
        "sigmoid-backward-from-pre-activation",
        "layers.py",
        [("    s = cache\n", "    s = 1.0 / (1.0 + np.exp(-cache))\n")],
        [
            "test_sigmoid_backward",
            "test_sigmoid_backward_from_cached_output",
            "test_mlp_grads_deep_sigmoid",
        ],
    ),
    Mutant(
        # Two functions: forward caches x, backward recomputes sigmoid(x). The
        # round trip is right, so only the cached-output convention test catches it.
        "sigmoid-caches-input-not-output",
        "layers.py",
        [
            (
                "    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    cache = out\n",
                "    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    cache = x\n",
            ),
            ("    s = cache\n", "    s = 1.0 / (1.0 + np.exp(-cache))\n"),
        ],
        ["test_sigmoid_backward_from_cached_output"],
    ),
    Mutant(
        "sgd-never-shuffles",
        "train.py",
        [("        perm = rng.permutation(n)\n", "        perm = np.arange(n)\n")],
        ["test_sgd_even_batches", "test_sgd_uneven_batches_multi_epoch"],
    ),
    Mutant(
        "sgd-shuffles-only-once",
        "train.py",
        [
            (
                "    for _ in range(epochs):\n        perm = rng.permutation(n)\n",
                "    perm = rng.permutation(n)\n    for _ in range(epochs):\n",
            )
        ],
        ["test_sgd_even_batches", "test_sgd_uneven_batches_multi_epoch"],
    ),
    Mutant(
        "sgd-reuses-one-batch",
        "train.py",
        [("            idx = perm[i : i + batch_size]\n", "            idx = perm[:batch_size]\n")],
        ["test_sgd_even_batches", "test_sgd_uneven_batches_multi_epoch"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
