"""Public tests for hmm.py: forward algorithm, Viterbi, sequence classification."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(3)
def test_forward_short_sequence(submission, rng, oracle, check):
    """forward: log_alpha (T, S) and the log-likelihood match a sum over every state path (T = 5)."""
    pi, A, B = oracle.random_hmm(rng, 3, 4)
    obs = rng.integers(0, 4, size=5)
    log_alpha, ll = submission.hmm.forward(obs, pi, A, B)
    exp_alpha, exp_ll, _, _ = oracle.brute_force(obs, pi, A, B)
    assert_close(log_alpha, exp_alpha, name="log_alpha")
    assert_close(check.scalar(ll, "log_likelihood"), exp_ll, name="log_likelihood")


@pytest.mark.points(2)
def test_viterbi_short_sequence(submission, rng, oracle, check):
    """viterbi returns the most probable state path and its log-probability (T = 6, brute force)."""
    pi, A, B = oracle.random_hmm(rng, 3, 3)
    obs = rng.integers(0, 3, size=6)
    path, log_prob = submission.hmm.viterbi(obs, pi, A, B)
    _, _, best_path, best = oracle.brute_force(obs, pi, A, B)
    check.labels(path, best_path, "viterbi path")
    assert_close(check.scalar(log_prob, "log_prob"), best, name="viterbi log_prob")


@pytest.mark.points(2)
def test_classify_sequences(submission, rng, oracle, check):
    """sequence_log_likelihoods matches a sum over every state path; classify_sequences takes the argmax."""
    hmms = [oracle.random_hmm(rng, 2, 3, concentration=0.7) for _ in range(3)]
    sequences = [
        oracle.sample_hmm(rng, *hmms[c], T)[1] for c, T in [(0, 9), (1, 7), (2, 4), (1, 8)]
    ]
    log_liks = submission.hmm.sequence_log_likelihoods(sequences, hmms)
    expected = np.array([[oracle.brute_force(o, *h)[1] for h in hmms] for o in sequences])
    assert_close(log_liks, expected, name="sequence_log_likelihoods")
    check.labels(
        submission.hmm.classify_sequences(sequences, hmms),
        np.argmax(expected, axis=1),
        "classify_sequences",
    )
