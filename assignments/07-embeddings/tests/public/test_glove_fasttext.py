"""Public tests for glove.py and fasttext.py: co-occurrences, the GloVe loss, n-grams, hashing."""

import numpy as np
import pytest


@pytest.mark.points(2)
def test_cooccurrence_matrix(submission, oracle, check):
    """cooccurrence_matrix adds 1/distance for every pair within the window, the centre excluded."""
    tokens = np.array([0, 1, 2, 1, 3, 0, 2, 2, 4])
    X = submission.glove.cooccurrence_matrix(tokens, 5, 3)
    check.numpy_close(X, oracle.cooccurrence(tokens, 5, 3), name="cooccurrence_matrix(tokens, 5, 3)")


@pytest.mark.points(1)
def test_glove_weight(submission, oracle, check):
    """glove_weight is (x / x_max) ** alpha, capped at 1."""
    X = np.array([[0.0, 1.0, 5.0], [50.0, 99.0, 100.0], [150.0, 1000.0, 0.5]])
    check.numpy_close(submission.glove.glove_weight(X, 100.0, 0.75), oracle.glove_weight(X, 100.0, 0.75),
                      name="glove_weight(X)")


@pytest.mark.points(2)
def test_glove_loss_and_grads(submission, rng, oracle, check):
    """glove_loss over the non-zero counts and its four gradients match autograd."""
    V, E = 6, 3
    X = np.where(rng.random((V, V)) < 0.6, rng.random((V, V)) * 200, 0.0)
    W, W_ctx = 0.3 * rng.standard_normal((V, E)), 0.3 * rng.standard_normal((V, E))
    b, b_ctx = 0.1 * rng.standard_normal(V), 0.1 * rng.standard_normal(V)
    loss, grads = submission.glove.glove_loss(W, W_ctx, b, b_ctx, X, 100.0, 0.75)
    ref_loss, ref_grads = oracle.glove(W, W_ctx, b, b_ctx, X, 100.0, 0.75)
    check.scalar_close(loss, ref_loss, name="loss")
    for k, v in ref_grads.items():
        check.numpy_close(grads[k], v, name=f"grads[{k!r}]")


@pytest.mark.points(1)
def test_char_ngrams(submission, oracle):
    """char_ngrams lists the 3..6-grams of "<word>", with the boundary markers."""
    for word in ("where", "cat"):
        got = submission.fasttext.char_ngrams(word, 3, 6)
        assert list(got) == oracle.ngrams(word, 3, 6), f"char_ngrams({word!r}) is wrong"


@pytest.mark.points(1)
def test_fnv1a_and_buckets(submission, oracle, check):
    """fnv1a_hash is 32-bit FNV-1a and ngram_buckets hashes every n-gram modulo the bucket count."""
    for text in ("<wh", "here>", "abc"):
        assert submission.fasttext.fnv1a_hash(text) == oracle.fnv1a(text), f"fnv1a_hash({text!r}) is wrong"
    expected = np.array([oracle.fnv1a(g) % 1000 for g in oracle.ngrams("where", 3, 6)])
    check.numpy_equal(submission.fasttext.ngram_buckets("where", 1000, 3, 6), expected,
                      name="ngram_buckets('where', 1000)")


@pytest.mark.points(1)
def test_word_vector(submission, rng, oracle, check):
    """word_vector of a known word is its own vector plus the sum of its n-gram vectors."""
    vocab = {"where": 0, "there": 1}
    word_vectors, ngram_vectors = rng.standard_normal((2, 4)), rng.standard_normal((50, 4))
    got = submission.fasttext.word_vector("there", vocab, word_vectors, ngram_vectors, 3, 6)
    check.numpy_close(got, oracle.fasttext_vector("there", vocab, word_vectors, ngram_vectors),
                      name="word_vector('there')")
