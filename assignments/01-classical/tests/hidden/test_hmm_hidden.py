"""Hidden tests for hmm.py: long sequences, best paths versus per-step choices."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(3)
def test_forward_long_sequence(submission, rng, oracle, hidden_oracle, check):
    """forward stays finite and exact on a sequence of length 1000."""
    pi, A, B = oracle.random_hmm(rng, 4, 5)
    _, obs = oracle.sample_hmm(rng, pi, A, B, 1000)
    log_alpha, ll = submission.hmm.forward(obs, pi, A, B)
    log_alpha = np.asarray(log_alpha)
    assert np.all(np.isfinite(log_alpha)), "log_alpha is not finite on a sequence of length 1000"
    exp_alpha, exp_ll = hidden_oracle.scaled_forward(obs, pi, A, B)
    assert_close(check.scalar(ll, "log_likelihood"), exp_ll, rtol=1e-9, name="log_likelihood")
    assert_close(log_alpha, exp_alpha, rtol=1e-9, name="log_alpha")


@pytest.mark.points(1)
def test_forward_length_one(submission, rng, oracle, check):
    """forward on a single observation gives log pi + log B[:, o]."""
    pi, A, B = oracle.random_hmm(rng, 3, 2)
    obs = np.array([1])
    log_alpha, ll = submission.hmm.forward(obs, pi, A, B)
    assert_close(log_alpha, (np.log(pi) + np.log(B[:, 1]))[None, :], name="log_alpha")
    assert_close(
        check.scalar(ll, "log_likelihood"), float(np.log(pi @ B[:, 1])), name="log_likelihood"
    )


@pytest.mark.points(2)
def test_viterbi_best_path_not_per_step(submission, oracle, check):
    """viterbi finds the best whole path where the best state of each step is not on it."""
    # Sticky states: state 0 emits symbol 0 and state 1 symbol 1, but a state rarely changes.
    pi = np.array([0.5, 0.5])
    A = np.array([[0.95, 0.05], [0.05, 0.95]])
    B = np.array([[0.6, 0.4], [0.4, 0.6]])
    for obs in ([0, 0, 1, 0, 0, 0], [1, 1, 0, 1, 1], [0, 1, 0, 1, 1, 1]):
        obs = np.array(obs)
        path, log_prob = submission.hmm.viterbi(obs, pi, A, B)
        _, _, best_path, best = oracle.brute_force(obs, pi, A, B)
        check.labels(path, best_path, f"viterbi path of {obs.tolist()}")
        assert_close(check.scalar(log_prob, "log_prob"), best, name="viterbi log_prob")


@pytest.mark.points(2)
def test_viterbi_long_sequence(submission, rng, oracle, hidden_oracle, check):
    """viterbi on a sequence of length 1000: a finite log-probability that its path attains and no path beats."""
    pi, A, B = oracle.random_hmm(rng, 3, 4, concentration=0.5)
    _, obs = oracle.sample_hmm(rng, pi, A, B, 1000)
    path, log_prob = submission.hmm.viterbi(obs, pi, A, B)
    path = np.asarray(path)
    assert path.shape == (1000,), f"the path has shape {path.shape}, expected (1000,)"
    log_prob = check.scalar(log_prob, "log_prob")
    assert np.isfinite(log_prob), "the Viterbi log-probability is not finite"
    best = hidden_oracle.viterbi_log_prob(obs, pi, A, B)
    assert_close(log_prob, best, rtol=1e-9, name="viterbi log_prob")
    assert_close(
        oracle.path_log_prob(path, obs, pi, A, B), best, rtol=1e-9, name="log p(path, obs)"
    )


@pytest.mark.points(2)
def test_classify_long_sequences(submission, rng, oracle, hidden_oracle, check):
    """Sequences of length 600 drawn from 3 HMMs are each given to the HMM that generated them."""
    hmms = [oracle.random_hmm(rng, 3, 8, concentration=0.5) for _ in range(3)]
    truth = np.array([0, 2, 1, 0])
    sequences = [oracle.sample_hmm(rng, *hmms[c], 600)[1] for c in truth]
    log_liks = np.asarray(submission.hmm.sequence_log_likelihoods(sequences, hmms))
    assert np.all(np.isfinite(log_liks)), "log-likelihoods of long sequences are not finite"
    expected = np.array([[hidden_oracle.scaled_forward(o, *h)[1] for h in hmms] for o in sequences])
    assert_close(log_liks, expected, rtol=1e-9, name="sequence_log_likelihoods")
    check.labels(submission.hmm.classify_sequences(sequences, hmms), truth, "classify_sequences")


@pytest.mark.points(1)
def test_sequence_log_likelihoods_mixed_lengths(submission, rng, oracle):
    """sequence_log_likelihoods handles sequences of lengths 1 to 6 (brute force)."""
    hmms = [oracle.random_hmm(rng, 2, 3) for _ in range(2)]
    sequences = [rng.integers(0, 3, size=T) for T in (1, 4, 6, 2)]
    log_liks = submission.hmm.sequence_log_likelihoods(sequences, hmms)
    expected = np.array([[oracle.brute_force(o, *h)[1] for h in hmms] for o in sequences])
    assert_close(log_liks, expected, name="sequence_log_likelihoods")
