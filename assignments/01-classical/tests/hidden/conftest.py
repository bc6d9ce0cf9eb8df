"""Oracles of assignment 01's hidden tests only; this file never ships to students.

pytest loads it for the tests under tests/hidden/ only (the release and
``dlgrade check`` leave the folder out). It holds the oracles that re-implement,
in numpy, an algorithm that students must write themselves (the EM steps, the
SVM's sub-gradient descent, the forward algorithm, ...): published with the
public tests, they would be solutions to copy. The public ``oracle`` fixture
(tests/conftest.py) keeps the library, brute-force and closed-form references
and the data generators; hidden tests use both.

Shapes: ``N`` examples, ``D`` features, ``C`` classes, ``K`` mixture components,
``S`` hidden states, ``T`` sequence length.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


class HiddenOracle:
    """Reference results for assignment 01's hidden tests (numpy arrays / python floats)."""

    # ------------------------------------------------------------------ kNN
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

    @staticmethod
    def scaled_posteriors(obs, pi, A, B):
        """(gamma (T, S), xi (T-1, S, S), log_likelihood) by Rabiner's scaled forward-backward:
        alpha-hat and beta-hat normalised by the forward pass's scale factors c_t."""
        obs = np.asarray(obs)
        T, S = len(obs), len(pi)
        alpha, c = np.empty((T, S)), np.empty(T)
        for t in range(T):
            a = pi * B[:, obs[0]] if t == 0 else (alpha[t - 1] @ A) * B[:, obs[t]]
            c[t] = a.sum()
            alpha[t] = a / c[t]
        beta = np.ones((T, S))
        for t in range(T - 2, -1, -1):
            beta[t] = (A @ (B[:, obs[t + 1]] * beta[t + 1])) / c[t + 1]
        gamma = alpha * beta
        xi = (
            alpha[:-1, :, None] * A[None] * (B[:, obs[1:]].T * beta[1:])[:, None, :]
            / c[1:, None, None]
        )
        return gamma, xi, float(np.sum(np.log(c)))

    def baum_welch_step(self, sequences, pi, A, B):
        """(new_pi, new_A, new_B, total log-likelihood before the step) from the scaled
        posteriors, expected counts pooled over the sequences."""
        S, V = B.shape
        start, trans, emit, total = np.zeros(S), np.zeros((S, S)), np.zeros((S, V)), 0.0
        for obs in sequences:
            obs = np.asarray(obs)
            gamma, xi, ll = self.scaled_posteriors(obs, pi, A, B)
            total += ll
            start += gamma[0]
            trans += xi.sum(axis=0)
            for v in range(V):
                emit[:, v] += gamma[obs == v].sum(axis=0)
        return (
            start / start.sum(),
            trans / trans.sum(axis=1, keepdims=True),
            emit / emit.sum(axis=1, keepdims=True),
            total,
        )

    def log_likelihood_per_symbol(self, sequences, pi, A, B):
        """The sequences' total log-likelihood (scaled forward) divided by their total length."""
        total = sum(self.scaled_forward(np.asarray(o), pi, A, B)[1] for o in sequences)
        return total / sum(len(o) for o in sequences)


@pytest.fixture(scope="session")
def hidden_oracle() -> HiddenOracle:
    """Hidden tests' own references, which re-implement the assignment (see ``HiddenOracle``)."""
    return HiddenOracle()
