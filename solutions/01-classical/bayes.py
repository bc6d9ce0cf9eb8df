"""Bayes classifier with Gaussian class-conditional densities (numpy only).

Conventions (the grader relies on them):
- Data X has shape (N, D); labels y are integers, shape (N,).
- Every estimate is MAXIMUM LIKELIHOOD: means and covariances divide by the
  number of examples N (not N - 1); a class prior is the fraction of the
  training examples in that class.
- Every probability is handled as a log-probability, and normalisation uses
  the log-sum-exp trick: log sum_i exp(a_i) = m + log sum_i exp(a_i - m) with
  m = max_i a_i. Points far from every class must still get finite
  log-posteriors that sum (in probability) to 1.
"""

import numpy as np


def logsumexp(a, axis=None):
    """Numerically stable log(sum(exp(a), axis)).

    Inputs:
    - a: array of any shape, finite values
    - axis: int or None, the axis to reduce (None: all entries)

    Returns:
    - out: array with `axis` removed (a float when axis is None)
    """
    # BEGIN SOLUTION hint: §2.1: the log of the sum of the exponentials, finite for entries around -1000 or +1000
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    out = np.squeeze(out, axis=axis) if axis is not None else out.item()
    # END SOLUTION
    return out


def log_gaussian_pdf(X, mean, cov):
    """Log-density of a multivariate normal N(mean, cov) at every row of X.

        log N(x | mu, S) = -0.5 * (D log(2 pi) + log det S + (x - mu)^T S^-1 (x - mu))

    Do not invert S explicitly: use a Cholesky factor S = L L^T (then
    log det S = 2 sum log diag(L), and the quadratic form is ||L^-1 (x - mu)||^2)
    or np.linalg.slogdet and np.linalg.solve.

    Inputs:
    - X: array of shape (N, D)
    - mean: array of shape (D,)
    - cov: symmetric positive definite array of shape (D, D)

    Returns:
    - logp: array of shape (N,)
    """
    # BEGIN SOLUTION hint: §2.2: the log-density at every row, without inverting cov
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    L = np.linalg.cholesky(cov)
    z = np.linalg.solve(L, (X - mean).T)
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    logp = -0.5 * (d * np.log(2.0 * np.pi) + log_det + np.sum(z**2, axis=0))
    # END SOLUTION
    return logp


def fit_gaussian(X, diagonal=False):
    """Maximum-likelihood mean and covariance of the rows of X.

        mean = (1/N) sum_n x_n
        cov  = (1/N) sum_n (x_n - mean)(x_n - mean)^T      (divide by N, not N - 1)

    With diagonal=True, every off-diagonal entry of cov is set to 0 (the
    diagonal holds the per-feature ML variances).

    Inputs:
    - X: array of shape (N, D)
    - diagonal: bool

    Returns a tuple of:
    - mean: array of shape (D,)
    - cov: array of shape (D, D)
    """
    # BEGIN SOLUTION hint: §2.3: the maximum-likelihood mean and covariance (full, or only its diagonal)
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    mean = X.mean(axis=0)
    diff = X - mean
    cov = diff.T @ diff / n
    if diagonal:
        cov = np.diag(np.diag(cov))
    # END SOLUTION
    return mean, cov


class GaussianBayesClassifier:
    """Bayes classifier with one Gaussian N(mean_c, cov_c) per class c.

    log p(c | x) = log prior_c + log N(x | mean_c, cov_c) - log sum_c' (same for c')

    After fit(X, y) the classifier has these attributes (C classes, D features):
    - classes_: the sorted distinct labels, shape (C,) (np.unique(y))
    - priors_: class priors, shape (C,): the fraction of examples in each class
    - means_: ML class means, shape (C, D)
    - covs_: ML class covariances (full or diagonal) plus reg * I, shape (C, D, D)
    Row c of every array belongs to classes_[c].
    """

    def __init__(self, diagonal=False, reg=0.0):
        """Inputs:
        - diagonal: bool, diagonal covariances (naive Bayes) instead of full ones
        - reg: float >= 0, added to the diagonal of every class covariance
        """
        self.diagonal = diagonal
        self.reg = reg

    def fit(self, X, y):
        """Estimate the priors, means and covariances of every class.

        Inputs:
        - X: array of shape (N, D)
        - y: integer array of shape (N,)

        Returns self.
        """
        # BEGIN SOLUTION hint: §2.4: the classes, their priors, and one Gaussian per class
        X = np.asarray(X, dtype=np.float64)
        self.classes_ = np.unique(y)
        d = X.shape[1]
        priors, means, covs = [], [], []
        for c in self.classes_:
            Xc = X[y == c]
            mean, cov = fit_gaussian(Xc, self.diagonal)
            priors.append(Xc.shape[0] / X.shape[0])
            means.append(mean)
            covs.append(cov + self.reg * np.eye(d))
        self.priors_ = np.array(priors)
        self.means_ = np.array(means)
        self.covs_ = np.array(covs)
        # END SOLUTION
        return self

    def predict_log_proba(self, X):
        """Log-posteriors log p(c | x) of every class for every row of X.

        Inputs:
        - X: array of shape (N, D)

        Returns:
        - log_post: array of shape (N, C); column c belongs to classes_[c];
          np.exp(log_post).sum(axis=1) is 1
        """
        # BEGIN SOLUTION hint: §2.4: the log-posterior of every class, by Bayes' rule in log space
        log_joint = np.stack(
            [
                np.log(self.priors_[c]) + log_gaussian_pdf(X, self.means_[c], self.covs_[c])
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
        # BEGIN SOLUTION hint: §2.4: the most probable class, as a label from classes_
        y_pred = self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]
        # END SOLUTION
        return y_pred
