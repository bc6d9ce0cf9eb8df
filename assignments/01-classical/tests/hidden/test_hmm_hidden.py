"""Hidden tests for hmm.py: long sequences, best paths versus per-step choices, Baum-Welch."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(2)
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


@pytest.mark.points(1)
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


@pytest.mark.points(2)
def test_posteriors_long_sequence(submission, rng, oracle, hidden_oracle, check):
    """posteriors stay finite, normalised and exact on a sequence of length 1000."""
    pi, A, B = oracle.random_hmm(rng, 4, 5)
    _, obs = oracle.sample_hmm(rng, pi, A, B, 1000)
    gamma, xi, ll = submission.hmm.posteriors(obs, pi, A, B)
    gamma, xi = check.posteriors(gamma, xi, 1000, 4)
    exp_gamma, exp_xi, exp_ll = hidden_oracle.scaled_posteriors(obs, pi, A, B)
    assert_close(check.scalar(ll, "log_likelihood"), exp_ll, rtol=1e-9, name="log_likelihood")
    assert_close(gamma, exp_gamma, rtol=1e-7, atol=1e-10, name="gamma")
    assert_close(xi, exp_xi, rtol=1e-7, atol=1e-10, name="xi")
    log_beta = submission.hmm.backward(obs, A, B)
    assert np.all(np.isfinite(np.asarray(log_beta))), "log_beta is not finite on a sequence of length 1000"


@pytest.mark.points(2)
def test_baum_welch_step_mixed_lengths(submission, rng, oracle, hidden_oracle, check):
    """baum_welch_step pools the expected counts of sequences of lengths 1 to 300."""
    pi, A, B = oracle.random_hmm(rng, 3, 4)
    sequences = [oracle.sample_hmm(rng, pi, A, B, T)[1] for T in (1, 300, 2, 57, 1)]
    sequences[1][:4] = rng.permutation(4)
    new_pi, new_A, new_B, ll = submission.hmm.baum_welch_step(sequences, pi, A, B)
    check.distribution(new_pi, (3,), "new_pi", "the states")
    check.distribution(new_A, (3, 3), "new_A", "the next state")
    check.distribution(new_B, (3, 4), "new_B", "the symbols")
    exp_pi, exp_A, exp_B, exp_ll = hidden_oracle.baum_welch_step(sequences, pi, A, B)
    assert_close(check.scalar(ll, "log_likelihood"), exp_ll, rtol=1e-9, name="log_likelihood")
    assert_close(new_pi, exp_pi, rtol=1e-7, atol=1e-10, name="new_pi")
    assert_close(new_A, exp_A, rtol=1e-7, atol=1e-10, name="new_A")
    assert_close(new_B, exp_B, rtol=1e-7, atol=1e-10, name="new_B")


@pytest.mark.points(2)
def test_baum_welch_log_likelihood_never_decreases(submission, rng, oracle, hidden_oracle, check):
    """baum_welch: the log-likelihoods never decrease and are those of the EM iterations, from the start."""
    truth = oracle.random_hmm(rng, 3, 5, concentration=0.7)
    sequences = [oracle.sample_hmm(rng, *truth, 80)[1] for _ in range(4)]
    sequences[0][:5] = rng.permutation(5)
    init = oracle.random_hmm(rng, 3, 5)
    pi, A, B, lls = submission.hmm.baum_welch(sequences, *init, n_iter=12)
    lls = np.asarray(lls, dtype=np.float64)
    assert lls.shape == (12,), f"log_likelihoods has shape {lls.shape}, expected (12,)"
    assert np.all(np.diff(lls) >= -1e-8 * np.abs(lls[1:])), (
        "the log-likelihood went down: EM never decreases it"
    )
    expected = []
    params = init
    for _ in range(12):
        *params, ll = hidden_oracle.baum_welch_step(sequences, *params)
        expected.append(ll)
    assert_close(lls[0], expected[0], rtol=1e-9, name="log-likelihood of the initial parameters")
    assert_close(lls, np.array(expected), rtol=1e-7, name="log_likelihoods")
    for value, exp, name in zip((pi, A, B), params, ("pi", "A", "B"), strict=True):
        assert_close(value, exp, rtol=1e-6, atol=1e-9, name=f"{name} after 12 iterations")


@pytest.mark.points(3)
def test_baum_welch_heldout(submission, rng, oracle, hidden_oracle, check):
    """baum_welch recovers a known HMM: its parameters, and the likelihood of held-out sequences."""
    truth, train, held_out, init = oracle.recovery_task(rng)
    S, V = truth[2].shape
    pi, A, B, _ = submission.hmm.baum_welch(train, *init, n_iter=oracle.recovery_iterations)
    pi = check.distribution(pi, (S,), "pi", "the states")
    A = check.distribution(A, (S, S), "A", "the next state")
    B = check.distribution(B, (S, V), "B", "the symbols")
    gap = hidden_oracle.log_likelihood_per_symbol(held_out, *truth) - (
        hidden_oracle.log_likelihood_per_symbol(held_out, pi, A, B)
    )
    assert gap <= oracle.recovery_max_ll_gap, (
        f"held-out sequences are {gap:.3f} nats per symbol less likely under the fitted HMM "
        f"than under the true one (at most {oracle.recovery_max_ll_gap} allowed)"
    )
    err_A, err_B = oracle.recovery_errors(A, B, truth)
    assert err_B <= oracle.recovery_max_B_error, "B is too far from the true emissions"
    assert err_A <= oracle.recovery_max_A_error, "A is too far from the true transitions"
