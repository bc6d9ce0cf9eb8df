"""Shared helpers of assignment 01's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. Test modules cannot import each
other (their folders are not on ``sys.path``), so the helpers are fixtures:

- ``oracle``: expected results from scikit-learn, scipy, closed forms and brute
  force, all in float64 and all written independently of the reference solution;
- ``check``: assertions that several graders make (scalars, label arrays, the
  structure of a decision tree).

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at.

Shapes: ``N`` examples, ``D`` features, ``C`` classes, ``K`` mixture components,
``S`` hidden states, ``V`` observation symbols, ``T`` sequence length.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from autograder.testing import assert_close


class Oracle:
    """Reference results for assignment 01 (numpy arrays / python floats)."""

    # ------------------------------------------------------------------ data
    @staticmethod
    def blobs(rng, n, centers, std=1.0):
        """(X, y): n points around ``centers`` (C, D), labels 0..C-1 drawn uniformly."""
        centers = np.asarray(centers, dtype=np.float64)
        y = rng.integers(0, len(centers), size=n)
        X = centers[y] + std * rng.standard_normal((n, centers.shape[1]))
        return X, y

    @staticmethod
    def spd(rng, d, scale=1.0):
        """A random symmetric positive definite (d, d) matrix, eigenvalues in about [0.3, 2] * scale."""
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        return scale * (Q * rng.uniform(0.3, 2.0, size=d)) @ Q.T

    # ------------------------------------------------------------------ kNN
    @staticmethod
    def distances(X, Y):
        """Euclidean distances (N, M) by scipy's cdist."""
        return cdist(X, Y)

    @staticmethod
    def knn_predict(X_train, y_train, X_test, k):
        """Brute-force kNN with the documented rules (stable order, smallest label on a tie)."""
        nearest = np.argsort(cdist(X_test, X_train), axis=1, kind="stable")[:, :k]
        votes = np.asarray(y_train)[nearest]
        top = int(np.max(y_train)) + 1
        return np.array([np.argmax(np.bincount(v, minlength=top)) for v in votes])

    def knn_cv_accuracies(self, X, y, ks, num_folds):
        """Mean accuracy of each k over scikit-learn's KFold (contiguous, unshuffled) folds.

        Predictions come from the brute-force ``knn_predict`` above (scikit-learn's
        own classifier agrees but is slow for many small fits).
        """
        from sklearn.model_selection import KFold

        folds = list(KFold(n_splits=num_folds).split(X))
        return np.array(
            [
                np.mean(
                    [np.mean(self.knn_predict(X[tr], y[tr], X[va], k) == y[va]) for tr, va in folds]
                )
                for k in ks
            ]
        )

    # ------------------------------------------------------------------ Gaussians
    @staticmethod
    def log_gaussian_pdf(X, mean, cov):
        """scipy.stats.multivariate_normal(mean, cov).logpdf at the rows of X, shape (N,)."""
        return np.atleast_1d(multivariate_normal(mean, cov).logpdf(X))

    @staticmethod
    def ml_gaussian(X, diagonal=False):
        """(mean (D,), ML covariance (D, D) normalised by N) by np.cov(bias=True)."""
        cov = np.atleast_2d(np.cov(X, rowvar=False, bias=True))
        if diagonal:
            cov = np.diag(np.diag(cov))
        return X.mean(axis=0), cov

    def bayes_params(self, X, y, diagonal=False, reg=0.0):
        """(classes, priors (C,), means (C, D), covs (C, D, D)) by maximum likelihood."""
        classes = np.unique(y)
        d = X.shape[1]
        priors = np.array([np.mean(y == c) for c in classes])
        fits = [self.ml_gaussian(X[y == c], diagonal) for c in classes]
        means = np.array([m for m, _ in fits])
        covs = np.array([S + reg * np.eye(d) for _, S in fits])
        return classes, priors, means, covs

    def bayes_log_posteriors(self, X, priors, means, covs):
        """log p(c | x), shape (N, C), from scipy densities and scipy's logsumexp."""
        log_joint = np.stack(
            [
                np.log(p) + self.log_gaussian_pdf(X, m, S)
                for p, m, S in zip(priors, means, covs, strict=True)
            ],
            axis=1,
        )
        return log_joint - logsumexp(log_joint, axis=1, keepdims=True)

    # ------------------------------------------------------------------ GMM
    @staticmethod
    def sklearn_gmm(weights, means, covs):
        """A scikit-learn GaussianMixture holding exactly the given parameters."""
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(n_components=len(weights), covariance_type="full")
        gm.weights_ = np.asarray(weights, dtype=np.float64)
        gm.means_ = np.asarray(means, dtype=np.float64)
        gm.covariances_ = np.asarray(covs, dtype=np.float64)
        gm.precisions_cholesky_ = np.array(
            [np.linalg.cholesky(np.linalg.inv(S)) for S in gm.covariances_]
        )
        return gm

    def gmm_log_density(self, X, weights, means, covs):
        """log p(x_n) of the mixture, shape (N,), by scikit-learn's score_samples."""
        return self.sklearn_gmm(weights, means, covs).score_samples(X)

    def e_step(self, X, weights, means, covs):
        """(resp (N, K), total log-likelihood) with scipy densities and logsumexp."""
        log_joint = np.stack(
            [
                np.log(w) + self.log_gaussian_pdf(X, m, S)
                for w, m, S in zip(weights, means, covs, strict=True)
            ],
            axis=1,
        )
        log_norm = logsumexp(log_joint, axis=1, keepdims=True)
        return np.exp(log_joint - log_norm), float(np.sum(log_norm))

    @staticmethod
    def m_step(X, resp, reg):
        """(weights (K,), means (K, D), covs (K, D, D)): weighted ML estimates plus reg * I."""
        nk = resp.sum(axis=0)
        means = (resp.T @ X) / nk[:, None]
        diff = X[None, :, :] - means[:, None, :]  # (K, N, D)
        covs = np.einsum("nk,kni,knj->kij", resp, diff, diff) / nk[:, None, None]
        return nk / X.shape[0], means, covs + reg * np.eye(X.shape[1])

    # leak-check: off: this oracle restates the handout's specification, independently written
    def fit_gmm(self, X, K, n_iter, reg, seed):
        """The documented EM run of fit_gmm: (weights, means, covs, log_likelihoods)."""
        rng = np.random.default_rng(seed)
        means = X[rng.choice(X.shape[0], size=K, replace=False)]
        weights = np.full(K, 1.0 / K)
        covs = np.stack([self.ml_gaussian(X)[1] + reg * np.eye(X.shape[1])] * K)
        lls = []
        for _ in range(n_iter):
            resp, ll = self.e_step(X, weights, means, covs)
            lls.append(ll)
            weights, means, covs = self.m_step(X, resp, reg)
        return weights, means, covs, lls
    # leak-check: on

    @staticmethod
    def match_components(true_means, means):
        """The permutation p minimising sum_k ||means[p[k]] - true_means[k]|| (brute force)."""
        K = len(true_means)
        return min(
            itertools.permutations(range(K)),
            key=lambda p: sum(np.linalg.norm(means[p[k]] - true_means[k]) for k in range(K)),
        )

    # ------------------------------------------------------------------ SVM
    @staticmethod
    def hinge(w, b, X, y, reg):
        """(loss, dw, db) of 0.5 reg ||w||^2 + mean hinge, active examples: margin < 1."""
        margins = y * (X @ w + b)
        active = margins < 1
        n = X.shape[0]
        loss = 0.5 * reg * float(w @ w) + float(np.sum(np.maximum(0.0, 1.0 - margins))) / n
        dw = reg * w - (X[active].T @ y[active]) / n
        db = -float(np.sum(y[active])) / n
        return loss, dw, db

    def train_svm(self, X, y, reg, lr, epochs):
        """The documented sub-gradient descent from zeros: (w, b, losses)."""
        w, b, losses = np.zeros(X.shape[1]), 0.0, []
        for _ in range(epochs):
            loss, dw, db = self.hinge(w, b, X, y, reg)
            losses.append(loss)
            w, b = w - lr * dw, b - lr * db
        return w, b, losses

    def one_vs_rest(self, X, y, reg, lr, epochs):
        """(classes, W (C, D), b (C,)): one ±1 SVM per class, from train_svm."""
        classes = np.unique(y)
        fits = [self.train_svm(X, np.where(y == c, 1.0, -1.0), reg, lr, epochs) for c in classes]
        return classes, np.array([f[0] for f in fits]), np.array([f[1] for f in fits])

    # ------------------------------------------------------------------ trees
    @staticmethod
    def gini(y):
        """Gini impurity of the labels y, by scikit-learn's DecisionTreeClassifier."""
        from sklearn.tree import DecisionTreeClassifier

        y = np.asarray(y)
        if y.size == 0:
            return 0.0
        tree = DecisionTreeClassifier(max_depth=1).fit(np.zeros((y.size, 1)), y)
        return float(tree.tree_.impurity[0])

    @staticmethod
    def split_gain(X, y, feature, threshold):
        """Gini gain of sending x[feature] <= threshold left (closed form, proportions)."""

        def g(labels):
            if labels.size == 0:
                return 0.0
            p = np.unique(labels, return_counts=True)[1] / labels.size
            return 1.0 - float(np.sum(p**2))

        left = X[:, feature] <= threshold
        n = y.size
        return g(y) - (left.sum() * g(y[left]) + (~left).sum() * g(y[~left])) / n

    @staticmethod
    def sklearn_stump(X, y, features=None):
        """(feature, threshold, gain) of scikit-learn's best depth-1 split over ``features``."""
        from sklearn.tree import DecisionTreeClassifier

        features = list(range(X.shape[1])) if features is None else list(features)
        t = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X[:, features], y).tree_
        if t.node_count == 1:
            return None, None, 0.0
        n = t.n_node_samples
        gain = t.impurity[0] - (n[1] * t.impurity[1] + n[2] * t.impurity[2]) / n[0]
        return features[t.feature[0]], float(t.threshold[0]), float(gain)

    @staticmethod
    def walk(node, X):
        """Predictions (M,) of a tree given as nested dicts (the documented format)."""
        out = np.empty(X.shape[0], dtype=np.int64)
        for i, x in enumerate(X):
            cur = node
            while "label" not in cur:
                cur = cur["left"] if x[cur["feature"]] <= cur["threshold"] else cur["right"]
            out[i] = cur["label"]
        return out

    @staticmethod
    def majority(labels, axis=0):
        """Majority vote of integer labels along ``axis``, the smallest label on a tie."""
        labels = np.moveaxis(np.asarray(labels), axis, -1)
        top = int(labels.max()) + 1
        return np.array([np.argmax(np.bincount(v, minlength=top)) for v in labels])

    # ------------------------------------------------------------------ HMM
    @staticmethod
    def random_hmm(rng, S, V, concentration=1.0):
        """(pi (S,), A (S, S), B (S, V)): Dirichlet rows, all entries positive."""
        pi = rng.dirichlet(np.full(S, concentration))
        A = rng.dirichlet(np.full(S, concentration), size=S)
        B = rng.dirichlet(np.full(V, concentration), size=S)
        floor = 1e-3
        pi, A, B = pi + floor, A + floor, B + floor
        return pi / pi.sum(), A / A.sum(1, keepdims=True), B / B.sum(1, keepdims=True)

    @staticmethod
    def sample_hmm(rng, pi, A, B, T):
        """(states (T,), obs (T,)) drawn from the HMM."""
        S, V = B.shape
        z = np.empty(T, dtype=np.int64)
        o = np.empty(T, dtype=np.int64)
        z[0] = rng.choice(S, p=pi)
        for t in range(T):
            if t:
                z[t] = rng.choice(S, p=A[z[t - 1]])
            o[t] = rng.choice(V, p=B[z[t]])
        return z, o

    @staticmethod
    def path_log_prob(path, obs, pi, A, B):
        """log p(path, obs), a closed form."""
        path, obs = np.asarray(path), np.asarray(obs)
        lp = np.log(pi[path[0]]) + np.sum(np.log(B[path, obs]))
        return float(lp + np.sum(np.log(A[path[:-1], path[1:]])))

    def brute_force(self, obs, pi, A, B):
        """By enumerating every state path (short sequences only):

        (log_alpha (T, S), log_likelihood, best_path (T,), best_log_prob).
        """
        T, S = len(obs), len(pi)
        log_alpha = np.empty((T, S))
        for t in range(T):
            for i in range(S):
                terms = [
                    self.path_log_prob(list(prefix) + [i], obs[: t + 1], pi, A, B)
                    for prefix in itertools.product(range(S), repeat=t)
                ]
                log_alpha[t, i] = logsumexp(terms)
        paths = list(itertools.product(range(S), repeat=T))
        scores = np.array([self.path_log_prob(p, obs, pi, A, B) for p in paths])
        best = int(np.argmax(scores))
        return (
            log_alpha,
            float(logsumexp(log_alpha[-1])),
            np.array(paths[best]),
            float(scores[best]),
        )

    @staticmethod
    def scaled_forward(obs, pi, A, B):
        """(log_alpha (T, S), log_likelihood) by the scaled forward algorithm (Rabiner)."""
        T, S = len(obs), len(pi)
        log_alpha = np.empty((T, S))
        alpha = pi * B[:, obs[0]]
        log_scale = 0.0
        for t in range(T):
            if t:
                alpha = (alpha @ A) * B[:, obs[t]]
            c = alpha.sum()
            alpha = alpha / c
            log_scale += np.log(c)
            log_alpha[t] = np.log(alpha) + log_scale
        return log_alpha, float(log_scale)

    @staticmethod
    def viterbi_log_prob(obs, pi, A, B):
        """The log-probability of the best path, by max-product in log space."""
        log_A = np.log(A)
        delta = np.log(pi) + np.log(B[:, obs[0]])
        for o in obs[1:]:
            delta = np.max(delta[:, None] + log_A, axis=0) + np.log(B[:, o])
        return float(np.max(delta))


class Checks:
    """Assertions shared by several graders; failures name what differs."""

    @staticmethod
    def scalar(value, name):
        """The student's scalar ``value`` as a python float (fails on arrays of size > 1)."""
        assert np.ndim(value) == 0, (
            f"{name} must be a scalar, got an array of shape {np.shape(value)}"
        )
        return float(value)

    @staticmethod
    def labels(actual, expected, name):
        """An integer-valued array equal to ``expected``; counts the mismatches."""
        actual = np.asarray(actual)
        assert actual.shape == expected.shape, (
            f"{name}: expected shape {expected.shape} but got shape {actual.shape}"
        )
        wrong = int(np.sum(actual != expected))
        assert wrong == 0, (
            f"{name}: {wrong} of {expected.size} labels differ from the expected ones"
        )

    @staticmethod
    def tree(
        node,
        X,
        y,
        max_depth,
        min_samples_split=2,
        split_rule="best",
        depth=0,
        stats=None,
    ):
        """Check a tree (nested dicts) grown on (X, y) against the documented rules.

        - every node is a leaf {"label"} or an internal node {"feature", "threshold",
          "left", "right"} that sends x[feature] <= threshold left;
        - a node is a leaf exactly when depth == max_depth, fewer than
          min_samples_split examples reach it, it is pure, or no split exists
          (with split_rule="own-feature", also when some feature is constant in it);
        - a leaf's label is the majority label of its examples (smallest on a tie);
        - an internal node's threshold is a midpoint between two consecutive
          distinct values of its feature, and both children get examples;
        - split_rule="best": the split's Gini gain is the best over all features
          (scikit-learn's depth-1 tree on the node's examples);
          split_rule="own-feature": the best split along its own feature.

        Returns stats: {"depth": max leaf depth, "leaves": count, "root_feature": ...}.
        """
        stats = {"depth": 0, "leaves": 0, "internal": 0} if stats is None else stats
        assert isinstance(node, dict), f"a tree node must be a dict, got {type(node).__name__}"
        n = y.size
        pure = np.unique(y).size == 1
        constant = [np.all(X[:, f] == X[0, f]) for f in range(X.shape[1])]
        at_limit = (max_depth is not None and depth >= max_depth) or n < min_samples_split
        if "label" in node:
            stats["leaves"] += 1
            stats["depth"] = max(stats["depth"], depth)
            expected = int(np.argmax(np.bincount(y)))
            assert int(node["label"]) == expected, (
                f"a leaf at depth {depth} predicts {node['label']}, not the majority "
                f"label of its {n} examples (the smallest label on a tie)"
            )
            allowed = at_limit or pure or all(constant)
            if split_rule == "own-feature":
                allowed = allowed or any(constant)
            assert allowed, (
                f"a node at depth {depth} with {n} examples of several labels is a leaf, "
                "but it should have been split"
            )
            return stats
        assert {"feature", "threshold", "left", "right"} <= set(node), (
            f"an internal node needs keys feature, threshold, left, right; got {sorted(node)}"
        )
        assert not at_limit and not pure, (
            f"a node at depth {depth} with {n} examples was split, but it should be a leaf "
            "(depth limit, min_samples_split or purity)"
        )
        stats["internal"] += 1
        if depth == 0:
            stats["root_feature"] = int(node["feature"])
        f, t = int(node["feature"]), float(node["threshold"])
        values = np.unique(X[:, f])
        mids = (values[:-1] + values[1:]) / 2.0
        assert mids.size and np.min(np.abs(mids - t)) <= 1e-9 * (1 + abs(t)), (
            f"the threshold of a node at depth {depth} is not a midpoint between two "
            "consecutive distinct values of its feature"
        )
        left = X[:, f] <= t
        gain = Oracle.split_gain(X, y, f, t)
        best = Oracle.sklearn_stump(X, y, None if split_rule == "best" else [f])[2]
        assert gain >= best - 1e-9, (
            f"the split of a node at depth {depth} ({n} examples) does not have the best Gini gain"
        )
        Checks.tree(
            node["left"],
            X[left],
            y[left],
            max_depth,
            min_samples_split,
            split_rule,
            depth + 1,
            stats,
        )
        Checks.tree(
            node["right"],
            X[~left],
            y[~left],
            max_depth,
            min_samples_split,
            split_rule,
            depth + 1,
            stats,
        )
        return stats

    @staticmethod
    def close(actual, expected, name, **kw):
        """assert_close, re-exported for convenience."""
        assert_close(actual, expected, name=name, **kw)


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results from scikit-learn, scipy, closed forms and brute force (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()
