"""Oracles of assignment 07's hidden graders.

pytest loads this conftest for tests/hidden/ only, and it never ships to students:
its references re-implement, from the handout's conventions, functions that
students write (VLAD and its pieces, ranking, NetVLAD and sequential VLAD by
loops, skip-gram pairs, the training recipes of skip-gram and GloVe,
co-occurrence counts, fastText's n-grams and word vectors), so they must stay
out of the public material.

Its ``oracle`` fixture extends the public one of ``tests/conftest.py`` (nearest
centroids, k-means, mAP, the data sets, NetVLAD's parameters, FNV-1a, the
autograd oracles of SGNS, CBOW and GloVe, all reached through it). Every
reference is written independently of our reference solution.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.testing import ExtendedOracle

EPS = 1e-12


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.sqrt(np.sum(v * v))
    return v / n if n > EPS else v / EPS


class Oracle(ExtendedOracle):
    """The public oracle (``tests/conftest.py``) plus references that re-implement the
    assignment. Attributes it lacks come from the public oracle."""

    # ------------------------------------------------------------------ VLAD
    def residual_sums(self, X, C) -> np.ndarray:
        """(K, D): V[k] = sum of x - c_k over the descriptors x nearest to c_k, one loop per descriptor."""
        V = np.zeros(C.shape)
        for x, k in zip(X, self.assign(X, C), strict=True):
            V[k] += x - C[k]
        return V

    def vlad(self, X, C) -> np.ndarray:
        """(K * D,): residual sums, intra-normalised row by row, signed sqrt, global L2."""
        V = np.array([_unit(row) for row in self.residual_sums(X, C)])
        v = V.reshape(-1)
        v = np.sign(v) * np.sqrt(np.abs(v))
        return _unit(v)

    @staticmethod
    def ranking(queries, database) -> np.ndarray:
        """(Q, N) brute force: for each query, sort the database by dot product, ties by index."""
        out = []
        for q in queries:
            sims = [float(np.dot(q, d)) for d in database]
            out.append(sorted(range(len(database)), key=lambda i: (-sims[i], i)))
        return np.array(out, dtype=np.int64)

    # ------------------------------------------------------------------ NetVLAD
    @staticmethod
    def netvlad_loop(x: torch.Tensor, params: dict, frames: bool = False):
        """NetVLAD by loops over images, positions and clusters (float64, differentiable).

        x (N, D, H, W), or (N, T, D, H, W) with ``frames``: every frame's positions are
        assigned on their own and all of them are aggregated. Returns (v (N, K * D),
        a (N, [T,] K, H, W)): the descriptors and the soft assignments.
        """
        w = params["conv.weight"][:, :, 0, 0]
        b, c = params["conv.bias"], params["centroids"]
        K, D = c.shape
        xs = x if frames else x[:, None]
        N, T, _, H, W = xs.shape
        codes, assigns = [], []
        for n in range(N):
            V = [torch.zeros(D, dtype=x.dtype) for _ in range(K)]
            a_n = torch.zeros(T, K, H, W, dtype=x.dtype)
            for t in range(T):
                for i in range(H):
                    for j in range(W):
                        xp = xs[n, t, :, i, j]
                        logits = torch.stack([w[k] @ xp + b[k] for k in range(K)])
                        a = torch.exp(logits - logits.max())
                        a = a / a.sum()
                        a_n[t, :, i, j] = a.detach()
                        for k in range(K):
                            V[k] = V[k] + a[k] * (xp - c[k])
            V = [vk / torch.clamp(vk.norm(), min=EPS) for vk in V]
            v = torch.cat(V)
            codes.append(v / torch.clamp(v.norm(), min=EPS))
            assigns.append(a_n if frames else a_n[0])
        return torch.stack(codes), torch.stack(assigns)

    def netvlad_autograd(self, x: torch.Tensor, params: dict, dout: torch.Tensor, frames: bool = False):
        """What an autograd probe of the layer with upstream gradient ``dout`` must return:
        ``{"output": v, "input_grads": [dx], "param_grads": {name: grad}}`` of sum(v * dout)
        for the loop oracle, by autograd."""
        leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
        xr = x.clone().requires_grad_()
        out, _ = self.netvlad_loop(xr, leaves, frames=frames)
        out.backward(dout)
        return {"output": out.detach(), "input_grads": [xr.grad],
                "param_grads": {k: v.grad for k, v in leaves.items()}}

    # ------------------------------------------------------------------ Word2Vec
    @staticmethod
    def skipgram_pairs(tokens, window: int) -> np.ndarray:
        """(P, 2) brute force over all position pairs with 1 <= |i - j| <= window."""
        L = len(tokens)
        pairs = [(tokens[i], tokens[j]) for i in range(L) for j in range(L)
                 if i != j and abs(i - j) <= window]
        return np.array(pairs, dtype=np.int64).reshape(-1, 2)

    def skipgram_training(self, tokens, V: int, embed_dim: int, window: int, num_negatives: int,
                          epochs: int, lr: float, batch_size: int, seed: int) -> np.ndarray:
        """W_in (V, embed_dim) after the recipe of train_skipgram's docstring: the SGNS
        gradients by autograd (``sgns``), the pairs by brute force, the noise distribution
        from the counts, the negatives drawn as the docstring pins them."""
        rng = np.random.default_rng(seed)
        W_in = (rng.random((V, embed_dim)) - 0.5) / embed_dim
        W_out = np.zeros((V, embed_dim))
        pairs = self.skipgram_pairs(tokens, window)
        noise = np.bincount(tokens, minlength=V) ** 0.75
        noise = noise / noise.sum()
        k = 0
        for _ in range(epochs):
            order = rng.permutation(len(pairs))
            for start in range(0, len(pairs), batch_size):
                batch = pairs[order[start:start + batch_size]]
                negatives = np.random.default_rng(seed * 100003 + k).choice(
                    V, size=(len(batch), num_negatives), p=noise)
                _, d_in, d_out = self.sgns(W_in, W_out, batch[:, 0], batch[:, 1], negatives)
                W_in = W_in - lr * len(batch) * d_in
                W_out = W_out - lr * len(batch) * d_out
                k += 1
        return W_in

    # ------------------------------------------------------------------ GloVe
    def glove_training(self, X, embed_dim: int, epochs: int, lr: float, x_max: float,
                       alpha: float, seed: int) -> np.ndarray:
        """W + W_ctx (V, embed_dim) after the recipe of train_glove's docstring: full-batch
        AdaGrad steps on the GloVe loss's gradients by autograd (``glove``)."""
        rng = np.random.default_rng(seed)
        V = X.shape[0]
        params = {"W": (rng.random((V, embed_dim)) - 0.5) / embed_dim}
        params["W_ctx"] = (rng.random((V, embed_dim)) - 0.5) / embed_dim
        params["b"], params["b_ctx"] = np.zeros(V), np.zeros(V)
        squares = {k: np.zeros_like(v) for k, v in params.items()}
        for _ in range(epochs):
            _, grads = self.glove(params["W"], params["W_ctx"], params["b"], params["b_ctx"], X,
                                  x_max, alpha)
            for k, g in grads.items():
                squares[k] = squares[k] + g * g
                params[k] = params[k] - lr * g / (np.sqrt(squares[k]) + 1e-8)
        return params["W"] + params["W_ctx"]

    @staticmethod
    def cooccurrence(tokens, V: int, window: int) -> np.ndarray:
        """(V, V) brute force: 1 / |i - j| for every position pair with 1 <= |i - j| <= window."""
        X = np.zeros((V, V))
        L = len(tokens)
        for i in range(L):
            for j in range(max(0, i - window), min(L, i + window + 1)):
                if j != i:
                    X[tokens[i], tokens[j]] += 1.0 / abs(i - j)
        return X

    # ------------------------------------------------------------------ fastText
    @staticmethod
    def ngrams(word: str, min_n: int, max_n: int) -> list[str]:
        """Substrings of "<word>" with min_n <= length <= max_n, by start, then length."""
        w = f"<{word}>"
        return [w[s:e] for s in range(len(w)) for e in range(s + 1, len(w) + 1)
                if min_n <= e - s <= max_n]

    def fasttext_vector(self, word, vocab, word_vectors, ngram_vectors, min_n=3, max_n=6):
        """(E,) own vector (if in vocab) plus the n-gram vectors, one bucket per n-gram."""
        v = np.zeros(ngram_vectors.shape[1])
        for g in self.ngrams(word, min_n, max_n):
            v = v + ngram_vectors[self.fnv1a(g) % len(ngram_vectors)]
        if word in vocab:
            v = v + word_vectors[vocab[word]]
        return v


@pytest.fixture(scope="session")
def oracle(oracle) -> Oracle:
    """The public ``oracle`` with the hidden tests' references (see ``Oracle``)."""
    return Oracle(oracle)
