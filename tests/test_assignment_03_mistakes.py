"""Assignment 03: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/03-optimization/ with exact string replacements
applied to one module; it is graded with the real graders, only on the listed tests
(``-k``), and each of them must fail. The first group are the mistakes the assignment's issue lists; the
second group are more mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("03-optimization")

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant(
        "adam-without-bias-correction",
        "optimizers.py",
        [
            ("            m_hat = m / (1 - b1**self.t)\n", "            m_hat = m\n"),
            ("            v_hat = v / (1 - b2**self.t)\n", "            v_hat = v\n"),
        ],
        [
            "test_adam_matches_torch",
            "test_adam_first_step_is_lr_sized",
            "test_adam_eps_after_bias_correction",
            "test_adam_on_function",
        ],
    ),
    Mutant(
        "adagrad-accumulates-g-not-g-squared",
        "optimizers.py",
        [("            self.sum_sq[k] += g * g\n", "            self.sum_sq[k] += g\n")],
        ["test_adagrad_matches_torch", "test_adagrad_eps_outside_sqrt"],
    ),
    Mutant(
        "rmsprop-eps-inside-sqrt",
        "optimizers.py",
        [
            (
                "            p -= self.lr * g / (np.sqrt(s) + self.eps)\n",
                "            p -= self.lr * g / np.sqrt(s + self.eps)\n",
            )
        ],
        ["test_rmsprop_eps_outside_sqrt"],
    ),
    Mutant(
        # Scaled at test time instead of training time: x * keep in training, x * (1 - p) in eval.
        "non-inverted-dropout",
        "regularization.py",
        [
            ("        return x.copy(), (None, p, False)\n", "        return x * (1 - p), (None, p, False)\n"),
            ("    scale = keep / (1.0 - p)\n    out = x * scale\n", "    scale = keep * 1.0\n    out = x * scale\n"),
        ],
        [
            "test_dropout_train_statistics",
            "test_dropout_eval_is_identity",
            "test_dropout_pinned_mask",
            "test_dropout_other_rates",
        ],
    ),
    Mutant(
        "dropout-still-active-in-eval",
        "regularization.py",
        [("    if not train:\n        return x.copy(), (None, p, False)\n", "")],
        ["test_dropout_eval_is_identity", "test_dropout_nd_and_eval_backward"],
    ),
    Mutant(
        "batchnorm-batch-statistics-in-eval",
        "regularization.py",
        [
            (
                "            mu = self.running_mean\n            var = self.running_var\n",
                "            mu = x.mean(axis=0)\n            var = x.var(axis=0)\n",
            )
        ],
        [
            "test_batchnorm_eval_uses_running_averages",
            "test_batchnorm_eval_after_training",
            "test_batchnorm_backward_eval_mode",
        ],
    ),
    Mutant(
        "batchnorm-backward-ignores-mean-dependence",
        "regularization.py",
        [
            (
                "                n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)\n",
                "                n * dx_hat - x_hat * (dx_hat * x_hat).sum(axis=0)\n",
            )
        ],
        ["test_batchnorm_backward", "test_batchnorm_backward_small_batch_offset"],
    ),
    Mutant(
        "momentum-sign-error-in-velocity",
        "optimizers.py",
        [("            v += grads[k]\n", "            v -= grads[k]\n")],
        [
            "test_momentum_matches_torch",
            "test_momentum_on_function",
            "test_momentum_and_adam_beat_gd_on_quadratic",
        ],
    ),
    Mutant(
        "momentum-sign-error-in-decay",
        "optimizers.py",
        [("            v *= self.momentum\n", "            v *= -self.momentum\n")],
        ["test_momentum_matches_torch", "test_momentum_on_function"],
    ),
    Mutant(
        "weight-decay-on-biases",
        "regularization.py",
        [('        if k.startswith("W"):\n', "        if True:\n")],
        [
            "test_l2_penalty",
            "test_l2_penalty_biases_excluded",
            "test_l2_gd_matches_torch_weight_decay_on_weights",
        ],
    ),
    Mutant(
        "newton-without-damping",
        "optimizers.py",
        [("            A = H + self.damping * np.eye(H.shape[0])\n", "            A = H\n")],
        [
            "test_newton_step_closed_form",
            "test_newton_damping_escapes_negative_curvature",
            "test_newton_matrix_parameter_and_lr",
        ],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        "adam-eps-inside-sqrt",
        "optimizers.py",
        [
            (
                "            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n",
                "            p -= self.lr * m_hat / np.sqrt(v_hat + self.eps)\n",
            )
        ],
        ["test_adam_eps_after_bias_correction"],
    ),
    Mutant(
        # The paper's "efficient" form: eps added to sqrt(v) before the correction.
        "adam-eps-before-bias-correction",
        "optimizers.py",
        [
            (
                "            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n",
                "            p -= self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)"
                " * m / (np.sqrt(v) + self.eps)\n",
            )
        ],
        ["test_adam_eps_after_bias_correction"],
    ),
    Mutant(
        "adam-step-counter-per-parameter",
        "optimizers.py",
        [
            ("        self.t += 1\n        b1, b2", "        b1, b2"),
            ("        for k, p in self.params.items():\n            g = grads[k]\n            m, v",
             "        for k, p in self.params.items():\n            self.t += 1\n"
             "            g = grads[k]\n            m, v"),
        ],
        ["test_adam_matches_torch", "test_adam_on_function"],
    ),
    Mutant(
        "momentum-with-dampening",
        "optimizers.py",
        [("            v += grads[k]\n", "            v += (1 - self.momentum) * grads[k]\n")],
        ["test_momentum_matches_torch", "test_momentum_on_function"],
    ),
    Mutant(
        "adadelta-eps-outside-sqrt",
        "optimizers.py",
        [
            (
                "            delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g\n",
                "            delta = (np.sqrt(u) + eps) / (np.sqrt(s) + eps) * g\n",
            )
        ],
        ["test_adadelta_matches_torch", "test_adadelta_on_function", "test_default_hyperparameters"],
    ),
    Mutant(
        "adagrad-wrong-default-eps",
        "optimizers.py",
        [("    def __init__(self, params, lr=0.01, eps=1e-10):\n",
          "    def __init__(self, params, lr=0.01, eps=1e-6):\n")],
        ["test_default_hyperparameters"],
    ),
    Mutant(
        "dropout-keeps-with-probability-p",
        "regularization.py",
        [("    keep = rng.random(x.shape) >= p\n", "    keep = rng.random(x.shape) < p\n")],
        ["test_dropout_train_statistics", "test_dropout_other_rates", "test_dropout_pinned_mask"],
    ),
    Mutant(
        "dropconnect-not-inverted",
        "regularization.py",
        [
            ("        W_eff = W * keep / (1.0 - p)\n", "        W_eff = W * keep\n"),
            ("        scale = keep / (1.0 - p)\n", "        scale = keep * 1.0\n"),
        ],
        ["test_dropconnect_forward", "test_dropconnect_pinned_mask"],
    ),
    Mutant(
        "dropconnect-weight-gradient-ignores-mask",
        "regularization.py",
        [("    dW = (x.T @ dout) * scale\n", "    dW = x.T @ dout\n")],
        ["test_dropconnect_backward", "test_dropconnect_pinned_mask"],
    ),
    Mutant(
        "batchnorm-biased-running-variance",
        "regularization.py",
        [("self.momentum * var * (\n                n / (n - 1)\n            )\n",
          "self.momentum * var\n")],
        [
            "test_batchnorm_forward_train",
            "test_batchnorm_running_averages_several_steps",
            "test_batchnorm_eval_after_training",
        ],
    ),
    Mutant(
        "batchnorm-momentum-reversed",
        "regularization.py",
        [
            (
                "(1 - self.momentum) * self.running_mean + self.momentum * mu\n",
                "self.momentum * self.running_mean + (1 - self.momentum) * mu\n",
            )
        ],
        [
            "test_batchnorm_forward_train",
            "test_batchnorm_running_averages_several_steps",
            "test_batchnorm_eval_after_training",
        ],
    ),
    Mutant(
        "batchnorm-unbiased-variance-in-normalization",
        "regularization.py",
        [("            var = x.var(axis=0)\n", "            var = x.var(axis=0, ddof=1)\n")],
        ["test_batchnorm_forward_train", "test_batchnorm_backward"],
    ),
    Mutant(
        "l2-penalty-without-one-half",
        "regularization.py",
        [("            penalty += 0.5 * reg * ", "            penalty += reg * ")],
        ["test_l2_penalty", "test_l2_penalty_biases_excluded"],
    ),
    Mutant(
        "lbfgs-gamma-from-oldest-pair",
        "optimizers.py",
        [("    s, y = s_history[-1], y_history[-1]\n", "    s, y = s_history[0], y_history[0]\n")],
        [
            "test_lbfgs_direction_matches_bfgs_matrix",
            "test_lbfgs_matches_torch",
            "test_lbfgs_history_and_curvature_check",
        ],
    ),
    Mutant(
        "lbfgs-history-never-truncated",
        "optimizers.py",
        [("                if len(self.s_history) > self.history_size:\n",
          "                if False:\n")],
        ["test_lbfgs_matches_torch", "test_lbfgs_history_and_curvature_check"],
    ),
    Mutant(
        "lbfgs-keeps-negative-curvature-pairs",
        "optimizers.py",
        [("            if np.dot(y, s) > 1e-10:\n", "            if True:\n")],
        ["test_lbfgs_history_and_curvature_check"],
    ),
    Mutant(
        "lbfgs-first-step-not-scaled",
        "optimizers.py",
        [("            t = min(1.0, 1.0 / np.sum(np.abs(g))) * self.lr\n",
          "            t = self.lr\n")],
        ["test_lbfgs_matches_torch", "test_lbfgs_history_and_curvature_check"],
    ),
    Mutant(
        "epochs-counted-one-too-many",
        "convergence.py",
        [("        if not f > tol:\n            return epochs\n",
          "        if not f > tol:\n            return epochs + 1\n")],
        [
            "test_epochs_to_tolerance_gd_quadratic",
            "test_epochs_to_tolerance_matches_torch",
            "test_epochs_to_tolerance_edges",
        ],
    ),
    Mutant(
        "max-epochs-one-short",
        "convergence.py",
        [
            (
                "            return epochs\n        if epochs == max_epochs:\n",
                "            return epochs\n        if epochs == max_epochs - 1:\n",
            )
        ],
        ["test_epochs_to_tolerance_edges"],
    ),
    Mutant(
        "rosenbrock-hessian-wrong",
        "convergence.py",
        [("+ 8.0 * b * x * x", "+ 4.0 * b * x * x")],
        ["test_rosenbrock", "test_epochs_to_tolerance_newton_and_lbfgs"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
