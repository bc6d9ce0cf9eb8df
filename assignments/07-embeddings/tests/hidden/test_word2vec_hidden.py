"""Hidden tests for word2vec.py: window edges, the noise distribution, pinned sampling,
repeated words in SGNS, numerical gradients, CBOW's stability, neighbours, training."""

import numpy as np
import pytest

from autograder.testing import numerical_gradient


def _sorted_rows(pairs):
    pairs = np.asarray(pairs)
    return pairs[np.lexsort(pairs.T[::-1])] if len(pairs) else pairs


@pytest.mark.points(1)
def test_skipgram_pairs_edges(submission, oracle, check):
    """skipgram_pairs at the corpus edges, with a window wider than the corpus, repeated words, one word."""
    cases = ((np.array([2, 2, 5, 2]), 1), (np.array([4, 0, 1]), 5), (np.array([7]), 2),
             (np.array([1, 2, 3, 4, 5, 6, 7]), 3))
    for tokens, window in cases:
        pairs = submission.word2vec.skipgram_pairs(tokens, window)
        expected = oracle.skipgram_pairs(tokens, window)
        name = f"skipgram_pairs({tokens.tolist()}, {window})"
        check.numpy_array(pairs, expected.shape, name, dtype="integer")
        assert np.array_equal(_sorted_rows(pairs), _sorted_rows(expected)), f"{name} has the wrong pairs"


@pytest.mark.points(2)
def test_negative_sampling_distribution_power_and_zeros(submission, check):
    """The noise distribution gives unseen words probability 0 and follows other powers too."""
    counts = np.array([0, 1, 16, 81, 256, 0])
    for power in (0.75, 0.5, 1.0):
        expected = counts.astype(float) ** power / np.sum(counts.astype(float) ** power)
        check.numpy_close(submission.word2vec.negative_sampling_distribution(counts, power), expected,
                          name=f"negative_sampling_distribution(counts, {power})")


@pytest.mark.points(1)
def test_sample_negatives_pinned_seed_not_uniform(submission, check, seed):
    """sample_negatives uses default_rng(seed).choice(V, size, p=probs) exactly, so rare words are rare."""
    counts = np.array([1000, 300, 50, 5, 1, 1, 1, 1])
    probs = counts**0.75 / np.sum(counts**0.75)
    draws = submission.word2vec.sample_negatives(probs, (50, 40), seed)
    expected = np.random.default_rng(seed).choice(8, size=(50, 40), p=probs)
    check.numpy_equal(draws, expected, name="sample_negatives(probs, (50, 40), seed)")
    assert np.mean(draws >= 4) < 0.05, "words with count 1 are drawn far too often (uniform sampling?)"


@pytest.mark.points(2)
def test_sgns_gradients_repeated_words(submission, rng, oracle, check):
    """sgns_loss accumulates the gradients of a word used several times (centre, context, negative)."""
    V, E = 4, 3
    W_in, W_out = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    centers = np.array([0, 0, 1, 2])
    contexts = np.array([1, 1, 0, 3])
    negatives = np.array([[2, 2, 0], [3, 1, 1], [0, 0, 0], [2, 1, 2]])
    loss, dW_in, dW_out = submission.word2vec.sgns_loss(W_in, W_out, centers, contexts, negatives)
    ref_loss, ref_in, ref_out = oracle.sgns(W_in, W_out, centers, contexts, negatives)
    check.scalar_close(loss, ref_loss, name="loss")
    check.numpy_close(dW_in, ref_in, name="dW_in")
    check.numpy_close(dW_out, ref_out, name="dW_out")


@pytest.mark.points(2)
def test_sgns_negative_output_vectors_get_gradients(submission, rng, oracle, check):
    """Words used only as negatives get their output-vector gradient, sigmoid(u_s.v) * v."""
    V, E = 6, 2
    W_in, W_out = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    centers, contexts, negatives = np.array([0]), np.array([1]), np.array([[4, 5]])
    _, _, dW_out = submission.word2vec.sgns_loss(W_in, W_out, centers, contexts, negatives)
    v = W_in[0]
    for s in (4, 5):
        expected = v / (1 + np.exp(-W_out[s] @ v))
        check.numpy_close(np.asarray(dW_out)[s], expected, name=f"dW_out[{s}]")
    check.numpy_close(dW_out, oracle.sgns(W_in, W_out, centers, contexts, negatives)[2], name="dW_out")


@pytest.mark.points(2)
def test_sgns_numerical_gradient(submission, rng, oracle, check):
    """sgns_loss's loss is the mean SGNS loss, and its gradients match central differences of it."""
    V, E, B, S = 5, 3, 3, 2
    W_in, W_out = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    c, o, neg = rng.integers(V, size=B), rng.integers(V, size=B), rng.integers(V, size=(B, S))
    loss, dW_in, dW_out = submission.word2vec.sgns_loss(W_in, W_out, c, o, neg)
    # the loss itself first: zeros for the loss and both gradients are consistent with each other
    check.scalar_close(loss, oracle.sgns(W_in, W_out, c, o, neg)[0], name="loss")
    num_in = numerical_gradient(lambda W: submission.word2vec.sgns_loss(W, W_out, c, o, neg)[0], W_in)
    num_out = numerical_gradient(lambda W: submission.word2vec.sgns_loss(W_in, W, c, o, neg)[0], W_out)
    check.numpy_close(dW_in, num_in, name="dW_in", tol="numerical_gradient")
    check.numpy_close(dW_out, num_out, name="dW_out", tol="numerical_gradient")


@pytest.mark.points(2)
def test_cbow_loss_large_scores_and_repeats(submission, rng, oracle, check):
    """cbow_loss stays finite for large scores and averages repeated context words."""
    V, E = 12, 5
    W_in, W_out = 20 * rng.standard_normal((V, E)), 20 * rng.standard_normal((V, E))
    contexts = np.array([[1, 1, 1, 2], [3, 4, 5, 6], [0, 0, 11, 11]])
    centers = np.array([2, 9, 0])
    check.cbow_matches(submission.word2vec.cbow_loss(W_in, W_out, contexts, centers),
                       oracle.cbow(W_in, W_out, contexts, centers))


@pytest.mark.points(1)
def test_cosine_nearest_neighbours(submission, rng, oracle, check):
    """cosine_nearest_neighbours matches a brute-force search, by cosine (not Euclidean) similarity."""
    E = rng.standard_normal((30, 4)) * rng.uniform(0.1, 10, size=(30, 1))
    queries = np.array([0, 5, 17, 29])
    check.numpy_equal(submission.word2vec.cosine_nearest_neighbours(E, queries, 3),
                      oracle.nearest(E, queries, 3), name="cosine_nearest_neighbours(E, queries, 3)")


@pytest.mark.points(1)
def test_skipgram_planted_neighbours_heldout(submission, oracle, check):
    """train_skipgram on another planted corpus and seed: the planted synonyms are nearest neighbours."""
    tokens, V = oracle.planted_corpus(seed=7, sentences=1500)
    E = submission.word2vec.train_skipgram(tokens, V, embed_dim=16, seed=3)
    check.numpy_array(E, (V, 16), "train_skipgram(..., embed_dim=16)")
    check.planted_pairs_are_neighbours(E, 8, "train_skipgram")


@pytest.mark.points(1)
def test_train_skipgram_replays_the_recipe(submission, rng, seed, oracle, check):
    """train_skipgram follows its docstring's recipe: W_in after two epochs on a small corpus equals a replay."""
    V = 7
    tokens = rng.integers(V, size=40)
    tokens[:V] = np.arange(V)  # every word occurs, so every word can be a negative
    args = {"embed_dim": 4, "window": 2, "num_negatives": 3, "epochs": 2, "lr": 0.1, "batch_size": 16}
    W_in = submission.word2vec.train_skipgram(tokens, V, seed=seed, **args)
    check.numpy_close(W_in, oracle.skipgram_training(tokens, V, seed=seed, **args),
                      name="train_skipgram's W_in after 2 epochs of the recipe")


@pytest.mark.points(2)
def test_cbow_ns_numerical_gradient(submission, rng, oracle, check):
    """cbow_ns_loss with repeated words: the loss, then gradients against central differences of it."""
    V, E = 6, 3
    W_in, W_out = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    contexts = np.array([[0, 0, 1, 2], [3, 4, 4, 4], [5, 1, 0, 2]])
    centers = np.array([1, 0, 1])
    negatives = np.array([[2, 2], [1, 5], [0, 0]])
    loss, dW_in, dW_out = submission.word2vec.cbow_ns_loss(W_in, W_out, contexts, centers, negatives)
    check.scalar_close(loss, oracle.cbow_ns(W_in, W_out, contexts, centers, negatives)[0], name="loss")
    num_in = numerical_gradient(
        lambda W: submission.word2vec.cbow_ns_loss(W, W_out, contexts, centers, negatives)[0], W_in)
    num_out = numerical_gradient(
        lambda W: submission.word2vec.cbow_ns_loss(W_in, W, contexts, centers, negatives)[0], W_out)
    check.numpy_close(dW_in, num_in, name="dW_in", tol="numerical_gradient")
    check.numpy_close(dW_out, num_out, name="dW_out", tol="numerical_gradient")


@pytest.mark.points(3)
def test_train_cbow_shakespeare_heldout(submission, seed, rng, oracle, check, shakespeare):
    """train_cbow on Shakespeare with another seed: held-out centre words beat other noise words."""
    V, cfg = len(shakespeare.vocab), shakespeare.CBOW
    out = submission.word2vec.train_cbow(shakespeare.cbow_train_ids(), V, seed=seed % 10_000, **cfg)
    assert isinstance(out, (tuple, list)) and len(out) == 2, "train_cbow must return (W_in, W_out)"
    for name, W in zip(("W_in", "W_out"), out, strict=True):
        check.numpy_array(W, (V, cfg["embed_dim"]), f"train_cbow's {name}")
    accuracy = oracle.cbow_ranking_accuracy(*out, shakespeare, rng)
    assert accuracy >= shakespeare.CBOW_BAR, "held-out centre words do not beat the noise words often enough"
