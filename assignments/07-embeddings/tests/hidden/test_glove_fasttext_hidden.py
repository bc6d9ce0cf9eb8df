"""Hidden tests for glove.py and fasttext.py: co-occurrence edges, the weight's cap, gradients,
training, n-gram boundaries, the hash, out-of-vocabulary words."""

import numpy as np
import pytest

from autograder.testing import numerical_gradient


@pytest.mark.points(1)
def test_cooccurrence_edges(submission, oracle, check):
    """cooccurrence_matrix with a window wider than the corpus, a repeated word, and window 1."""
    for tokens, V, window in ((np.array([1, 1, 0, 1]), 3, 10), (np.array([2, 0, 2, 2, 1]), 4, 1),
                              (np.array([3]), 4, 2)):
        X = submission.glove.cooccurrence_matrix(tokens, V, window)
        check.numpy_close(X, oracle.cooccurrence(tokens, V, window),
                          name=f"cooccurrence_matrix({tokens.tolist()}, {V}, {window})")


@pytest.mark.points(1)
def test_glove_weight_capped_at_one(submission, oracle, check):
    """glove_weight is exactly 1 from x_max on, 0 at 0, and follows other x_max and alpha."""
    X = np.array([0.0, 0.1, 9.99, 10.0, 10.01, 500.0])
    for x_max, alpha in ((10.0, 0.75), (10.0, 0.5), (100.0, 1.0)):
        check.numpy_close(submission.glove.glove_weight(X, x_max, alpha), oracle.glove_weight(X, x_max, alpha),
                          name=f"glove_weight(X, {x_max}, {alpha})")


@pytest.mark.points(2)
def test_glove_numerical_gradients_sparse(submission, rng, oracle, check):
    """glove_loss on a sparse matrix (zeros skipped, no nan) matches autograd and central differences."""
    V, E = 5, 2
    X = np.where(rng.random((V, V)) < 0.4, rng.random((V, V)) * 30 + 0.5, 0.0)
    X[0, 1], X[2, 2], X[3, :] = 250.0, 0.0, 0.0
    W, W_ctx = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    b, b_ctx = rng.standard_normal(V), rng.standard_normal(V)
    loss, grads = submission.glove.glove_loss(W, W_ctx, b, b_ctx, X, 20.0, 0.75)
    ref_loss, ref_grads = oracle.glove(W, W_ctx, b, b_ctx, X, 20.0, 0.75)
    check.scalar_close(loss, ref_loss, name="loss")
    for k, v in ref_grads.items():
        check.numpy_close(grads[k], v, name=f"grads[{k!r}]")
    num = numerical_gradient(lambda Wc: submission.glove.glove_loss(W, Wc, b, b_ctx, X, 20.0, 0.75)[0], W_ctx)
    check.numpy_close(grads["W_ctx"], num, name="grads['W_ctx'] (numerical)",
                      tol="glove_numerical_gradient")


@pytest.mark.points(1)
def test_glove_planted_neighbours(submission, oracle, check):
    """train_glove on the planted corpus's co-occurrences: every planted synonym is the other's nearest."""
    tokens, V = oracle.planted_corpus(seed=1, sentences=20000)
    X = oracle.cooccurrence(tokens, V, 2)
    E = submission.glove.train_glove(X, embed_dim=10, seed=0)
    # (V, embed_dim): the rows of X itself are (V, V) vectors whose nearest neighbours are planted
    check.numpy_array(E, (V, 10), "train_glove(X, embed_dim=10)")
    check.planted_pairs_are_neighbours(E, 8, "train_glove")


@pytest.mark.points(1)
def test_train_glove_replays_adagrad(submission, rng, seed, oracle, check):
    """train_glove follows its docstring's recipe: W + W_ctx after 3 AdaGrad steps on small counts equals a replay."""
    V = 6
    X = oracle.cooccurrence(rng.integers(V, size=40), V, 2)
    args = {"embed_dim": 3, "epochs": 3, "lr": 0.05, "x_max": 2.0, "alpha": 0.75}
    vectors = submission.glove.train_glove(X, seed=seed, **args)
    check.numpy_close(vectors, oracle.glove_training(X, seed=seed, **args),
                      name="train_glove's W + W_ctx after 3 AdaGrad steps")


@pytest.mark.points(1)
def test_char_ngrams_boundaries_and_ranges(submission, oracle):
    """char_ngrams for a one-letter word, a long word, other n ranges and non-ASCII letters."""
    for word, lo, hi in (("a", 3, 6), ("a", 1, 2), ("internationalisation", 3, 6), ("über", 2, 4),
                         ("go", 3, 3)):
        got = submission.fasttext.char_ngrams(word, lo, hi)
        assert list(got) == oracle.ngrams(word, lo, hi), f"char_ngrams({word!r}, {lo}, {hi}) is wrong"


@pytest.mark.points(1)
def test_fnv1a_known_values(submission, oracle):
    """fnv1a_hash gives the published FNV-1a values ("" -> 0x811c9dc5, "a" -> 0xe40c292c) and UTF-8 bytes."""
    known = {"": 0x811C9DC5, "a": 0xE40C292C, "foobar": 0xBF9CF968}
    for text, value in known.items():
        assert submission.fasttext.fnv1a_hash(text) == value, f"fnv1a_hash({text!r}) is wrong"
    for text in ("<über>", "ngram>", "<x"):
        assert submission.fasttext.fnv1a_hash(text) == oracle.fnv1a(text), f"fnv1a_hash({text!r}) is wrong"


@pytest.mark.points(2)
def test_out_of_vocabulary_word_vector(submission, rng, oracle, check):
    """An unknown word's vector is the sum of its n-gram vectors; it is close to a word sharing n-grams."""
    vocab = {"walking": 0, "talked": 1, "dog": 2}
    word_vectors, ngram_vectors = rng.standard_normal((3, 6)), rng.standard_normal((2000, 6))
    for word in ("walked", "xy", "dog"):
        got = submission.fasttext.word_vector(word, vocab, word_vectors, ngram_vectors, 3, 6)
        check.numpy_close(got, oracle.fasttext_vector(word, vocab, word_vectors, ngram_vectors),
                          name=f"word_vector({word!r})")
    got = submission.fasttext.word_vector("ab", {}, word_vectors, ngram_vectors, 5, 6)
    check.numpy_close(got, np.zeros(6), name="word_vector of a word without n-grams")


@pytest.mark.points(2)
def test_fasttext_loss_numerical_gradient(submission, rng, oracle, check):
    """fasttext_loss with shared and repeated buckets and a word without n-grams: loss, autograd, central differences."""
    V, NB, E = 4, 6, 2
    word_vectors, W_out = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    ngram_vectors = rng.standard_normal((NB, E))
    buckets = [np.array([0, 1, 1]), np.array([1, 2, 5, 5]), np.array([], dtype=np.int64), np.array([3])]
    centers, contexts = np.array([0, 1, 2, 1]), np.array([1, 3, 0, 2])
    negatives = np.array([[2, 3], [0, 0], [1, 3], [2, 2]])
    args = (buckets, centers, contexts, negatives)
    loss, d_word, d_ngram, dW_out = submission.fasttext.fasttext_loss(word_vectors, ngram_vectors, W_out, *args)
    ref = oracle.fasttext_ns(word_vectors, ngram_vectors, W_out, *args)
    check.scalar_close(loss, ref[0], name="loss")
    check.numpy_close(d_word, ref[1], name="d_word_vectors")
    check.numpy_close(d_ngram, ref[2], name="d_ngram_vectors")
    check.numpy_close(dW_out, ref[3], name="dW_out")
    num = numerical_gradient(
        lambda W: submission.fasttext.fasttext_loss(word_vectors, W, W_out, *args)[0], ngram_vectors)
    check.numpy_close(d_ngram, num, name="d_ngram_vectors (numerical)", tol="numerical_gradient")


@pytest.mark.points(2)
def test_train_fasttext_unseen_words_other_seed(submission, seed, oracle, check, shakespeare):
    """train_fasttext on Shakespeare with another seed: words never seen in training find a relative."""
    words, cfg = shakespeare.fasttext_words, shakespeare.FASTTEXT
    lo, hi = shakespeare.NGRAMS
    out = submission.fasttext.train_fasttext(shakespeare.fasttext_train_ids(), words, min_n=lo, max_n=hi,
                                             seed=seed % 10_000, **cfg)
    assert isinstance(out, (tuple, list)) and len(out) == 3, (
        "train_fasttext must return (word_vectors, ngram_vectors, W_out)")
    for name, W, rows in zip(("word_vectors", "ngram_vectors", "W_out"), out,
                             (len(words), cfg["num_buckets"], len(words)), strict=True):
        check.numpy_array(W, (rows, cfg["embed_dim"]), f"train_fasttext's {name}")
    found = oracle.unseen_relatives_found(out[0], out[1], shakespeare)
    assert found >= shakespeare.FASTTEXT_BAR, "too few unseen words find a relative by their n-grams"
