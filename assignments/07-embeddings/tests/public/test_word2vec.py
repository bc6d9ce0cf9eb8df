"""Public tests for word2vec.py: skip-gram pairs, negative sampling, SGNS, CBOW, training."""

import numpy as np
import pytest


def _sorted_rows(pairs):
    pairs = np.asarray(pairs)
    return pairs[np.lexsort(pairs.T[::-1])] if len(pairs) else pairs


def _sgns_problem(rng, V=7, E=4, B=5, S=3):
    W_in = 0.5 * rng.standard_normal((V, E))
    W_out = 0.5 * rng.standard_normal((V, E))
    return (W_in, W_out, rng.integers(V, size=B), rng.integers(V, size=B),
            rng.integers(V, size=(B, S)))


@pytest.mark.points(1)
def test_skipgram_pairs(submission, check):
    """skipgram_pairs lists every (centre, context) pair within the window, the centre excluded."""
    tokens = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    expected = np.array([[3, 1], [3, 4], [1, 3], [1, 4], [1, 1], [4, 3], [4, 1], [4, 1], [4, 5],
                         [1, 1], [1, 4], [1, 5], [1, 9], [5, 4], [5, 1], [5, 9], [5, 2], [9, 1],
                         [9, 5], [9, 2], [9, 6], [2, 5], [2, 9], [2, 6], [6, 9], [6, 2]])
    pairs = submission.word2vec.skipgram_pairs(tokens, 2)
    check.numpy_array(pairs, expected.shape, "skipgram_pairs(tokens, 2)", dtype="integer")
    assert np.array_equal(_sorted_rows(pairs), _sorted_rows(expected)), (
        "skipgram_pairs(tokens, 2) has the wrong pairs"
    )
    # L positions, window w: 2 (L - d) pairs at every distance d = 1 .. w, each in both orders
    tokens = np.arange(11)
    pairs = submission.word2vec.skipgram_pairs(tokens, 3)
    check.numpy_array(pairs, (sum(2 * (11 - d) for d in (1, 2, 3)), 2), "skipgram_pairs(range(11), 3)",
                      dtype="integer")
    assert np.array_equal(_sorted_rows(pairs), _sorted_rows(pairs[:, ::-1])), (
        "skipgram_pairs(range(11), 3): some (centre, context) has no (context, centre)"
    )
    assert np.all((pairs[:, 0] != pairs[:, 1]) & (np.abs(pairs[:, 0] - pairs[:, 1]) <= 3)), (
        "skipgram_pairs(range(11), 3) pairs a word with itself or with a word beyond the window"
    )


@pytest.mark.points(1)
def test_negative_sampling_distribution(submission, check):
    """negative_sampling_distribution is proportional to count ** 0.75 and sums to 1."""
    counts = np.array([100, 10, 1, 50, 7])
    expected = counts**0.75 / np.sum(counts**0.75)
    check.numpy_close(submission.word2vec.negative_sampling_distribution(counts, 0.75), expected,
                      name="negative_sampling_distribution(counts)")


@pytest.mark.points(1)
def test_sample_negatives_statistics(submission, check):
    """sample_negatives draws ids with the frequencies of the given distribution (200000 draws)."""
    probs = np.array([0.5, 0.25, 0.15, 0.07, 0.03])
    draws = submission.word2vec.sample_negatives(probs, (400, 500), 11)
    check.numpy_array(draws, (400, 500), "sample_negatives(probs, (400, 500), seed)", dtype="integer")
    freq = np.bincount(draws.ravel(), minlength=5) / draws.size
    # 5 standard errors of a binomial proportion
    tol = 5 * np.sqrt(probs * (1 - probs) / draws.size)
    assert np.all(np.abs(freq - probs) <= tol), "the sampled frequencies do not follow probs"


@pytest.mark.points(1)
def test_sgns_loss(submission, rng, oracle, check):
    """sgns_loss returns the mean of -log s(u_o.v) - sum_s log s(-u_s.v) over the batch."""
    W_in, W_out, c, o, neg = _sgns_problem(rng)
    loss, _, _ = submission.word2vec.sgns_loss(W_in, W_out, c, o, neg)
    check.scalar_close(loss, oracle.sgns(W_in, W_out, c, o, neg)[0], name="loss")


@pytest.mark.points(2)
def test_sgns_gradients(submission, rng, oracle, check):
    """sgns_loss's dW_in and dW_out (context AND negative output vectors) match autograd."""
    W_in, W_out, c, o, neg = _sgns_problem(rng)
    _, dW_in, dW_out = submission.word2vec.sgns_loss(W_in, W_out, c, o, neg)
    _, ref_in, ref_out = oracle.sgns(W_in, W_out, c, o, neg)
    check.numpy_close(dW_in, ref_in, name="dW_in")
    check.numpy_close(dW_out, ref_out, name="dW_out")


@pytest.mark.points(2)
def test_cbow_loss(submission, rng, oracle, check):
    """cbow_loss averages the context vectors and takes the softmax cross-entropy of the centre word."""
    V, E, B, Cn = 9, 4, 6, 4
    W_in, W_out = rng.standard_normal((V, E)), rng.standard_normal((V, E))
    contexts, centers = rng.integers(V, size=(B, Cn)), rng.integers(V, size=B)
    check.cbow_matches(submission.word2vec.cbow_loss(W_in, W_out, contexts, centers),
                       oracle.cbow(W_in, W_out, contexts, centers))


@pytest.mark.points(2)
def test_skipgram_planted_neighbours(submission, oracle, check):
    """train_skipgram on the planted corpus: every planted synonym is the other's nearest neighbour."""
    tokens, V = oracle.planted_corpus(seed=0, sentences=1500)
    E = submission.word2vec.train_skipgram(tokens, V, embed_dim=16, seed=0)
    check.numpy_array(E, (V, 16), "train_skipgram(..., embed_dim=16)")
    check.planted_pairs_are_neighbours(E, 8, "train_skipgram")


@pytest.mark.points(1)
def test_cbow_ns_loss_gradients(submission, rng, oracle, check):
    """cbow_ns_loss: the mean of the context vectors predicts the centre; loss and gradients match autograd."""
    V, E, B, Cn, S = 8, 3, 5, 4, 3
    W_in, W_out = 0.5 * rng.standard_normal((V, E)), 0.5 * rng.standard_normal((V, E))
    contexts, centers = rng.integers(V, size=(B, Cn)), rng.integers(V, size=B)
    negatives = rng.integers(V, size=(B, S))
    loss, dW_in, dW_out = submission.word2vec.cbow_ns_loss(W_in, W_out, contexts, centers, negatives)
    ref_loss, ref_in, ref_out = oracle.cbow_ns(W_in, W_out, contexts, centers, negatives)
    check.scalar_close(loss, ref_loss, name="loss")
    check.numpy_close(dW_in, ref_in, name="dW_in")
    check.numpy_close(dW_out, ref_out, name="dW_out")


@pytest.mark.points(3)
def test_train_cbow_shakespeare(submission, rng, oracle, check, shakespeare):
    """train_cbow on Shakespeare: with your vectors, held-out centre words beat noise words (>= 0.30)."""
    CBOW, CBOW_BAR = shakespeare.CBOW, shakespeare.CBOW_BAR
    V = len(shakespeare.vocab)
    # seed 0: the bar was tuned on this training run
    out = submission.word2vec.train_cbow(shakespeare.cbow_train_ids(), V, seed=0, **CBOW)
    assert isinstance(out, (tuple, list)) and len(out) == 2, "train_cbow must return (W_in, W_out)"
    for name, W in zip(("W_in", "W_out"), out, strict=True):
        check.numpy_array(W, (V, CBOW["embed_dim"]), f"train_cbow's {name}")
    accuracy = oracle.cbow_ranking_accuracy(*out, shakespeare, rng)
    assert accuracy >= CBOW_BAR, (
        f"held-out centre words beat the noise words {accuracy:.3f} of the time, below {CBOW_BAR} "
        "(choosing the most frequent candidate: 0.21)")
