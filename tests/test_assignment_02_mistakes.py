"""Assignment 02: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/02-feedforward/ with exact string replacements
applied to one module (one function, except where noted); it is graded with the
real graders, and the listed tests must fail.
"""

import shutil
from pathlib import Path

import pytest

from autograder.config import load_assignment
from autograder.grading import grade_submission

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignments" / "02-feedforward"
SOLUTION = ROOT / "solutions" / "02-feedforward"

# (id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    (
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
    (
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
    (
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
    (
        "relu-gradient-at-zero",
        "layers.py",
        [("    dx = dout * (x > 0)\n", "    dx = dout * (x >= 0)\n")],
        ["test_relu_backward_at_zero"],
    ),
    (
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
    (
        "mse-summed-over-batch",
        "layers.py",
        [("    n = pred.shape[0]\n", "    n = 1\n")],
        ["test_mse_loss", "test_mse_loss_batch_average"],
    ),
    (
        "transposed-weight-gradient",
        "layers.py",
        [("    dW = x.T @ dout\n", "    dW = dout.T @ x\n")],
        ["test_linear_backward", "test_linear_backward_square_weights", "test_mlp_loss_and_grads"],
    ),
    (
        "bias-gradient-mean-over-batch",
        "layers.py",
        [("    db = np.sum(dout, axis=0)\n", "    db = np.mean(dout, axis=0)\n")],
        [
            "test_linear_backward",
            "test_linear_backward_square_weights",
            "test_linear_bias_gradient_sums_over_batch",
        ],
    ),
    (
        "bias-gradient-first-example-only",
        "layers.py",
        [("    db = np.sum(dout, axis=0)\n", "    db = dout[0]\n")],
        ["test_linear_backward", "test_linear_bias_gradient_sums_over_batch"],
    ),
    (
        "sigmoid-backward-from-pre-activation",
        "layers.py",
        [("    s = cache\n", "    s = 1.0 / (1.0 + np.exp(-cache))\n")],
        [
            "test_sigmoid_backward",
            "test_sigmoid_backward_from_cached_output",
            "test_mlp_grads_deep_sigmoid",
        ],
    ),
    (
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
    (
        "sgd-never-shuffles",
        "train.py",
        [("        perm = rng.permutation(n)\n", "        perm = np.arange(n)\n")],
        ["test_sgd_even_batches", "test_sgd_uneven_batches_multi_epoch"],
    ),
    (
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
    (
        "sgd-reuses-one-batch",
        "train.py",
        [("            idx = perm[i : i + batch_size]\n", "            idx = perm[:batch_size]\n")],
        ["test_sgd_even_batches", "test_sgd_uneven_batches_multi_epoch"],
    ),
]


def _copy_solution(dest):
    files = sorted(SOLUTION.glob("*.py"))
    assert {f.name for f in files} >= {"layers.py", "mlp.py", "train.py"}
    for f in files:
        shutil.copy(f, dest / f.name)


def _test_name(name):
    """'hidden/test_x.py::test_y[param]' -> 'test_y'."""
    return name.rsplit("::", 1)[-1].split("[", 1)[0]


def test_reference_solution_gets_full_marks(tmp_path):
    _copy_solution(tmp_path)
    result = grade_submission(load_assignment(ASSIGNMENT), tmp_path)
    failed = [(t.name, t.reason) for t in result.tests if t.status != "passed"]
    assert not failed
    assert result.max_score == 100
    assert result.score == result.max_score


@pytest.mark.parametrize(
    ("module", "replacements", "must_fail"), [pytest.param(*m[1:], id=m[0]) for m in MUTANTS]
)
def test_classic_mistake_loses_points(tmp_path, module, replacements, must_fail):
    _copy_solution(tmp_path)
    path = tmp_path / module
    text = path.read_text()
    for old, new in replacements:
        assert text.count(old) == 1, f"mutation target not found exactly once in {module}: {old!r}"
        text = text.replace(old, new)
    path.write_text(text)

    result = grade_submission(load_assignment(ASSIGNMENT), tmp_path)

    assert result.score < result.max_score
    statuses = {_test_name(t.name): t.status for t in result.tests}
    unknown = [name for name in must_fail if name not in statuses]
    assert not unknown, f"no such grader tests: {unknown}"
    still_passing = [name for name in must_fail if statuses[name] == "passed"]
    assert not still_passing, f"these tests should catch the mistake but passed: {still_passing}"
