"""Shared helpers of assignment 07's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results computed without our reference solution: the
  nearest centroid (scipy), scikit-learn (k-means, average precision, nearest
  neighbours), formulas that the handout gives (GloVe's weight, FNV-1a, NetVLAD's
  tied parameters), float64 torch autograd of the losses (SGNS, CBOW, GloVe), and
  the synthetic data sets (bags of descriptors, the planted corpus);
- ``check``: assertions that several graders make;
- ``student``: builds the student's NetVLAD layers (float64) with given parameters.

This file ships with the public tests. It holds no re-implementation of a
function that you write: the public graders check those with literal values for
small hand-made inputs, with invariants, with numerical gradients and with the
library oracles above. Nothing in it may tell what a hidden test looks at.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.metrics import average_precision_score
from sklearn.neighbors import NearestNeighbors

from autograder.testing import TOLERANCES, CheckBase, Tolerance


def t64(a, requires_grad: bool = False) -> torch.Tensor:
    """A float64 tensor with the values of ``a`` (a numpy array or a tensor)."""
    return torch.as_tensor(np.asarray(a, dtype=np.float64)).clone().requires_grad_(requires_grad)


class Oracle:
    """Reference results for assignment 07, computed without our reference solution."""

    # ------------------------------------------------------------------ VLAD
    @staticmethod
    def assign(X, C) -> np.ndarray:
        """(M,) nearest centroid of every descriptor (scipy's cdist; ties: lowest index)."""
        return np.argmin(cdist(X, C, "sqeuclidean"), axis=1).astype(np.int64)

    @staticmethod
    def bags_of_descriptors(seed: int, classes: int = 10, per_class: int = 12, K: int = 8,
                            D: int = 16, M: int = 50, burst: int = 30):
        """(bags, labels): synthetic "images", each a bag of local descriptors (M + burst, D).

        K visual words; each class has its own word frequencies and its own offset
        of the descriptors around every word; every image also holds a "burst" of
        ``burst`` near-identical descriptors around a random word, unrelated to its
        class (a repeated texture), which intra-normalisation keeps in check.
        """
        rng = np.random.default_rng(seed)
        words = 3.0 * rng.standard_normal((K, D))
        offsets = 0.6 * rng.standard_normal((classes, K, D))
        mix = rng.dirichlet(np.ones(K), size=classes)
        bags, labels = [], []
        for c in range(classes):
            for _ in range(per_class):
                w = rng.choice(K, size=M, p=mix[c])
                X = words[w] + offsets[c, w] + rng.standard_normal((M, D))
                b = rng.integers(K)
                repeated = words[b] + 1.5 * rng.standard_normal(D) + 0.1 * rng.standard_normal((burst, D))
                bags.append(np.concatenate([X, repeated]))
                labels.append(c)
        return bags, np.array(labels)

    @staticmethod
    def kmeans(bags, K: int = 8) -> np.ndarray:
        """(K, D) centroids: scikit-learn's k-means on all descriptors (random_state 0)."""
        return KMeans(K, n_init=1, random_state=0).fit(np.concatenate(bags)).cluster_centers_

    @staticmethod
    def mean_average_precision(codes, labels, queries) -> float:
        """mAP of the queries (indices into codes) against all other codes, ranked by dot product."""
        sims = codes @ codes.T
        aps = []
        for q in queries:
            others = np.arange(len(labels)) != q
            aps.append(average_precision_score(labels[others] == labels[q], sims[q, others]))
        return float(np.mean(aps))

    # ------------------------------------------------------------------ NetVLAD
    @staticmethod
    def netvlad_params(K: int, D: int, rng, alpha: float | None = None) -> dict:
        """A NetVLAD state_dict (float64): centroids ~ N(0, 1); the 1x1 convolution either
        tied to them (w_k = 2 alpha c_k, b_k = -alpha ||c_k||^2, as in the handout) or,
        alpha=None, random."""
        c = rng.standard_normal((K, D))
        if alpha is None:
            w, b = rng.standard_normal((K, D)), rng.standard_normal(K)
        else:
            w, b = 2 * alpha * c, -alpha * np.sum(c * c, axis=1)
        return {"conv.weight": t64(w[:, :, None, None]), "conv.bias": t64(b), "centroids": t64(c)}

    def vlad_retrieval_map(self, encode, seed: int, first_query: int) -> float:
        """mAP of the codes ``encode(X, C)`` on the bags of ``bags_of_descriptors(seed)``,
        with k-means centroids, queries ``first_query``, ``first_query + 6``, ..."""
        bags, labels = self.bags_of_descriptors(seed)
        C = self.kmeans(bags)
        codes = np.stack([np.asarray(encode(X, C), dtype=np.float64) for X in bags])
        return self.mean_average_precision(codes, labels, np.arange(first_query, len(bags), 6))

    # ------------------------------------------------------------------ Word2Vec
    @staticmethod
    def sgns(W_in, W_out, centers, contexts, negatives):
        """(loss, dW_in, dW_out) of the mean SGNS loss, by float64 torch autograd."""
        Wi, Wo = t64(W_in, True), t64(W_out, True)
        v = Wi[torch.as_tensor(centers)]
        pos = (Wo[torch.as_tensor(contexts)] * v).sum(1)
        neg = torch.einsum("bse,be->bs", Wo[torch.as_tensor(negatives)], v)
        loss = -(torch.nn.functional.logsigmoid(pos).sum()
                 + torch.nn.functional.logsigmoid(-neg).sum()) / len(centers)
        loss.backward()
        return loss.item(), Wi.grad.numpy(), Wo.grad.numpy()

    @staticmethod
    def cbow(W_in, W_out, contexts, centers):
        """(loss, h, scores) of CBOW: mean context vector, full softmax cross-entropy (torch)."""
        h = t64(W_in)[torch.as_tensor(contexts)].mean(1)
        scores = h @ t64(W_out).T
        loss = torch.nn.functional.cross_entropy(scores, torch.as_tensor(centers))
        return loss.item(), h.numpy(), scores.numpy()

    @staticmethod
    def nearest(E, queries, k: int) -> np.ndarray:
        """(Q, k) cosine nearest neighbours other than the query (scikit-learn, brute force)."""
        nn_ = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(E)
        _, idx = nn_.kneighbors(E[queries])
        return np.array([[i for i in row if i != q][:k] for row, q in zip(idx, queries, strict=True)])

    @staticmethod
    def planted_corpus(seed: int, sentences: int, num_concepts: int = 8, topic_words: int = 3,
                       fillers: int = 6, length: int = 6):
        """(tokens int64 (L,), V): the handout's planted corpus.

        Ids 2k and 2k+1 (k < num_concepts) are two synonyms of concept k: they are
        used interchangeably. Then num_concepts * topic_words topic words, then
        ``fillers`` filler words. A sentence of concept k has ``length`` words: one
        synonym of k at a random place, the others topic words of concept k or k+1
        (mod num_concepts) with probability 0.7, else fillers.
        """
        rng = np.random.default_rng(seed)
        K = num_concepts
        topic0 = 2 * K
        filler0 = topic0 + K * topic_words
        out = []
        for _ in range(sentences):
            k = rng.integers(K)
            topics = (k + rng.integers(2, size=length - 1)) % K
            words = np.where(rng.random(length - 1) < 0.7,
                             topic0 + topics * topic_words + rng.integers(topic_words, size=length - 1),
                             filler0 + rng.integers(fillers, size=length - 1))
            out.append(np.insert(words, rng.integers(length), 2 * k + rng.integers(2)))
        return np.concatenate(out).astype(np.int64), filler0 + fillers

    # ------------------------------------------------------------------ GloVe
    @staticmethod
    def glove_weight(X, x_max: float, alpha: float) -> np.ndarray:
        """f(x) = (x / x_max) ** alpha below x_max, 1 from x_max on."""
        X = np.asarray(X, dtype=np.float64)
        return np.where(X < x_max, (X / x_max) ** alpha, 1.0)

    def glove(self, W, W_ctx, b, b_ctx, X, x_max: float = 100.0, alpha: float = 0.75):
        """(loss, grads dict) of the GloVe loss over the non-zero entries (torch autograd)."""
        leaves = {k: t64(v, True) for k, v in (("W", W), ("W_ctx", W_ctx), ("b", b), ("b_ctx", b_ctx))}
        i, j = np.nonzero(X)
        ti, tj = torch.as_tensor(i), torch.as_tensor(j)
        e = ((leaves["W"][ti] * leaves["W_ctx"][tj]).sum(1) + leaves["b"][ti] + leaves["b_ctx"][tj]
             - torch.log(t64(X[i, j])))
        loss = (t64(self.glove_weight(X[i, j], x_max, alpha)) * e**2).sum()
        loss.backward()
        return loss.item(), {k: v.grad.numpy() for k, v in leaves.items()}

    # ------------------------------------------------------------------ fastText
    @staticmethod
    def fnv1a(text: str) -> int:
        """32-bit FNV-1a of the UTF-8 bytes."""
        h = 0x811C9DC5
        for byte in text.encode("utf-8"):
            h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
        return h


class Checks(CheckBase):
    """Assertions shared by several graders (numpy arrays, tensors and autograd probes from
    ``CheckBase``); failures name what differs."""

    numpy_why = "numpy only in this file"
    # GloVe's loss weights squared errors over a whole matrix: its central differences carry
    # more absolute error than "numerical_gradient" allows
    tolerances = {**TOLERANCES, "glove_numerical_gradient": Tolerance(1e-5, 1e-6)}

    @staticmethod
    def scalar_close(value, expected: float, name: str, rtol=1e-6) -> None:
        """A Python or numpy scalar close to ``expected``."""
        assert np.ndim(value) == 0, f"{name} must be a scalar"
        assert abs(float(value) - expected) <= rtol * max(abs(expected), 1e-8), f"{name} is wrong"

    def cbow_matches(self, got, expected: tuple) -> None:
        """cbow_loss's (loss, h, scores) match the oracle's."""
        assert isinstance(got, (tuple, list)) and len(got) == 3, "cbow_loss must return (loss, h, scores)"
        loss, h, scores = got
        self.numpy_close(h, expected[1], name="h")
        self.numpy_close(scores, expected[2], name="scores")
        self.scalar_close(loss, expected[0], name="loss")

    @staticmethod
    def planted_pairs_are_neighbours(E, num_concepts: int, name: str) -> None:
        """Every planted synonym 2k / 2k+1 is the other's nearest cosine neighbour (brute force)."""
        E = np.asarray(E, dtype=np.float64)
        assert E.ndim == 2, f"{name} must be a matrix (V, E)"
        queries = np.arange(2 * num_concepts)
        nearest = Oracle.nearest(E, queries, 1)[:, 0]
        found = int(np.sum(nearest == (queries ^ 1)))
        assert found == len(queries), (
            f"{name}: {found} of {len(queries)} planted words have their synonym as nearest neighbour"
        )


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()


class Student:
    """Builds the student's NetVLAD layers in the worker, in float64, with given parameters."""

    def __init__(self, submission):
        self.submission = submission

    def netvlad(self, K: int, D: int, params: dict, alpha: float = 100.0, sequential: bool = False):
        """``netvlad.NetVLAD(K, D, alpha)`` (or SequentialVLAD) in float64 holding ``params``."""
        cls = "SequentialVLAD" if sequential else "NetVLAD"
        module = getattr(self.submission.netvlad, cls)(K, D, alpha)
        module.double()
        module.load_state_dict(params)
        return module


@pytest.fixture
def student(submission) -> Student:
    """Builders of the student's NetVLAD layers (see ``Student``)."""
    return Student(submission)
