"""Shared helpers of assignment 01's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. Test modules cannot import each
other (their folders are not on ``sys.path``), so the helpers are fixtures:

- ``oracle``: expected results from scikit-learn, scipy and brute force, plus
  the data generators, all in float64 and all written independently of the
  reference solution;
- ``check``: assertions that several graders make (scalars, label arrays, the
  structure of a decision tree).

This file ships with the public tests, so nothing in it implements a function
that students write: every reference is a library call (banned in submissions),
an exhaustive enumeration that only works for tiny inputs, or a property check.
The numpy re-implementations that hidden tests compare with live in
tests/hidden/conftest.py, which does not ship. Nothing here may tell what a
hidden test looks at either.

Shapes: ``N`` examples, ``D`` features, ``C`` classes, ``K`` mixture components,
``S`` hidden states, ``V`` observation symbols, ``T`` sequence length.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp
from scipy.stats import mode, multivariate_normal

from autograder.testing import CheckBase, assert_close


class Oracle:
    """Reference results for assignment 01 (numpy arrays / python floats)."""

    #: Baum-Welch's recovery task: training sequences, their length, iterations (the reference
    #: recovers the known HMMs that recovery_hmm draws; the shortcuts do not:
    #: tests/test_shortcuts_sequences.py)
    recovery_sequences, recovery_length, recovery_iterations = 8, 200, 40
    #: the bars: max abs error of A and of B (states relabelled), and held-out log-likelihood
    #: per symbol at most this many nats below the true HMM's
    recovery_max_A_error, recovery_max_B_error, recovery_max_ll_gap = 0.15, 0.1, 0.05

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
    def sklearn_knn_cv_accuracies(X, y, ks, num_folds):
        """Mean accuracy of each k: scikit-learn's cross_val_score of a brute-force
        KNeighborsClassifier over KFold(num_folds) folds (contiguous, unshuffled)."""
        from sklearn.model_selection import KFold, cross_val_score
        from sklearn.neighbors import KNeighborsClassifier

        folds = KFold(n_splits=num_folds)
        return np.array(
            [
                cross_val_score(
                    KNeighborsClassifier(n_neighbors=k, algorithm="brute"), X, y, cv=folds
                ).mean()
                for k in ks
            ]
        )

    # ------------------------------------------------------------------ Gaussians
    @staticmethod
    def log_gaussian_pdf(X, mean, cov):
        """scipy.stats.multivariate_normal(mean, cov).logpdf at the rows of X, shape (N,)."""
        return np.atleast_1d(multivariate_normal(mean, cov).logpdf(X))

    @staticmethod
    def sklearn_gaussian(X):
        """(mean (D,), ML covariance (D, D)) by scikit-learn's EmpiricalCovariance."""
        from sklearn.covariance import EmpiricalCovariance

        fit = EmpiricalCovariance().fit(X)
        return fit.location_, fit.covariance_

    def sklearn_class_gaussians(self, X, y):
        """(classes (C,), priors (C,), means (C, D), ML covs (C, D, D)) of the classes of y.

        Priors and means by scikit-learn's GaussianNB, covariances by EmpiricalCovariance.
        """
        from sklearn.naive_bayes import GaussianNB

        nb = GaussianNB(var_smoothing=0.0).fit(X, y)
        covs = np.array([self.sklearn_gaussian(X[y == c])[1] for c in nb.classes_])
        return nb.classes_, nb.class_prior_, nb.theta_, covs

    # ------------------------------------------------------------------ GMM
    @staticmethod
    def sklearn_gmm(weights, means, covs):
        """A scikit-learn GaussianMixture holding exactly the given parameters.

        Its responsibilities (predict_proba) are also the posteriors p(c | x) of a
        Bayes classifier with priors ``weights`` and class Gaussians (means, covs).
        """
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

    def sklearn_em_step(self, X, weights, means, covs, reg):
        """One EM iteration of scikit-learn's GaussianMixture from the given parameters.

        Returns (resp (N, K), its E-step's responsibilities, and the weights (K,),
        means (K, D) and covs (K, D, D) of its M-step on them, reg_covar=reg).
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        precisions = np.linalg.inv(np.asarray(covs, dtype=np.float64))
        gm = GaussianMixture(
            n_components=len(weights),
            covariance_type="full",
            reg_covar=reg,
            max_iter=1,
            init_params="random",
            random_state=0,
            weights_init=np.asarray(weights, dtype=np.float64),
            means_init=np.asarray(means, dtype=np.float64),
            precisions_init=(precisions + np.swapaxes(precisions, 1, 2)) / 2,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one iteration, on purpose
            gm.fit(X)
        resp = self.sklearn_gmm(weights, means, covs).predict_proba(X)
        return resp, gm.weights_, gm.means_, gm.covariances_

    # ------------------------------------------------------------------ SVM
    @staticmethod
    def svm_objective(w, b, X, y, reg):
        """0.5 reg ||w||^2 plus scikit-learn's mean hinge loss of the scores X @ w + b.

        y holds -1 and +1 (both: scikit-learn's hinge_loss infers the classes from y).
        """
        from sklearn.metrics import hinge_loss

        return 0.5 * reg * float(np.dot(w, w)) + hinge_loss(y, X @ w + b)

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
    def sklearn_tree(X, y, max_depth):
        """scikit-learn's DecisionTreeClassifier (Gini, midpoint thresholds) fitted to (X, y)."""
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=max_depth, random_state=0).fit(X, y)

    @staticmethod
    def sklearn_partition_gain(y, left):
        """Gini gain of sending y[left] left and y[~left] right (``left``: a boolean mask).

        scikit-learn's depth-1 tree on the single 0/1 feature ``left`` can only split
        into exactly that partition (or not at all, with gain 0).
        """
        return Oracle.sklearn_stump(np.asarray(left, dtype=np.float64)[:, None], y)[2]

    @staticmethod
    def majority_label(y):
        """The most frequent label of y, the smallest on a tie (scipy.stats.mode)."""
        return int(mode(np.asarray(y), keepdims=False).mode)

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
        """By enumerating every state path (S**T of them: short sequences only):

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


    # ------------------------------------------------------------------ Baum-Welch
    def brute_posteriors(self, obs, pi, A, B):
        """By enumerating every state path (S**T of them: short sequences only):

        (log_beta (T, S), gamma (T, S), xi (T-1, S, S), log_likelihood), where
        gamma[t, i] = p(z_t = i | obs) and xi[t, i, j] = p(z_t = i, z_{t+1} = j | obs) are
        sums of p(path | obs) over the paths through those states, and log_beta[t, i] =
        log p(o_{t+1}, ..., o_{T-1} | z_t = i) sums p(rest of the path, rest of obs | z_t = i).
        """
        obs = np.asarray(obs)
        T, S = len(obs), len(pi)
        paths = np.array(list(itertools.product(range(S), repeat=T)))
        log_p = np.array([self.path_log_prob(p, obs, pi, A, B) for p in paths])
        log_likelihood = float(logsumexp(log_p))
        weight = np.exp(log_p - log_likelihood)
        gamma = np.zeros((T, S))
        xi = np.zeros((max(T - 1, 0), S, S))
        for path, w in zip(paths, weight, strict=True):
            gamma[np.arange(T), path] += w
            xi[np.arange(T - 1), path[:-1], path[1:]] += w
        log_beta = np.zeros((T, S))
        for t in range(T - 1):
            for i in range(S):
                terms = [
                    np.sum(np.log(A[[i, *rest[:-1]], rest])) + np.sum(np.log(B[rest, obs[t + 1 :]]))
                    for rest in itertools.product(range(S), repeat=T - 1 - t)
                ]
                log_beta[t, i] = logsumexp(terms)
        return log_beta, gamma, xi, log_likelihood

    def brute_baum_welch_step(self, sequences, pi, A, B):
        """One Baum-Welch step from expected counts summed over every state path of every
        sequence (brute force): (new_pi, new_A, new_B, total log-likelihood before the step).

        The expected number of starts in i, of transitions i -> j and of emissions of v from
        i are the counts along each path weighted by p(path | obs); each row is then
        normalised (maximum likelihood of the completed data)."""
        n_states, n_symbols = B.shape
        counts = {
            "pi": np.zeros(n_states),
            "A": np.zeros((n_states, n_states)),
            "B": np.zeros((n_states, n_symbols)),
        }
        total_log_likelihood = 0.0
        for obs in sequences:
            obs = np.asarray(obs)
            paths = np.array(list(itertools.product(range(n_states), repeat=len(obs))))
            log_joint = np.array([self.path_log_prob(p, obs, pi, A, B) for p in paths])
            log_evidence = float(logsumexp(log_joint))
            total_log_likelihood += log_evidence
            weights = np.exp(log_joint - log_evidence)  # p(path | obs)
            one_hot = np.eye(n_states)[paths]  # (paths, T, S)
            counts["pi"] += weights @ one_hot[:, 0]
            counts["A"] += np.einsum("p,pti,ptj->ij", weights, one_hot[:, :-1], one_hot[:, 1:])
            counts["B"] += np.einsum("p,pti,tv->iv", weights, one_hot, np.eye(n_symbols)[obs])
        normalised = [c / c.sum(axis=-1, keepdims=True) for c in counts.values()]
        return (*normalised, total_log_likelihood)

    @staticmethod
    def recovery_hmm(rng, S=2, V=4):
        """(pi, A, B): a known HMM that Baum-Welch recovers from data from the handed-out start.

        Sticky states (A[i, i] in [0.8, 0.92], the rest of the row by a Dirichlet) and
        emissions that favour two symbols of each state's own (Dirichlet(0.5 + 10 on them)).
        With three states, one run of EM in 12 ended in a poorer local maximum.
        """
        A = np.zeros((S, S))
        for i in range(S):
            stay = rng.uniform(0.8, 0.92)
            A[i] = np.insert(rng.dirichlet(np.full(S - 1, 2.0)) * (1 - stay), i, stay)
        favoured = rng.permutation(V)
        B = np.empty((S, V))
        for i in range(S):
            alpha = np.full(V, 0.5)
            alpha[favoured[2 * i : 2 * i + 2]] += 10.0
            B[i] = rng.dirichlet(alpha)
        B = (B + 1e-3) / (B + 1e-3).sum(axis=1, keepdims=True)
        return rng.dirichlet(np.full(S, 2.0)), A, B

    @staticmethod
    def baum_welch_init(rng, S, V):
        """The initial parameters handed to baum_welch: uniform pi, A with 0.7 on the
        diagonal, B rows drawn from a flat Dirichlet (they break the states' symmetry)."""
        A = np.full((S, S), 0.3 / (S - 1))
        np.fill_diagonal(A, 0.7)
        return np.full(S, 1.0 / S), A, rng.dirichlet(np.ones(V), size=S)

    def recovery_task(self, rng):
        """(truth (pi, A, B), training sequences, held-out sequences, initial parameters):
        recovery_sequences sequences of recovery_length each for training, as many held out."""
        n, T = self.recovery_sequences, self.recovery_length
        truth = self.recovery_hmm(rng)
        train = [self.sample_hmm(rng, *truth, T)[1] for _ in range(n)]
        held_out = [self.sample_hmm(rng, *truth, T)[1] for _ in range(n)]
        return truth, train, held_out, self.baum_welch_init(rng, *truth[2].shape)

    @staticmethod
    def recovery_errors(A, B, truth):
        """(max |A - A_true|, max |B - B_true|) under the relabelling of the states that
        makes the sum of the two smallest (brute force over the S! permutations)."""
        _, A_true, B_true = truth
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        best = None
        for p in itertools.permutations(range(len(A_true))):
            p = list(p)
            errors = (
                float(np.max(np.abs(A[np.ix_(p, p)] - A_true))),
                float(np.max(np.abs(B[p] - B_true))),
            )
            if best is None or sum(errors) < sum(best):
                best = errors
        return best


class Checks(CheckBase):
    """Assertions shared by several graders (``scalar`` from ``CheckBase``); failures name
    what differs."""

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
          (scikit-learn's depth-1 trees on the node's examples);
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
            expected = Oracle.majority_label(y)
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
        gain = Oracle.sklearn_partition_gain(y, left)
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
    def distribution(p, shape, name, what):
        """An array of ``shape`` whose entries are >= 0 and whose last axis sums to 1 (each
        slice a probability distribution over ``what``); names the first slice that is not."""
        p = np.asarray(p, dtype=np.float64)
        assert p.shape == tuple(shape), f"{name} has shape {p.shape}, expected {tuple(shape)}"
        assert np.all(np.isfinite(p)), f"{name} is not finite"
        assert np.all(p >= -1e-12), f"{name} has negative entries: it is not a distribution"
        sums = p.sum(axis=-1)
        bad = np.argwhere(np.abs(sums - 1.0) > 1e-8)
        assert bad.size == 0, (
            f"{name}{list(bad[0]) if p.ndim > 1 else ''} sums to {sums[tuple(bad[0])]:.6g}, not 1: "
            f"it must be a distribution over {what}"
        )
        return p

    def posteriors(self, gamma, xi, T, S):
        """gamma (T, S) and xi (T-1, S, S) are distributions, and xi's marginals are gamma:
        summing xi[t] over the next state gives gamma[t], over the current one gamma[t+1]."""
        gamma = self.distribution(gamma, (T, S), "gamma", "the states at step t")
        xi = np.asarray(xi, dtype=np.float64)
        assert xi.shape == (T - 1, S, S), f"xi has shape {xi.shape}, expected {(T - 1, S, S)}"
        self.distribution(xi.reshape(T - 1, S * S), (T - 1, S * S), "xi", "pairs of states")
        for axis, rows, over, gives in ((2, gamma[:-1], "the next state j", "gamma[t]"),
                                        (1, gamma[1:], "the current state i", "gamma[t+1]")):
            bad = np.argwhere(np.abs(xi.sum(axis=axis) - rows) > 1e-8)
            assert bad.size == 0, (
                f"xi[t={bad[0][0]}] summed over {over} is not {gives}: xi and gamma disagree "
                "(is xi transposed, or shifted by a step?)"
            )
        return gamma, xi

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
