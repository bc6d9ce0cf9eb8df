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
- ``student``: builds the student's NetVLAD layers (float64) with given parameters;
- ``shakespeare``: the real text (``ShakespeareWords``): the excerpt of
  ``assignments/corpora/shakespeare``, cut into words by one small tokeniser
  (``words_of``, handout §6) and split into a training part, which the tests hand to the
  submission, and a held-out part, which never leaves the grader; with the words that the
  fastText test removes from the training text, and the bars the trained vectors must
  reach, judged by ``Oracle``'s own scoring with the returned matrices
  (``tests/test_shortcuts_embeddings.py`` shows that frequency alone, random vectors and
  fastText without n-grams stay below them).

This file ships with the public tests. It holds no re-implementation of a
function that you write, except what scoring fastText's trained vectors needs by
the graders' own hashing (FNV-1a and an unordered list of a word's n-grams: the
handout's §5.1 and §5.2 in a line each, whose order the tests of char_ngrams check):
the public graders check the rest with literal values for small hand-made inputs,
with invariants, with numerical gradients and with the library oracles above.
Nothing in it may tell what a hidden test looks at.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

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
    def _negative_sampling(v: torch.Tensor, Wo: torch.Tensor, targets, negatives) -> torch.Tensor:
        """The mean over b of -log s(u_t . v_b) - sum_s log s(-u_s . v_b) (torch, differentiable)."""
        pos = (Wo[torch.as_tensor(targets)] * v).sum(1)
        neg = torch.einsum("bse,be->bs", Wo[torch.as_tensor(negatives)], v)
        return -(torch.nn.functional.logsigmoid(pos).sum()
                 + torch.nn.functional.logsigmoid(-neg).sum()) / len(targets)

    def sgns(self, W_in, W_out, centers, contexts, negatives):
        """(loss, dW_in, dW_out) of the mean SGNS loss, by float64 torch autograd."""
        Wi, Wo = t64(W_in, True), t64(W_out, True)
        loss = self._negative_sampling(Wi[torch.as_tensor(centers)], Wo, contexts, negatives)
        loss.backward()
        return loss.item(), Wi.grad.numpy(), Wo.grad.numpy()

    def cbow_ns(self, W_in, W_out, contexts, centers, negatives):
        """(loss, dW_in, dW_out) of CBOW with negative sampling (the mean of the context
        vectors predicts the centre), by float64 torch autograd."""
        Wi, Wo = t64(W_in, True), t64(W_out, True)
        loss = self._negative_sampling(Wi[torch.as_tensor(contexts)].mean(1), Wo, centers, negatives)
        loss.backward()
        return loss.item(), Wi.grad.numpy(), Wo.grad.numpy()

    def fasttext_ns(self, word_vectors, ngram_vectors, W_out, buckets, centers, contexts, negatives):
        """(loss, d_word, d_ngram, dW_out) of skip-gram negative sampling whose input vector is
        the word's own vector plus the sum of its buckets' vectors, by float64 torch autograd."""
        Ww, Wn, Wo = t64(word_vectors, True), t64(ngram_vectors, True), t64(W_out, True)
        v = torch.stack([Ww[c] + Wn[torch.as_tensor(np.asarray(buckets[c], dtype=np.int64))].sum(0)
                         for c in centers])
        loss = self._negative_sampling(v, Wo, contexts, negatives)
        loss.backward()
        return loss.item(), Ww.grad.numpy(), Wn.grad.numpy(), Wo.grad.numpy()

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

    # ------------------------------------------------------------------ the real text
    @staticmethod
    def cbow_ranking_accuracy(W_in, W_out, text: ShakespeareWords, rng: np.random.Generator) -> float:
        """How often the held-out centre word beats CANDIDATES noise words drawn from the
        training counts ** 0.75 (a candidate equal to the centre is ignored), every word
        scored by u_w . h with h the mean of the W_in rows of its 2 * CBOW_WINDOW context words:
        the negative-sampling task itself, on text the submission never saw."""
        W_in, W_out = np.asarray(W_in, dtype=np.float64), np.asarray(W_out, dtype=np.float64)
        contexts, centers = text.cbow_held_out_examples()
        weights = np.bincount(text.cbow_train_ids(), minlength=len(text.vocab)) ** 0.75
        candidates = rng.choice(len(weights), size=(len(centers), CANDIDATES), p=weights / weights.sum())
        h = W_in[contexts].mean(axis=1)
        true = np.sum(W_out[centers] * h, axis=1)
        noise = np.einsum("bke,be->bk", W_out[candidates], h)
        noise[candidates == centers[:, None]] = -np.inf
        return float(np.mean(true > noise.max(axis=1)))

    def unseen_relatives_found(self, word_vectors, ngram_vectors, text: ShakespeareWords) -> float:
        """The share of the unseen words (removed from the training text) whose vector, the sum
        of their n-grams' bucket vectors hashed here, has one of its relatives among its
        RELATIVES_TOP nearest words by cosine; the words' vectors are their own plus their
        n-grams', built here too."""
        word_vectors = np.asarray(word_vectors, dtype=np.float64)
        ngram_vectors = np.asarray(ngram_vectors, dtype=np.float64)
        NB = len(ngram_vectors)

        def subword_sum(word: str) -> np.ndarray:
            return ngram_vectors[[self.fnv1a(g) % NB for g in text.ngrams(word)]].sum(axis=0)

        known = word_vectors + np.stack([subword_sum(w) for w in text.fasttext_words])
        known /= np.maximum(np.linalg.norm(known, axis=1, keepdims=True), 1e-12)
        found = 0
        for word, relatives in text.relatives.items():
            v = subword_sum(word)
            top = np.argsort(-(known @ v), kind="stable")[:RELATIVES_TOP]
            found += bool(np.linalg.norm(v) > 1e-12 and set(top.tolist()) & relatives)
        return found / len(text.relatives)

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


# ---------------------------------------------------------------- real text (Shakespeare)
#: the excerpt, found beside the assignments (in this repository and in every package that
#: copies an assignment with ``corpora = ["shakespeare"]``); workers cannot read it
CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "shakespeare" / "excerpt.txt"
#: the split: the text in blocks of this many characters, every tenth block held out
BLOCK = 10_000
HELD_OUT_EVERY = 10
#: the tokeniser (handout section 6): lower-case runs of letters, apostrophes inside a word kept
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
#: a word is in the vocabulary when the training part holds it this many times
MIN_COUNT = 5
#: CBOW as the tests train it, and how its held-out centres are ranked (handout section 6.1)
CBOW = {"embed_dim": 32, "window": 2}
CANDIDATES = 9
#: how often the held-out centre must beat the candidates: chance is 0.10, the best
#: context-free scorer (frequency) 0.21, the reference about 0.37
CBOW_BAR = 0.3
#: fastText as the tests train it (handout section 6.2), and the unseen words' test
FASTTEXT = {"num_buckets": 10000, "embed_dim": 32}
NGRAMS = (3, 6)
RELATIVES_TOP = 5
#: the share of unseen words that must find a relative: without n-grams 0, n-gram vectors
#: left at their random start (spelling alone) 0.37 beside trained word vectors and 0.60
#: beside random ones, the reference 0.69 to 0.78 over twelve seeds (0.76 with seed 0)
FASTTEXT_BAR = 0.65


def words_of(text: str) -> list[str]:
    """The handout's tokeniser: the text's words, lower-cased, in order."""
    return WORD.findall(text.lower())


class ShakespeareWords:
    """The excerpt as words, split, and turned into what the tests hand to the submission.

    Attributes:
        vocab: the words seen at least MIN_COUNT times in the training part, most frequent
            first (ties alphabetical); word ``vocab[i]`` has id i.
        unseen: the words fastText's test removes from its training text: every third word of
            the vocabulary seen 10 to 100 times, of at least 4 letters, that has a relative
            (another vocabulary word with the same first max(4, len - 2) letters).
        fasttext_words: the vocabulary without the unseen words (fastText's ids).
        relatives: unseen word -> the fastText ids of its relatives.
    """

    # how the tests train, and the bars (the module's constants)
    CBOW, CBOW_BAR, FASTTEXT, FASTTEXT_BAR, NGRAMS = CBOW, CBOW_BAR, FASTTEXT, FASTTEXT_BAR, NGRAMS

    def __init__(self, text: str):
        blocks = [text[i:i + BLOCK] for i in range(0, len(text), BLOCK)]
        held_out = blocks[HELD_OUT_EVERY - 1::HELD_OUT_EVERY]
        train = [b for i, b in enumerate(blocks) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
        self.train_words = [w for b in train for w in words_of(b)]
        self.held_out_words = [w for b in held_out for w in words_of(b)]
        counts = Counter(self.train_words)
        self.vocab = sorted((w for w, c in counts.items() if c >= MIN_COUNT), key=lambda w: (-counts[w], w))

        def relatives_of(word: str) -> list[str]:
            k = max(4, len(word) - 2)
            return [u for u in self.vocab if u != word and u[:k] == word[:k]]

        eligible = [w for w in self.vocab if 10 <= counts[w] <= 100 and len(w) >= 4 and relatives_of(w)]
        self.unseen = set(eligible[::3])
        self.fasttext_words = [w for w in self.vocab if w not in self.unseen]
        index = {w: i for i, w in enumerate(self.fasttext_words)}
        self.relatives = {w: {index[u] for u in relatives_of(w) if u in index} for w in sorted(self.unseen)}
        self.relatives = {w: r for w, r in self.relatives.items() if r}

    @staticmethod
    def _ids(words: list[str], vocab: list[str]) -> np.ndarray:
        index = {w: i for i, w in enumerate(vocab)}
        return np.array([index[w] for w in words if w in index], dtype=np.int64)

    def cbow_train_ids(self) -> np.ndarray:
        """(L,) the training part's words as vocabulary ids (words outside it dropped)."""
        return self._ids(self.train_words, self.vocab)

    def cbow_held_out_examples(self) -> tuple[np.ndarray, np.ndarray]:
        """(contexts (N, 2 w), centres (N,)): every full window of the held-out ids, w = CBOW's window."""
        ids, w = self._ids(self.held_out_words, self.vocab), CBOW["window"]
        positions = np.arange(w, len(ids) - w)
        offsets = np.concatenate([np.arange(-w, 0), np.arange(1, w + 1)])
        return ids[positions[:, None] + offsets], ids[positions]

    def fasttext_train_ids(self) -> np.ndarray:
        """(L,) the training part's words as fastText ids: the unseen words and the words
        outside the vocabulary dropped."""
        return self._ids(self.train_words, self.fasttext_words)

    @staticmethod
    def ngrams(word: str) -> list[str]:
        """The n-grams of "<word>" of NGRAMS[0] to NGRAMS[1] characters (their order does not matter here)."""
        w = f"<{word}>"
        return [w[s:s + n] for n in range(NGRAMS[0], NGRAMS[1] + 1) for s in range(len(w) - n + 1)]


@functools.cache
def read_shakespeare() -> ShakespeareWords:
    """The excerpt as words, read once per grading process."""
    assert CORPUS.is_file(), (
        f"the Shakespeare excerpt is not at {CORPUS}: grade with dlgrade in the course "
        "folder, or with a package that copies it (assignment.toml: corpora)")
    return ShakespeareWords(CORPUS.read_text(encoding="ascii"))


@pytest.fixture(scope="session")
def shakespeare() -> ShakespeareWords:
    """The real text as words, split (see ``ShakespeareWords``)."""
    return read_shakespeare()


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
