"""fastText's subword vectors in numpy: character n-grams with word boundaries,
hashing into buckets, the vector of a word (in the vocabulary or not), and
skip-gram training with subword vectors.

numpy only: torch is not allowed in this file.

Conventions used throughout this file:

- A word is wrapped in boundary markers before its n-grams are taken:
  "where" -> "<where>". The markers tell a prefix ("<wh") from the same letters
  inside a word ("wh").
- E is the embedding size, V the vocabulary size, NB the number of buckets.
- ``vocab`` is a dict word -> row of ``word_vectors`` (V, E); n-gram vectors
  live in ``ngram_vectors`` (NB, E), one row per bucket.
"""

import numpy as np
from word2vec import negative_sampling_distribution, sgns_loss, skipgram_pairs

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def char_ngrams(word, min_n=3, max_n=6):
    """All character n-grams of the word with its boundary markers, min_n <= n <= max_n (§5.1).

    The n-grams of "<" + word + ">" of every length n from min_n to max_n,
    listed by start position, then by length, both increasing. The whole
    "<word>" is one of them when its length is at most max_n (as in fastText).

    Example: char_ngrams("cat", 3, 4) == ["<ca", "<cat", "cat", "cat>", "at>"].

    Inputs:
    - word: str
    - min_n, max_n: ints, 1 <= min_n <= max_n

    Returns:
    - ngrams: list of str
    """
    # BEGIN SOLUTION hint: §5.1: the list of the word's character n-grams, in the docstring's order
    wrapped = "<" + word + ">"
    ngrams = []
    for start in range(len(wrapped)):
        for n in range(min_n, max_n + 1):
            if start + n <= len(wrapped):
                ngrams.append(wrapped[start : start + n])
    # END SOLUTION
    return ngrams


def fnv1a_hash(text):
    """The 32-bit FNV-1a hash of a string's UTF-8 bytes (handout §5.2).

    FNV_OFFSET and FNV_PRIME above are its offset basis and prime.

    Inputs:
    - text: str

    Returns:
    - h: int, 0 <= h < 2**32
    """
    # BEGIN SOLUTION hint: §5.2: the 32-bit FNV-1a hash of the text's UTF-8 bytes, an int
    h = FNV_OFFSET
    for c in text.encode("utf-8"):
        h ^= c
        h = (h * FNV_PRIME) % 2**32
    # END SOLUTION
    return h


def ngram_buckets(word, num_buckets, min_n=3, max_n=6):
    """The bucket of every n-gram of the word: fnv1a_hash(ngram) % num_buckets.

    Inputs:
    - word: str
    - num_buckets: int NB
    - min_n, max_n: as in char_ngrams

    Returns:
    - buckets: int64 array (G,), one per n-gram of char_ngrams(word, min_n, max_n), same order
    """
    # BEGIN SOLUTION hint: §5.2: the bucket (G,) of every n-gram of the word, in the order of char_ngrams
    buckets = np.array([fnv1a_hash(g) % num_buckets for g in char_ngrams(word, min_n, max_n)],
                       dtype=np.int64)
    # END SOLUTION
    return buckets


def word_vector(word, vocab, word_vectors, ngram_vectors, min_n=3, max_n=6):
    """The fastText vector of a word: its own vector plus the sum of its n-gram vectors (§5.3).

    - In the vocabulary: word_vectors[vocab[word]] + sum over its n-grams g of
      ngram_vectors[bucket(g)] (an n-gram that occurs twice counts twice).
    - Out of the vocabulary (not a key of vocab): the sum of its n-gram
      vectors alone; zeros (E,) if it has no n-gram.

    Inputs:
    - word: str
    - vocab: dict str -> int
    - word_vectors: (V, E)
    - ngram_vectors: (NB, E); NB is the number of buckets
    - min_n, max_n: as in char_ngrams

    Returns:
    - vector: float64 (E,)
    """
    # BEGIN SOLUTION hint: §5.3: the word's vector (E,), whether it is in the vocabulary or not
    buckets = ngram_buckets(word, len(ngram_vectors), min_n, max_n)
    vector = ngram_vectors[buckets].sum(axis=0) if len(buckets) else np.zeros(ngram_vectors.shape[1])
    if word in vocab:
        vector = vector + word_vectors[vocab[word]]
    vector = np.asarray(vector, dtype=np.float64)
    # END SOLUTION
    return vector


def fasttext_loss(word_vectors, ngram_vectors, W_out, buckets, centers, contexts, negatives):
    """Skip-gram negative sampling with subword input vectors: the mean loss and its gradients (§5.4).

    The input vector of a centre word w is the SUM of its own vector and the vectors of
    its n-grams' buckets, as in word_vector (§5.3): word_vectors[w] + sum over g in
    buckets[w] of ngram_vectors[g]. With it in the place of W_in[c], the loss is §3.3's.

    Gradients are with respect to the three full matrices; a bucket shared by several
    words, or used twice by one word, accumulates all its gradients.

    Inputs:
    - word_vectors: (V, E)
    - ngram_vectors: (NB, E)
    - W_out: output vectors (V, E)
    - buckets: list of V int arrays; buckets[w] (G_w,) holds the buckets of word w's
      n-grams (possibly none)
    - centers, contexts: int arrays (B,)
    - negatives: int array (B, S)

    Returns a tuple of:
    - loss: float
    - d_word_vectors: (V, E)
    - d_ngram_vectors: (NB, E)
    - dW_out: (V, E)
    """
    # BEGIN SOLUTION hint: §5.4: the batch's mean loss (a float) and the gradients of the three matrices
    centers = np.asarray(centers, dtype=np.int64)
    grams = [np.asarray(buckets[c], dtype=np.int64) for c in centers]
    v = word_vectors[centers] + np.stack([ngram_vectors[g].sum(axis=0) for g in grams])  # (B, E)
    loss, dv, dW_out = sgns_loss(v, W_out, np.arange(len(centers)), contexts, negatives)
    d_word = np.zeros_like(word_vectors, dtype=np.float64)
    np.add.at(d_word, centers, dv)
    d_ngram = np.zeros_like(ngram_vectors, dtype=np.float64)
    np.add.at(d_ngram, np.concatenate(grams), np.repeat(dv, [len(g) for g in grams], axis=0))
    # END SOLUTION
    return loss, d_word, d_ngram, dW_out


def train_fasttext(token_ids, words, num_buckets=10000, embed_dim=32, window=2, num_negatives=5,
                   epochs=1, lr=0.05, batch_size=256, subsample=1e-4, min_n=3, max_n=6, seed=0):
    """Train fastText's skip-gram with subword vectors by minibatch SGD (§5.5).

    Word ``w`` of the corpus is the string ``words[w]``; its buckets are
    ngram_buckets(words[w], num_buckets, min_n, max_n). The examples are the skip-gram
    pairs of §3.1; a word never seen in training gets its vector from the trained
    n-gram vectors alone (§5.3).

    Suggested recipe (you may change it, but keep it deterministic under ``seed`` and
    fast: a few seconds on the graders' text): word and n-gram vectors ~
    uniform(-0.5, 0.5) / embed_dim, W_out = zeros; each epoch keeps a pair with
    probability min(1, sqrt(t / f) + t / f), f its centre's share of the corpus and t =
    ``subsample`` (frequent words are dropped more often), then shuffles the pairs; the
    noise distribution of the corpus counts; every matrix -= lr * batch_size * its
    gradient from fasttext_loss.

    Inputs:
    - token_ids: int array (L,), the corpus, ids in 0 .. len(words) - 1
    - words: list of V str, the vocabulary
    - the rest: hyperparameters

    Returns a tuple of:
    - word_vectors: float64 (V, embed_dim)
    - ngram_vectors: float64 (num_buckets, embed_dim)
    - W_out: float64 (V, embed_dim), the output vectors
    """
    # BEGIN SOLUTION hint: §5.5: the trained (word_vectors, ngram_vectors, W_out), deterministic under seed
    rng = np.random.default_rng(seed)
    token_ids = np.asarray(token_ids, dtype=np.int64)
    V = len(words)
    buckets = [ngram_buckets(w, num_buckets, min_n, max_n) for w in words]
    word_vectors = (rng.random((V, embed_dim)) - 0.5) / embed_dim
    ngram_vectors = (rng.random((num_buckets, embed_dim)) - 0.5) / embed_dim
    W_out = np.zeros((V, embed_dim))
    pairs = skipgram_pairs(token_ids, window)
    counts = np.bincount(token_ids, minlength=V)
    share = counts / counts.sum()
    keep = np.minimum(1.0, np.sqrt(subsample / np.maximum(share, 1e-12)) + subsample / np.maximum(share, 1e-12))
    probs = negative_sampling_distribution(counts, 0.75)
    for _ in range(epochs):
        kept = pairs[rng.random(len(pairs)) < keep[pairs[:, 0]]]
        kept = kept[rng.permutation(len(kept))]
        for start in range(0, len(kept), batch_size):
            batch = kept[start : start + batch_size]
            negatives = rng.choice(V, size=(len(batch), num_negatives), p=probs)
            _, d_word, d_ngram, dW_out = fasttext_loss(word_vectors, ngram_vectors, W_out, buckets,
                                                       batch[:, 0], batch[:, 1], negatives)
            step = lr * len(batch)
            word_vectors -= step * d_word
            ngram_vectors -= step * d_ngram
            W_out -= step * dW_out
    # END SOLUTION
    return word_vectors, ngram_vectors, W_out
