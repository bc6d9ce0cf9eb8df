"""GloVe in numpy: distance-weighted co-occurrence counts, the weighting function,
the weighted least-squares loss with its gradients, and training.

numpy only: torch is not allowed in this file. Every function takes numpy
arrays and must return numpy float64 arrays.

Conventions used throughout this file:

- V is the vocabulary size, E the embedding size.
- A corpus is a 1-d int64 array of word ids in 0 .. V-1.
- Every word i has a word vector W[i] and bias b[i], and a context vector
  W_ctx[i] and bias b_ctx[i].
"""

import numpy as np


def cooccurrence_matrix(token_ids, vocab_size, window):
    """Co-occurrence counts weighted by the inverse distance, as in GloVe (handout §4.1).

    For every pair of positions i != j with |i - j| <= window,

        X[token_ids[i], token_ids[j]] += 1 / |i - j|

    (both orders are visited, so X is symmetric). A word is not its own
    context: j = i is skipped. Positions outside the corpus do not exist.

    Inputs:
    - token_ids: int array (L,), the corpus
    - vocab_size: V
    - window: int >= 1

    Returns:
    - X: float64 (V, V)
    """
    # BEGIN SOLUTION hint: §4.1: the distance-weighted co-occurrence counts X (V, V)
    X = np.zeros((vocab_size, vocab_size))
    ids = np.asarray(token_ids)
    for d in range(1, window + 1):
        left, right = ids[:-d], ids[d:]
        np.add.at(X, (left, right), 1.0 / d)
        np.add.at(X, (right, left), 1.0 / d)
    # END SOLUTION
    return X


def glove_weight(X, x_max=100.0, alpha=0.75):
    """The GloVe weighting function, elementwise: f(x) = (x / x_max) ** alpha, capped at 1.

    f(x) = (x / x_max) ** alpha if x < x_max, else 1; f(0) = 0.

    Inputs:
    - X: array of co-occurrence counts (>= 0), any shape
    - x_max, alpha: floats

    Returns:
    - f: float64 array shaped like X, values in [0, 1]
    """
    # BEGIN SOLUTION hint: §4.2: the weights of the counts, shaped like X, in [0, 1]
    f = np.minimum((np.asarray(X, dtype=np.float64) / x_max) ** alpha, 1.0)
    # END SOLUTION
    return f


def glove_loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
    """The GloVe loss and its gradients (handout §4.3).

    Summed over the pairs (i, j) with X[i, j] > 0 only:

        e_ij = W[i] . W_ctx[j] + b[i] + b_ctx[j] - log X[i, j]
        loss = sum over X[i, j] > 0 of f(X[i, j]) * e_ij ** 2

    with f = glove_weight. Pairs with X[i, j] = 0 contribute nothing (and
    log 0 must not turn into nan or inf anywhere).

    Inputs:
    - W, W_ctx: (V, E)
    - b, b_ctx: (V,)
    - X: (V, V) co-occurrence counts
    - x_max, alpha: floats, passed to glove_weight

    Returns a tuple of:
    - loss: float
    - grads: dict with keys "W" (V, E), "W_ctx" (V, E), "b" (V,), "b_ctx" (V,)
    """
    # BEGIN SOLUTION hint: §4.3: the loss (a float) and its gradients for W (V, E), W_ctx (V, E), b (V,) and b_ctx (V,), finite where X has zeros
    mask = X > 0
    log_x = np.zeros_like(X, dtype=np.float64)
    log_x[mask] = np.log(X[mask])
    f = np.where(mask, glove_weight(X, x_max, alpha), 0.0)
    e = W @ W_ctx.T + b[:, None] + b_ctx[None, :] - log_x
    e = np.where(mask, e, 0.0)
    loss = float(np.sum(f * e**2))
    g = 2.0 * f * e  # (V, V)
    grads = {
        "W": g @ W_ctx,
        "W_ctx": g.T @ W,
        "b": g.sum(axis=1),
        "b_ctx": g.sum(axis=0),
    }
    # END SOLUTION
    return loss, grads


def train_glove(X, embed_dim=10, epochs=2000, lr=0.05, x_max=100.0, alpha=0.75, seed=0):
    """Train GloVe on a co-occurrence matrix with full-batch AdaGrad; return W + W_ctx.

    Follow this recipe step by step: the hidden tests replay it on small counts and
    compare the returned vectors with theirs (handout §4.4).
    - rng = np.random.default_rng(seed); W = (rng.random((V, embed_dim)) - 0.5)
      / embed_dim, then W_ctx drawn the same way (after W); b = b_ctx = zeros;
    - every epoch, one AdaGrad step (handout §4.4, with 1e-8 added to the
      root of the accumulated squares) on the full gradient of
      glove_loss(W, W_ctx, b, b_ctx, X, x_max, alpha), all four parameters
      updated from the same gradients.

    Inputs:
    - X: (V, V) co-occurrence counts
    - the rest: hyperparameters

    Returns:
    - vectors: float64 (V, embed_dim), W + W_ctx (the sum, as in the GloVe paper)
    """
    # BEGIN SOLUTION hint: §4.4: the trained word vectors (V, embed_dim), as the docstring defines them
    rng = np.random.default_rng(seed)
    V = X.shape[0]
    params = {
        "W": (rng.random((V, embed_dim)) - 0.5) / embed_dim,
        "W_ctx": (rng.random((V, embed_dim)) - 0.5) / embed_dim,
        "b": np.zeros(V),
        "b_ctx": np.zeros(V),
    }
    accum = {k: np.zeros_like(v) for k, v in params.items()}
    for _ in range(epochs):
        _, grads = glove_loss(params["W"], params["W_ctx"], params["b"], params["b_ctx"], X,
                              x_max, alpha)
        for k, g in grads.items():
            accum[k] += g**2
            params[k] -= lr * g / (np.sqrt(accum[k]) + 1e-8)
    vectors = params["W"] + params["W_ctx"]
    # END SOLUTION
    return vectors
