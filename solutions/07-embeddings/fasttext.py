"""fastText's subword vectors in numpy: character n-grams with word boundaries,
hashing into buckets, and the vector of a word (in the vocabulary or not).

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
