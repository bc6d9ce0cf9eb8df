"""Assignment 01: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/01-classical/ with exact string replacements
applied to one module; it is graded with the real graders (public and hidden),
only on the listed tests (``-k``), and each of them must fail. The first nine
are the classic mistakes named in the assignment's specification; the rest are
other mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("01-classical")

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the specification's list
    Mutant(
        "knn-takes-the-k-largest-distances",
        "knn.py",
        [
            (
                'nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]',
                'nearest = np.argsort(dists, axis=1, kind="stable")[:, -k:]',
            )
        ],
        ["test_knn_predict", "test_knn_uses_nearest_neighbours", "test_cross_validate_k"],
    ),
    Mutant(
        "covariance-normalised-by-n-minus-1",
        "bayes.py",
        [("    cov = diff.T @ diff / n\n", "    cov = diff.T @ diff / (n - 1)\n")],
        [
            "test_fit_gaussian",
            "test_fit_gaussian_divides_by_n",
            "test_gaussian_bayes_classifier",
            "test_naive_bayes_matches_sklearn",
            "test_fit_gmm_exact_run",
        ],
    ),
    Mutant(
        "e-step-underflows-without-logsumexp",
        "gmm.py",
        [
            (
                "    log_norm = logsumexp(log_joint, axis=1)\n"
                "    resp = np.exp(log_joint - log_norm[:, None])\n"
                "    log_likelihood = float(np.sum(log_norm))\n",
                "    joint = np.exp(log_joint)\n"
                "    resp = joint / np.sum(joint, axis=1, keepdims=True)\n"
                "    log_likelihood = float(np.sum(np.log(np.sum(joint, axis=1))))\n",
            )
        ],
        ["test_e_step_far_points"],
    ),
    Mutant(
        "responsibilities-not-normalised",
        "gmm.py",
        [
            (
                "    resp = np.exp(log_joint - log_norm[:, None])\n",
                "    resp = np.exp(log_joint)\n",
            )
        ],
        ["test_e_step", "test_e_step_far_points", "test_e_step_rows_sum_to_one"],
    ),
    Mutant(
        "forward-probabilities-underflow",
        "hmm.py",
        [
            (
                "    log_alpha = np.empty((T, S))\n"
                "    log_alpha[0] = np.log(pi) + log_B[:, obs[0]]\n"
                "    for t in range(1, T):\n"
                "        log_alpha[t] = _logsumexp(log_alpha[t - 1][:, None] + log_A, axis=0)"
                " + log_B[:, obs[t]]\n"
                "    log_likelihood = float(_logsumexp(log_alpha[-1], axis=0))\n",
                "    alpha = np.empty((T, S))\n"
                "    alpha[0] = pi * B[:, obs[0]]\n"
                "    for t in range(1, T):\n"
                "        alpha[t] = (alpha[t - 1] @ A) * B[:, obs[t]]\n"
                "    log_alpha = np.log(alpha)\n"
                "    log_likelihood = float(np.log(np.sum(alpha[-1])))\n",
            )
        ],
        ["test_forward_long_sequence", "test_classify_long_sequences"],
    ),
    Mutant(
        "viterbi-argmax-per-step",
        "hmm.py",
        [
            (
                "    path = np.zeros(T, dtype=np.int64)\n"
                "    path[-1] = np.argmax(delta[-1])\n"
                "    for t in range(T - 1, 0, -1):\n"
                "        path[t - 1] = psi[t, path[t]]\n",
                "    path = np.argmax(delta, axis=1)\n",
            )
        ],
        ["test_viterbi_best_path_not_per_step", "test_viterbi_long_sequence"],
    ),
    Mutant(
        "gini-on-counts",
        "trees.py",
        [("    p = counts / y.size\n", "    p = counts\n")],
        ["test_gini", "test_gini_multiclass_and_edge_cases", "test_best_split"],
    ),
    Mutant(
        "random-forest-without-bootstrap",
        "trees.py",
        [("            idx = rng.integers(0, n, size=n)\n", "            idx = np.arange(n)\n")],
        ["test_random_forest_bootstrap", "test_forest_trees_grow_on_their_bootstrap_samples"],
    ),
    Mutant(
        "svm-subgradient-counts-margin-points",
        "svm.py",
        [
            (
                "    active = (margins < 1).astype(np.float64)\n",
                "    active = (margins <= 1).astype(np.float64)\n",
            )
        ],
        ["test_hinge_grad_on_the_margin"],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        "distances-not-clipped-before-sqrt",
        "knn.py",
        [("    dists = np.sqrt(np.maximum(sq, 0.0))\n", "    dists = np.sqrt(sq)\n")],
        ["test_pairwise_distances_duplicates_are_zero"],
    ),
    Mutant(
        "cross-validation-on-shuffled-folds",
        "knn.py",
        [
            (
                "    folds = np.array_split(np.arange(n), num_folds)\n",
                "    folds = np.array_split(np.random.default_rng(0).permutation(n), num_folds)\n",
            )
        ],
        ["test_cross_validate_k", "test_cross_validate_k_uneven_folds"],
    ),
    Mutant(
        "knn-vote-tie-goes-to-largest-label",
        "knn.py",
        [
            (
                "[np.argmax(np.bincount(row, minlength=num_labels)) for row in labels]",
                "[num_labels - 1 - np.argmax(np.bincount(row, minlength=num_labels)[::-1])"
                " for row in labels]",
            )
        ],
        ["test_knn_vote_tie_goes_to_smallest_label", "test_knn_distance_tie_goes_to_lower_index"],
    ),
    Mutant(
        "logsumexp-without-max-shift",
        "bayes.py",
        [
            (
                "    m = np.max(a, axis=axis, keepdims=True)\n",
                "    m = np.zeros_like(np.max(a, axis=axis, keepdims=True))\n",
            )
        ],
        ["test_logsumexp_large_values", "test_bayes_far_away_points", "test_e_step_far_points"],
    ),
    Mutant(
        "bayes-posterior-normalised-without-logsumexp",
        "bayes.py",
        [
            (
                "        log_post = log_joint - logsumexp(log_joint, axis=1)[:, None]\n",
                "        log_post = log_joint - np.log(np.sum(np.exp(log_joint), axis=1))[:, None]\n",
            )
        ],
        ["test_bayes_far_away_points"],
    ),
    Mutant(
        "log-determinant-missing-factor-2",
        "bayes.py",
        [
            (
                "    log_det = 2.0 * np.sum(np.log(np.diag(L)))\n",
                "    log_det = np.sum(np.log(np.diag(L)))\n",
            )
        ],
        ["test_log_gaussian_pdf", "test_gaussian_bayes_classifier", "test_gmm_log_density"],
    ),
    Mutant(
        "bayes-uniform-priors",
        "bayes.py",
        [
            (
                "            priors.append(Xc.shape[0] / X.shape[0])\n",
                "            priors.append(1.0 / len(self.classes_))\n",
            )
        ],
        ["test_gaussian_bayes_classifier", "test_naive_bayes_matches_sklearn"],
    ),
    Mutant(
        "m-step-without-regularisation",
        "gmm.py",
        [("        covs[k] += reg * np.eye(d)\n", "        covs[k] += 0.0 * np.eye(d)\n")],
        [
            "test_m_step",
            "test_m_step_regularises_a_collapsed_component",
            "test_fit_gmm_duplicate_points",
        ],
    ),
    Mutant(
        "m-step-covariance-divided-by-n",
        "gmm.py",
        [
            (
                "        covs[k] = (resp[:, k, None] * diff).T @ diff / nk[k]\n",
                "        covs[k] = (resp[:, k, None] * diff).T @ diff / n\n",
            )
        ],
        ["test_m_step", "test_fit_gmm_log_likelihood_never_decreases", "test_fit_gmm_exact_run"],
    ),
    Mutant(
        "gmm-initialised-with-the-first-k-points",
        "gmm.py",
        [
            (
                "    means = X[rng.choice(n, size=K, replace=False)]\n",
                "    means = X[:K].copy()\n",
            )
        ],
        ["test_fit_gmm_log_likelihood_never_decreases", "test_fit_gmm_exact_run"],
    ),
    Mutant(
        "gmm-log-likelihood-recorded-after-the-m-step",
        "gmm.py",
        [
            (
                "        log_likelihoods.append(ll)\n"
                "        weights, means, covs = m_step(X, resp, reg)\n",
                "        weights, means, covs = m_step(X, resp, reg)\n"
                "        log_likelihoods.append(e_step(X, weights, means, covs)[1])\n",
            )
        ],
        ["test_fit_gmm_log_likelihood_never_decreases", "test_fit_gmm_exact_run"],
    ),
    Mutant(
        "svm-bias-regularised",
        "svm.py",
        [
            (
                "    db = float(-np.sum(active * y) / n)\n",
                "    db = float(reg * b - np.sum(active * y) / n)\n",
            )
        ],
        ["test_hinge_loss_and_grad", "test_hinge_bias_not_regularised"],
    ),
    Mutant(
        "svm-hinge-summed-not-averaged",
        "svm.py",
        [
            (
                "np.sum(np.maximum(0.0, 1.0 - margins)) / n)",
                "np.sum(np.maximum(0.0, 1.0 - margins)))",
            )
        ],
        ["test_hinge_loss_and_grad", "test_hinge_loss_is_a_mean"],
    ),
    Mutant(
        "svm-loss-recorded-after-the-update",
        "svm.py",
        [
            (
                "        losses.append(loss)\n        w = w - lr * dw\n        b = b - lr * db\n",
                "        w = w - lr * dw\n"
                "        b = b - lr * db\n"
                "        losses.append(hinge_loss_and_grad(w, b, X, y, reg)[0])\n",
            )
        ],
        ["test_train_linear_svm"],
    ),
    Mutant(
        "one-vs-rest-with-0-1-targets",
        "svm.py",
        [("yc = np.where(y == c, 1.0, -1.0)", "yc = np.where(y == c, 1.0, 0.0)")],
        ["test_one_vs_rest_svm", "test_one_vs_rest_labels"],
    ),
    Mutant(
        "split-gain-not-weighted-by-child-size",
        "trees.py",
        [
            (
                "gains = parent - (n_left[:, 0] * g_left + n_right[:, 0] * g_right) / n",
                "gains = parent - (g_left + g_right) / 2.0",
            )
        ],
        ["test_best_split", "test_build_tree_depth_two", "test_build_tree_full_depth"],
    ),
    Mutant(
        "threshold-at-a-data-value",
        "trees.py",
        [("float((xs[i] + xs[i + 1]) / 2.0)", "float(xs[i])")],
        ["test_best_split", "test_build_tree_depth_two"],
    ),
    Mutant(
        "tree-one-level-too-deep",
        "trees.py",
        [
            (
                "(max_depth is not None and depth >= max_depth)",
                "(max_depth is not None and depth > max_depth)",
            )
        ],
        ["test_build_tree_depth_two", "test_forest_trees_grow_on_their_bootstrap_samples"],
    ),
    Mutant(
        "tree-predict-sends-the-threshold-right",
        "trees.py",
        [
            (
                'go_left = X[idx, current["feature"]] <= current["threshold"]',
                'go_left = X[idx, current["feature"]] < current["threshold"]',
            )
        ],
        ["test_build_tree_depth_two"],
    ),
    Mutant(
        "forest-ignores-the-feature-subset",
        "trees.py",
        [
            (
                "    feature, threshold, _ = best_split(X, y, features)\n",
                "    feature, threshold, _ = best_split(X, y)\n",
            )
        ],
        ["test_forest_feature_subsampling"],
    ),
    Mutant(
        "forest-predicts-with-the-first-tree-only",
        "trees.py",
        [
            (
                "votes = np.stack([tree_predict(tree, X) for tree in self.trees_])",
                "votes = np.stack([tree_predict(tree, X) for tree in self.trees_[:1]])",
            )
        ],
        ["test_forest_majority_vote"],
    ),
    Mutant(
        "forward-with-transposed-transitions",
        "hmm.py",
        [
            (
                "_logsumexp(log_alpha[t - 1][:, None] + log_A, axis=0)",
                "_logsumexp(log_alpha[t - 1][:, None] + log_A.T, axis=0)",
            )
        ],
        ["test_forward_short_sequence", "test_classify_sequences"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


def test_mutant_ids_are_unique():
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
