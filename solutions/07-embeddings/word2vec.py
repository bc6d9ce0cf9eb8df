"""Word2Vec in numpy: skip-gram pairs, the negative-sampling distribution, the
skip-gram negative-sampling (SGNS) loss with its gradients, CBOW, training, and
cosine nearest neighbours.

numpy only: torch is not allowed in this file. Every function takes numpy
arrays and must return numpy arrays (float64 for real values, int64 for ids).

Conventions used throughout this file:

- V is the vocabulary size, E the embedding size, B the number of examples in
  a batch, S the number of negative samples per example.
- A corpus is a 1-d int64 array of word ids in 0 .. V-1.
- Every word has two vectors: an input ("centre") vector, a row of W_in (V, E),
  and an output ("context") vector, a row of W_out (V, E). The embeddings that
  you use after training are the rows of W_in.
- sigmoid(z) = 1 / (1 + exp(-z)); log sigmoid(z) = -log(1 + exp(-z)).
"""

import numpy as np


def sigmoid(z):
    """Numerically stable logistic function, any shape (given)."""
    out = np.empty_like(z, dtype=np.float64)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def skipgram_pairs(token_ids, window):
    """All (centre, context) pairs of skip-gram with a symmetric window.

    For every position i of the corpus, the contexts are the words at the
    positions j with 1 <= |i - j| <= window that exist (0 <= j < L): the centre
    word itself (j = i) is NOT a context. Pairs are listed by centre position i,
    then by context position j, both increasing.

    Inputs:
    - token_ids: int array (L,), the corpus
    - window: int >= 1

    Returns:
    - pairs: int64 array (P, 2); pairs[p] = (token_ids[i], token_ids[j])
    """
    # BEGIN SOLUTION hint: §3.1: the (centre, context) pairs (P, 2) of the corpus, in the docstring's order
    L = len(token_ids)
    pairs = []
    for i in range(L):
        for j in range(max(0, i - window), min(L, i + window + 1)):
            if j != i:
                pairs.append((token_ids[i], token_ids[j]))
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    # END SOLUTION
    return pairs


def negative_sampling_distribution(counts, power=0.75):
    """The noise distribution of negative sampling: P(w) proportional to count(w) ** power.

    Inputs:
    - counts: array (V,) of word counts (>= 0)
    - power: float, 0.75 in word2vec

    Returns:
    - probs: float64 array (V,), non-negative, sums to 1
    """
    # BEGIN SOLUTION hint: §3.2: the noise distribution (V,) for these counts and this power
    weights = np.asarray(counts, dtype=np.float64) ** power
    probs = weights / weights.sum()
    # END SOLUTION
    return probs


def sample_negatives(probs, shape, seed):
    """Draw negative word ids from the noise distribution ``probs``.

    Use exactly ``np.random.default_rng(seed).choice(len(probs), size=shape, p=probs)``.

    Inputs:
    - probs: float64 array (V,), sums to 1
    - shape: tuple, the shape of the output, e.g. (B, S)
    - seed: int

    Returns:
    - negatives: int64 array of ``shape``, ids in 0 .. V-1
    """
    # BEGIN SOLUTION hint: §3.2: negative ids of the given shape, drawn exactly as the docstring pins
    rng = np.random.default_rng(seed)
    negatives = rng.choice(len(probs), size=shape, p=probs).astype(np.int64)
    # END SOLUTION
    return negatives


def sgns_loss(W_in, W_out, centers, contexts, negatives):
    """Skip-gram negative-sampling loss, averaged over a batch, and its gradients (handout §3.3).

    For example b with centre c = centers[b], context o = contexts[b] and
    negatives s_1 .. s_S = negatives[b], with v = W_in[c] and u_w = W_out[w]:

        loss_b = -log sigmoid(u_o . v) - sum_s log sigmoid(-u_{s} . v)
        loss = mean over b of loss_b

    The gradients are with respect to the full matrices: the centre's input
    vector gets the gradient of every term, the context's output vector AND
    every negative's output vector get theirs. A word that appears several
    times (in several examples, or as a negative twice) accumulates all its
    gradients.

    Inputs:
    - W_in: input vectors (V, E)
    - W_out: output vectors (V, E)
    - centers: int array (B,)
    - contexts: int array (B,)
    - negatives: int array (B, S)

    Returns a tuple of:
    - loss: float
    - dW_in: (V, E)
    - dW_out: (V, E)
    """
    # BEGIN SOLUTION hint: §3.3: the batch's mean loss (a float) and its gradients dW_in (V, E) and dW_out (V, E)
    B = len(centers)
    v = W_in[centers]  # (B, E)
    u_o = W_out[contexts]  # (B, E)
    u_s = W_out[negatives]  # (B, S, E)
    pos = np.sum(u_o * v, axis=1)  # (B,)
    neg = np.einsum("bse,be->bs", u_s, v)  # (B, S)
    loss = (np.sum(np.logaddexp(0.0, -pos)) + np.sum(np.logaddexp(0.0, neg))) / B
    g_pos = (sigmoid(pos) - 1.0) / B  # d loss / d pos
    g_neg = sigmoid(neg) / B  # d loss / d neg
    dv = g_pos[:, None] * u_o + np.einsum("bs,bse->be", g_neg, u_s)
    du_o = g_pos[:, None] * v
    du_s = g_neg[:, :, None] * v[:, None, :]
    dW_in = np.zeros_like(W_in, dtype=np.float64)
    dW_out = np.zeros_like(W_out, dtype=np.float64)
    np.add.at(dW_in, centers, dv)
    np.add.at(dW_out, contexts, du_o)
    np.add.at(dW_out, negatives, du_s)
    loss = float(loss)
    # END SOLUTION
    return loss, dW_in, dW_out


def cbow_loss(W_in, W_out, contexts, centers):
    """Continuous bag of words: the centre word from the mean of its context vectors (§3.4).

    For example b: h_b = mean over k of W_in[contexts[b, k]], scores_b = W_out @ h_b
    (one score per word of the vocabulary), and the loss is the softmax
    cross-entropy of the true centre word, averaged over the batch:

        loss = mean over b of ( -scores_b[centers[b]] + log sum_w exp(scores_b[w]) )

    Inputs:
    - W_in: input vectors (V, E)
    - W_out: output vectors (V, E)
    - contexts: int array (B, C), the C context words of every example
    - centers: int array (B,)

    Returns a tuple of:
    - loss: float
    - h: (B, E), the averaged context vectors
    - scores: (B, V)
    """
    # BEGIN SOLUTION hint: §3.4: the batch's mean loss (a float), the averaged context vectors h (B, E) and the scores (B, V)
    h = W_in[contexts].mean(axis=1)
    scores = h @ W_out.T
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-np.mean(log_probs[np.arange(len(centers)), centers]))
    # END SOLUTION
    return loss, h, scores


def cosine_nearest_neighbours(E, queries, k):
    """The k nearest neighbours of some words by cosine similarity, the word itself excluded.

    Inputs:
    - E: embeddings (V, E_dim), no zero rows
    - queries: int array (Q,), word ids
    - k: int, 1 <= k < V

    Returns:
    - neighbours: int64 array (Q, k); neighbours[q] are the k word ids other
      than queries[q] with the largest cosine similarity to it, most similar first
    """
    # BEGIN SOLUTION hint: §3.5: the k nearest neighbours (Q, k) of every query, most similar first, the query excluded
    unit = E / np.linalg.norm(E, axis=1, keepdims=True)
    sims = unit[queries] @ unit.T
    sims[np.arange(len(queries)), queries] = -np.inf
    neighbours = np.argsort(-sims, axis=1, kind="stable")[:, :k].astype(np.int64)
    # END SOLUTION
    return neighbours


def train_skipgram(token_ids, vocab_size, embed_dim=16, window=2, num_negatives=5, epochs=5,
                   lr=0.05, batch_size=64, seed=0):
    """Train skip-gram with negative sampling by minibatch SGD; return the input vectors.

    Follow this recipe step by step: the hidden tests replay it on a small corpus
    and compare the returned W_in with theirs (handout §3.6).
    - rng = np.random.default_rng(seed); W_in = (rng.random((vocab_size,
      embed_dim)) - 0.5) / embed_dim; W_out = zeros (as in word2vec);
    - the pairs of skipgram_pairs(token_ids, window); the noise distribution
      negative_sampling_distribution(np.bincount(token_ids, minlength=vocab_size), 0.75);
    - every epoch, order = rng.permutation(number of pairs); the minibatches are
      the pairs order[0:batch_size], order[batch_size:2 * batch_size], ... (the
      last one may be shorter);
    - minibatch number k (counting from 0 over all epochs) draws its negatives
      with sample_negatives(probs, (len(batch), num_negatives), seed * 100003 + k);
    - W_in -= lr * len(batch) * dW_in and W_out -= lr * len(batch) * dW_out, both
      with the gradients of sgns_loss at the same W_in and W_out (sgns_loss
      averages over the batch, so lr is the step per example).

    Inputs:
    - token_ids: int array (L,), the corpus
    - vocab_size: V
    - the rest: hyperparameters

    Returns:
    - W_in: float64 (V, embed_dim), the learnt word vectors
    """
    # BEGIN SOLUTION hint: §3.6: the input vectors W_in (V, embed_dim) after training, deterministic under seed
    rng = np.random.default_rng(seed)
    W_in = (rng.random((vocab_size, embed_dim)) - 0.5) / embed_dim
    W_out = np.zeros((vocab_size, embed_dim))
    pairs = skipgram_pairs(token_ids, window)
    counts = np.bincount(token_ids, minlength=vocab_size)
    probs = negative_sampling_distribution(counts, 0.75)
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(pairs))
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start : start + batch_size]]
            negatives = sample_negatives(probs, (len(batch), num_negatives), seed * 100003 + step)
            _, dW_in, dW_out = sgns_loss(W_in, W_out, batch[:, 0], batch[:, 1], negatives)
            W_in -= lr * len(batch) * dW_in
            W_out -= lr * len(batch) * dW_out
            step += 1
    # END SOLUTION
    return W_in


def cbow_ns_loss(W_in, W_out, contexts, centers, negatives):
    """CBOW with negative sampling: the mean loss over a batch and its gradients (handout §3.7).

    Example b has the C context words contexts[b], the centre c = centers[b] and the
    negatives negatives[b]; h_b is the mean of the input vectors of its context words.
    The loss is §3.3's with h_b in the place of the centre's input vector, and the centre
    predicted from the context: u_c against the output vectors of the S negatives.

    Gradients are with respect to the full matrices; a word that occurs several times in
    the batch (as a context, a centre or a negative) accumulates all its gradients.

    Inputs:
    - W_in: input vectors (V, E)
    - W_out: output vectors (V, E)
    - contexts: int array (B, C)
    - centers: int array (B,)
    - negatives: int array (B, S)

    Returns a tuple of:
    - loss: float
    - dW_in: (V, E)
    - dW_out: (V, E)
    """
    # BEGIN SOLUTION hint: §3.7: the batch's mean loss (a float) and its gradients dW_in (V, E) and dW_out (V, E)
    C = contexts.shape[1]
    h = W_in[contexts].mean(axis=1)  # (B, E)
    loss, dh, dW_out = sgns_loss(h, W_out, np.arange(len(centers)), centers, negatives)
    dW_in = np.zeros_like(W_in, dtype=np.float64)
    np.add.at(dW_in, contexts, dh[:, None, :] / C)
    # END SOLUTION
    return loss, dW_in, dW_out


def train_cbow(token_ids, vocab_size, embed_dim=32, window=2, num_negatives=5, epochs=2, lr=0.2,
               batch_size=128, seed=0):
    """Train CBOW with negative sampling by minibatch SGD; return both matrices (§3.8).

    The examples are the positions i with a full window, window <= i < L - window: the
    contexts of position i are the 2 * window words around it (i - window .. i + window,
    i itself excluded), in that order, and the centre is token_ids[i].

    Suggested recipe (you may change it, but keep it deterministic under ``seed`` and
    fast: a few seconds on the graders' text): W_in ~ uniform(-0.5, 0.5) / embed_dim,
    W_out = zeros; the examples shuffled every epoch; num_negatives negatives per example
    from the noise distribution of the corpus counts; W -= lr * batch_size * dW with the
    gradients of cbow_ns_loss.

    Inputs:
    - token_ids: int array (L,), the corpus
    - vocab_size: V
    - the rest: hyperparameters

    Returns a tuple of:
    - W_in: float64 (V, embed_dim), the input (context) vectors
    - W_out: float64 (V, embed_dim), the output (centre) vectors
    """
    # BEGIN SOLUTION hint: §3.8: the trained (W_in, W_out), each (V, embed_dim), deterministic under seed
    rng = np.random.default_rng(seed)
    token_ids = np.asarray(token_ids, dtype=np.int64)
    W_in = (rng.random((vocab_size, embed_dim)) - 0.5) / embed_dim
    W_out = np.zeros((vocab_size, embed_dim))
    positions = np.arange(window, len(token_ids) - window)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    contexts = token_ids[positions[:, None] + offsets]
    centers = token_ids[positions]
    probs = negative_sampling_distribution(np.bincount(token_ids, minlength=vocab_size), 0.75)
    for _ in range(epochs):
        order = rng.permutation(len(centers))
        for start in range(0, len(centers), batch_size):
            batch = order[start : start + batch_size]
            negatives = rng.choice(vocab_size, size=(len(batch), num_negatives), p=probs)
            _, dW_in, dW_out = cbow_ns_loss(W_in, W_out, contexts[batch], centers[batch], negatives)
            W_in -= lr * len(batch) * dW_in
            W_out -= lr * len(batch) * dW_out
    # END SOLUTION
    return W_in, W_out
