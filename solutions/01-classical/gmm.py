"""Gaussian mixture models fitted by EM, and a GMM-based Bayes classifier.

A mixture of K Gaussians in D dimensions has parameters
- weights: mixing weights, shape (K,), positive, summing to 1
- means: shape (K, D)
- covs: covariances, shape (K, D, D), symmetric positive definite
and density p(x) = sum_k weights[k] * N(x | means[k], covs[k]).

Everything is computed in log space: log N(x | mu, S) comes from
bayes.log_gaussian_pdf, and sums over components use bayes.logsumexp. A point
far from every component (log-densities around -1e5) must still get finite
responsibilities and a finite log-likelihood.
"""

import numpy as np
from bayes import fit_gaussian, log_gaussian_pdf, logsumexp


def _log_joint(X, weights, means, covs):
    """log weights[k] + log N(x_n | means[k], covs[k]), shape (N, K)."""
    return np.stack(
        [np.log(weights[k]) + log_gaussian_pdf(X, means[k], covs[k]) for k in range(len(weights))],
        axis=1,
    )


def gmm_log_density(X, weights, means, covs):
    """Log-density log p(x_n) of the mixture at every row of X.

    Inputs:
    - X: array of shape (N, D)
    - weights: array of shape (K,)
    - means: array of shape (K, D)
    - covs: array of shape (K, D, D)

    Returns:
    - logp: array of shape (N,)
    """
    # BEGIN SOLUTION hint: §3.1: the log-density of the mixture at every row
    logp = logsumexp(_log_joint(X, weights, means, covs), axis=1)
    # END SOLUTION
    return logp


def e_step(X, weights, means, covs):
    """E-step: responsibilities, computed in log space, and the log-likelihood.

        log r[n, k] = log weights[k] + log N(x_n | k) - log sum_j weights[j] N(x_n | j)

    Inputs:
    - X: array of shape (N, D)
    - weights: array of shape (K,)
    - means: array of shape (K, D)
    - covs: array of shape (K, D, D)

    Returns a tuple of:
    - resp: array of shape (N, K); every row is non-negative and sums to 1
    - log_likelihood: float, sum_n log p(x_n) under the given parameters
    """
    # BEGIN SOLUTION hint: §3.2: the responsibilities and the log-likelihood, in log space
    log_joint = _log_joint(X, weights, means, covs)
    log_norm = logsumexp(log_joint, axis=1)
    resp = np.exp(log_joint - log_norm[:, None])
    log_likelihood = float(np.sum(log_norm))
    # END SOLUTION
    return resp, log_likelihood


def m_step(X, resp, reg):
    """M-step: the maximum-likelihood parameters for given responsibilities.

        N_k        = sum_n resp[n, k]
        weights[k] = N_k / N
        means[k]   = (1 / N_k) sum_n resp[n, k] x_n
        covs[k]    = (1 / N_k) sum_n resp[n, k] (x_n - means[k])(x_n - means[k])^T + reg * I

    The new means[k] are used inside covs[k]. reg * I keeps every covariance
    positive definite, even for a component that sits on a single point.

    Inputs:
    - X: array of shape (N, D)
    - resp: array of shape (N, K), rows summing to 1
    - reg: float >= 0

    Returns a tuple of:
    - weights: array of shape (K,)
    - means: array of shape (K, D)
    - covs: array of shape (K, D, D)
    """
    # BEGIN SOLUTION hint: §3.3: the maximum-likelihood weights, means and covariances for these responsibilities
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    nk = resp.sum(axis=0)
    weights = nk / n
    means = resp.T @ X / nk[:, None]
    covs = np.empty((resp.shape[1], d, d))
    for k in range(resp.shape[1]):
        diff = X - means[k]
        covs[k] = (resp[:, k, None] * diff).T @ diff / nk[k]
        covs[k] += reg * np.eye(d)
    # END SOLUTION
    return weights, means, covs


def fit_gmm(X, K, n_iter=100, reg=1e-6, seed=0):
    """Fit a K-component GMM to X by EM, in exactly this order:

        rng = np.random.default_rng(seed)
        means = X[rng.choice(N, size=K, replace=False)]      # K distinct examples
        weights = np.full(K, 1 / K)
        covs[k] = fit_gaussian(X)[1] + reg * I               # for every k (ML cov of all of X)
        for it in range(n_iter):
            resp, ll = e_step(X, weights, means, covs)
            log_likelihoods.append(ll)                       # BEFORE this M-step
            weights, means, covs = m_step(X, resp, reg)

    No other random numbers are drawn and there is no early stopping. EM never
    decreases the log-likelihood: log_likelihoods is non-decreasing.

    Inputs:
    - X: array of shape (N, D)
    - K: int, number of components
    - n_iter: int, number of EM iterations
    - reg: float >= 0, covariance regularisation (see m_step)
    - seed: int

    Returns a tuple of:
    - weights: array of shape (K,)
    - means: array of shape (K, D)
    - covs: array of shape (K, D, D)
    - log_likelihoods: list of n_iter floats
    """
    # BEGIN SOLUTION hint: §3.4: the initialisation, then n_iter EM iterations, in the order of the docstring
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    means = X[rng.choice(n, size=K, replace=False)]
    weights = np.full(K, 1.0 / K)
    cov = fit_gaussian(X)[1] + reg * np.eye(d)
    covs = np.stack([cov] * K)
    log_likelihoods = []
    for _ in range(n_iter):
        resp, ll = e_step(X, weights, means, covs)
        log_likelihoods.append(ll)
        weights, means, covs = m_step(X, resp, reg)
    # END SOLUTION
    return weights, means, covs, log_likelihoods


class GMMClassifier:
    """Bayes classifier whose class-conditional densities are GMMs, one per class.

    log p(c | x) = log prior_c + log p_c(x) - log sum_c' (same for c'), where
    p_c is a K-component GMM fitted to the training examples of class c.

    After fit(X, y):
    - classes_: the sorted distinct labels, shape (C,) (np.unique(y))
    - priors_: the fraction of examples in each class, shape (C,)
    - gmms_: list of C tuples (weights, means, covs), gmms_[c] fitted by
      fit_gmm(X[y == classes_[c]], K, n_iter, reg, seed=seed + c)
    """

    def __init__(self, K=2, n_iter=50, reg=1e-6, seed=0):
        """Inputs:
        - K: int, components per class
        - n_iter: int, EM iterations per class
        - reg: float, covariance regularisation
        - seed: int; class c (the c-th of classes_) uses seed + c
        """
        self.K = K
        self.n_iter = n_iter
        self.reg = reg
        self.seed = seed

    def fit(self, X, y):
        """Fit one GMM per class and the class priors.

        Inputs:
        - X: array of shape (N, D)
        - y: integer array of shape (N,)

        Returns self.
        """
        # BEGIN SOLUTION hint: §3.5: one prior and one mixture per class
        X = np.asarray(X, dtype=np.float64)
        self.classes_ = np.unique(y)
        self.priors_ = np.array([np.mean(y == c) for c in self.classes_])
        self.gmms_ = []
        for i, c in enumerate(self.classes_):
            weights, means, covs, _ = fit_gmm(
                X[y == c], self.K, self.n_iter, self.reg, self.seed + i
            )
            self.gmms_.append((weights, means, covs))
        # END SOLUTION
        return self

    def predict_log_proba(self, X):
        """Log-posteriors of every class for every row of X.

        Inputs:
        - X: array of shape (N, D)

        Returns:
        - log_post: array of shape (N, C); column c belongs to classes_[c]
        """
        # BEGIN SOLUTION hint: §3.5: the log-posterior of every class, in log space
        log_joint = np.stack(
            [
                np.log(self.priors_[c]) + gmm_log_density(X, *self.gmms_[c])
                for c in range(len(self.classes_))
            ],
            axis=1,
        )
        log_post = log_joint - logsumexp(log_joint, axis=1)[:, None]
        # END SOLUTION
        return log_post

    def predict(self, X):
        """The most probable class of every row of X.

        Inputs:
        - X: array of shape (N, D)

        Returns:
        - y_pred: array of shape (N,), values from classes_
        """
        # BEGIN SOLUTION hint: §3.5: the most probable class, as a label from classes_
        y_pred = self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]
        # END SOLUTION
        return y_pred
