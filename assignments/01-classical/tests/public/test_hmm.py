"""Public tests for hmm.py: forward algorithm, Viterbi, sequence classification, Baum-Welch."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(2)
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


@pytest.mark.points(1)
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


@pytest.mark.points(1)
def test_backward_short_sequence(submission, rng, oracle):
    """backward: log_beta (T, S) matches a sum over every continuation of the state path (T = 5)."""
    pi, A, B = oracle.random_hmm(rng, 3, 4)
    obs = rng.integers(0, 4, size=5)
    log_beta = submission.hmm.backward(obs, A, B)
    assert_close(log_beta, oracle.brute_posteriors(obs, pi, A, B)[0], name="log_beta")


@pytest.mark.points(2)
def test_posteriors_short_sequence(submission, rng, oracle, check):
    """posteriors: gamma and xi are distributions, consistent with each other, equal to sums over every state path."""
    pi, A, B = oracle.random_hmm(rng, 3, 3)
    obs = rng.integers(0, 3, size=6)
    gamma, xi, ll = submission.hmm.posteriors(obs, pi, A, B)
    gamma, xi = check.posteriors(gamma, xi, 6, 3)
    _, exp_gamma, exp_xi, exp_ll = oracle.brute_posteriors(obs, pi, A, B)
    assert_close(gamma, exp_gamma, name="gamma")
    assert_close(xi, exp_xi, name="xi")
    assert_close(check.scalar(ll, "log_likelihood"), exp_ll, name="log_likelihood")


def _sequences_with_every_symbol(rng, lengths, V):
    """Random sequences of the given lengths in which every symbol 0 .. V-1 occurs."""
    sequences = [rng.integers(0, V, size=T) for T in lengths]
    sequences[-1][:V] = rng.permutation(V)
    return sequences


@pytest.mark.points(2)
def test_baum_welch_step_small(submission, rng, oracle, check):
    """baum_welch_step on three short sequences: distributions, and the expected counts of every state path."""
    pi, A, B = oracle.random_hmm(rng, 2, 3)
    sequences = _sequences_with_every_symbol(rng, (4, 5, 6), 3)
    new_pi, new_A, new_B, ll = submission.hmm.baum_welch_step(sequences, pi, A, B)
    check.distribution(new_pi, (2,), "new_pi", "the states")
    check.distribution(new_A, (2, 2), "new_A", "the next state")
    check.distribution(new_B, (2, 3), "new_B", "the symbols")
    exp_pi, exp_A, exp_B, exp_ll = oracle.brute_baum_welch_step(sequences, pi, A, B)
    assert_close(
        check.scalar(ll, "log_likelihood"), exp_ll,
        name="log_likelihood (of all the sequences, under the parameters given)",
    )
    assert_close(new_pi, exp_pi, name="new_pi")
    assert_close(new_A, exp_A, name="new_A")
    assert_close(new_B, exp_B, name="new_B")


@pytest.mark.points(3)
def test_baum_welch_recovers_a_known_hmm(submission, rng, oracle, check):
    """baum_welch recovers a known HMM (2 states, 4 symbols) from 8 sequences of 200 symbols, up to relabelling the states."""
    truth, train, _, init = oracle.recovery_task(rng)
    S, V = truth[2].shape
    n_iter = oracle.recovery_iterations
    pi, A, B, lls = submission.hmm.baum_welch(train, *init, n_iter=n_iter)
    lls = np.asarray(lls, dtype=np.float64)
    assert lls.shape == (n_iter,), f"log_likelihoods has shape {lls.shape}, expected ({n_iter},)"
    drops = np.flatnonzero(np.diff(lls) < -1e-8 * np.abs(lls[1:]))
    assert drops.size == 0, (
        f"the log-likelihood went down at iteration {drops[0] + 1}: EM never decreases it"
    )
    check.distribution(A, (S, S), "A", "the next state")
    check.distribution(B, (S, V), "B", "the symbols")
    err_A, err_B = oracle.recovery_errors(A, B, truth)
    assert err_B <= oracle.recovery_max_B_error, (
        f"B is up to {err_B:.3f} away from the true emissions (states relabelled; at most "
        f"{oracle.recovery_max_B_error} allowed)"
    )
    assert err_A <= oracle.recovery_max_A_error, (
        f"A is up to {err_A:.3f} away from the true transitions (states relabelled; at most "
        f"{oracle.recovery_max_A_error} allowed)"
    )
