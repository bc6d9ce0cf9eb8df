"""Public tests for glove.py and fasttext.py: co-occurrences, the GloVe loss, n-grams, hashing."""

import numpy as np
import pytest


@pytest.mark.points(1)
def test_cooccurrence_matrix(submission, check):
    """cooccurrence_matrix adds 1/distance for every pair within the window, the centre excluded."""
    X = submission.glove.cooccurrence_matrix(np.array([0, 1, 2, 1, 0]), 3, 2)
    # at distance 1: 0-1, 1-2, 2-1, 1-0; at distance 2: 0-2, 1-1, 2-0 (each pair in both orders)
    expected = np.array([[0.0, 2.0, 1.0], [2.0, 1.0, 2.0], [1.0, 2.0, 0.0]])
    check.numpy_close(X, expected, name="cooccurrence_matrix([0, 1, 2, 1, 0], 3, 2)")
    tokens = np.array([0, 1, 2, 1, 3, 0, 2, 2, 4])
    X = submission.glove.cooccurrence_matrix(tokens, 5, 3)
    check.numpy_array(X, (5, 5), "cooccurrence_matrix(tokens, 5, 3)")
    check.numpy_close(X, X.T, name="cooccurrence_matrix(tokens, 5, 3) against its transpose")
    # L positions: 2 (L - d) pairs at every distance d, each weighing 1 / d
    check.scalar_close(X.sum(), sum(2 * (9 - d) / d for d in (1, 2, 3)),
                       name="the total weight of cooccurrence_matrix(tokens, 5, 3)")


@pytest.mark.points(1)
def test_glove_weight(submission, oracle, check):
    """glove_weight is (x / x_max) ** alpha, capped at 1."""
    X = np.array([[0.0, 1.0, 5.0], [50.0, 99.0, 100.0], [150.0, 1000.0, 0.5]])
    check.numpy_close(submission.glove.glove_weight(X, 100.0, 0.75), oracle.glove_weight(X, 100.0, 0.75),
                      name="glove_weight(X)")


@pytest.mark.points(1)
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


# "where"'s n-grams (3 to 6 characters) and their buckets modulo 1000 (FNV-1a)
WHERE_NGRAMS = ["<wh", "<whe", "<wher", "<where", "whe", "wher", "where", "where>", "her", "here",
                "here>", "ere", "ere>", "re>"]
WHERE_BUCKETS = [652, 715, 707, 586, 941, 621, 176, 234, 420, 811, 991, 33, 469, 498]


@pytest.mark.points(1)
def test_char_ngrams(submission):
    """char_ngrams lists the 3..6-grams of "<word>", with the boundary markers."""
    expected = {"where": WHERE_NGRAMS, "cat": ["<ca", "<cat", "<cat>", "cat", "cat>", "at>"]}
    for word, ngrams in expected.items():
        got = submission.fasttext.char_ngrams(word, 3, 6)
        assert list(got) == ngrams, f"char_ngrams({word!r}) is wrong"


@pytest.mark.points(1)
def test_fnv1a_and_buckets(submission, oracle, check):
    """fnv1a_hash is 32-bit FNV-1a and ngram_buckets hashes every n-gram modulo the bucket count."""
    published = {"b": 0xE70C2DE5, "fo": 0x6222E842, "foo": 0xA9F37ED7}  # FNV-1a's test vectors
    for text, value in published.items():
        assert submission.fasttext.fnv1a_hash(text) == value, f"fnv1a_hash({text!r}) is wrong"
    for text in ("<wh", "here>", "abc"):
        assert submission.fasttext.fnv1a_hash(text) == oracle.fnv1a(text), f"fnv1a_hash({text!r}) is wrong"
    check.numpy_equal(submission.fasttext.ngram_buckets("where", 1000, 3, 6), np.array(WHERE_BUCKETS),
                      name="ngram_buckets('where', 1000)")


@pytest.mark.points(1)
def test_word_vector(submission, rng, check):
    """word_vector of a known word is its own vector plus the sum of its n-gram vectors."""
    vocab = {"there": 0, "where": 1}
    word_vectors, ngram_vectors = rng.standard_normal((2, 4)), rng.standard_normal((1000, 4))
    got = submission.fasttext.word_vector("where", vocab, word_vectors, ngram_vectors, 3, 6)
    check.numpy_close(got, word_vectors[1] + ngram_vectors[WHERE_BUCKETS].sum(axis=0),
                      name="word_vector('where')")
    # with your own ngram_buckets, which test_fnv1a_and_buckets grades
    buckets = submission.fasttext.ngram_buckets("there", 1000, 3, 6)
    got = submission.fasttext.word_vector("there", vocab, word_vectors, ngram_vectors, 3, 6)
    check.numpy_close(got, word_vectors[0] + ngram_vectors[buckets].sum(axis=0), name="word_vector('there')")


@pytest.mark.points(1)
def test_fasttext_loss_gradients(submission, rng, oracle, check):
    """fasttext_loss: the input vector is the word's own plus its n-grams'; loss and all gradients match autograd."""
    V, NB, E = 5, 12, 3
    word_vectors, W_out = 0.5 * rng.standard_normal((V, E)), 0.5 * rng.standard_normal((V, E))
    ngram_vectors = 0.5 * rng.standard_normal((NB, E))
    buckets = [rng.integers(NB, size=n) for n in (3, 5, 2, 4, 6)]
    centers, contexts = rng.integers(V, size=4), rng.integers(V, size=4)
    negatives = rng.integers(V, size=(4, 2))
    got = submission.fasttext.fasttext_loss(word_vectors, ngram_vectors, W_out, buckets, centers, contexts,
                                            negatives)
    assert isinstance(got, (tuple, list)) and len(got) == 4, (
        "fasttext_loss must return (loss, d_word_vectors, d_ngram_vectors, dW_out)")
    expected = oracle.fasttext_ns(word_vectors, ngram_vectors, W_out, buckets, centers, contexts, negatives)
    check.scalar_close(got[0], expected[0], name="loss")
    for name, value, ref in zip(("d_word_vectors", "d_ngram_vectors", "dW_out"), got[1:], expected[1:],
                                strict=True):
        check.numpy_close(value, ref, name=name)


@pytest.mark.points(3)
def test_train_fasttext_unseen_words(submission, oracle, check, shakespeare):
    """train_fasttext on Shakespeare: words never seen in training find a relative by their n-grams (>= 0.65)."""
    words, E = shakespeare.fasttext_words, shakespeare.FASTTEXT["embed_dim"]
    lo, hi = shakespeare.NGRAMS
    # seed 0: the bar was tuned on this training run
    out = submission.fasttext.train_fasttext(shakespeare.fasttext_train_ids(), words, min_n=lo, max_n=hi,
                                             seed=0, **shakespeare.FASTTEXT)
    assert isinstance(out, (tuple, list)) and len(out) == 3, (
        "train_fasttext must return (word_vectors, ngram_vectors, W_out)")
    for name, W, rows in zip(("word_vectors", "ngram_vectors", "W_out"), out,
                             (len(words), shakespeare.FASTTEXT["num_buckets"], len(words)), strict=True):
        check.numpy_array(W, (rows, E), f"train_fasttext's {name}")
    found = oracle.unseen_relatives_found(out[0], out[1], shakespeare)
    assert found >= shakespeare.FASTTEXT_BAR, (
        f"{found:.2f} of the unseen words have a relative among their 5 nearest words, below "
        f"{shakespeare.FASTTEXT_BAR} (n-gram vectors at their random start: at most 0.6)")
