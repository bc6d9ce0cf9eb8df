"""Discrete hidden Markov models: forward algorithm, Viterbi, sequence classification.

An HMM with S hidden states and V observation symbols has parameters
- pi: initial state distribution, shape (S,):      pi[i] = p(z_0 = i)
- A: transition matrix, shape (S, S):              A[i, j] = p(z_{t+1} = j | z_t = i)
- B: emission matrix, shape (S, V):                B[i, v] = p(o_t = v | z_t = i)
All entries are strictly positive; rows of A and B sum to 1. An observation
sequence obs is an integer array of shape (T,) with values in 0 .. V-1.

Work in log space (or with per-step scaling): probabilities of sequences of
length 1000 are far below the smallest positive float64 (about 1e-308), yet
every result must be finite and accurate.
"""

import numpy as np


def _logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)), axis=axis)


def forward(obs, pi, A, B):
    """The forward algorithm, in log space.

        log_alpha[t, i] = log p(o_0, ..., o_t, z_t = i)
        log_likelihood  = log p(o_0, ..., o_{T-1}) = log sum_i alpha[T-1, i]

    Inputs:
    - obs: integer array of shape (T,), T >= 1
    - pi: array of shape (S,)
    - A: array of shape (S, S)
    - B: array of shape (S, V)

    Returns a tuple of:
    - log_alpha: array of shape (T, S), finite
    - log_likelihood: float, finite
    """
    # BEGIN SOLUTION hint: log_alpha[t] = logsumexp_i(log_alpha[t-1, i] + log A[i, :]) + log B[:, o_t]
    obs = np.asarray(obs)
    log_A, log_B = np.log(A), np.log(B)
    T, S = obs.shape[0], A.shape[0]
    log_alpha = np.empty((T, S))
    log_alpha[0] = np.log(pi) + log_B[:, obs[0]]
    for t in range(1, T):
        log_alpha[t] = _logsumexp(log_alpha[t - 1][:, None] + log_A, axis=0) + log_B[:, obs[t]]
    log_likelihood = float(_logsumexp(log_alpha[-1], axis=0))
    # END SOLUTION
    return log_alpha, log_likelihood


def viterbi(obs, pi, A, B):
    """The most probable state path, by dynamic programming in log space.

        delta[t, j] = max over z_0..z_{t-1} of log p(z_0, ..., z_{t-1}, z_t = j, o_0, ..., o_t)

    Keep back-pointers psi[t, j] = argmax_i (delta[t-1, i] + log A[i, j]) and
    trace them back from argmax_j delta[T-1, j]. (Taking the best state at
    every step separately is NOT the best path.) Ties go to the lower state.

    Inputs:
    - obs: integer array of shape (T,), T >= 1
    - pi: array of shape (S,)
    - A: array of shape (S, S)
    - B: array of shape (S, V)

    Returns a tuple of:
    - path: integer array of shape (T,), the most probable hidden states
    - log_prob: float, log p(path, obs), finite
    """
    # BEGIN SOLUTION hint: keep back-pointers, then backtrack from the end
    obs = np.asarray(obs)
    log_A, log_B = np.log(A), np.log(B)
    T, S = obs.shape[0], A.shape[0]
    delta = np.empty((T, S))
    psi = np.zeros((T, S), dtype=np.int64)
    delta[0] = np.log(pi) + log_B[:, obs[0]]
    for t in range(1, T):
        scores = delta[t - 1][:, None] + log_A
        psi[t] = np.argmax(scores, axis=0)
        delta[t] = scores[psi[t], np.arange(S)] + log_B[:, obs[t]]
    path = np.zeros(T, dtype=np.int64)
    path[-1] = np.argmax(delta[-1])
    for t in range(T - 1, 0, -1):
        path[t - 1] = psi[t, path[t]]
    log_prob = float(delta[-1, path[-1]])
    # END SOLUTION
    return path, log_prob


def sequence_log_likelihoods(sequences, hmms):
    """Log-likelihood of every sequence under every HMM.

    Inputs:
    - sequences: list of n integer arrays, each of shape (T_i,) (lengths may differ)
    - hmms: list of C tuples (pi, A, B), one HMM per class

    Returns:
    - log_liks: array of shape (n, C); log_liks[i, c] = log p(sequences[i] | hmms[c])
    """
    # BEGIN SOLUTION
    log_liks = np.array([[forward(obs, *hmm)[1] for hmm in hmms] for obs in sequences])
    # END SOLUTION
    return log_liks


def classify_sequences(sequences, hmms):
    """Label every sequence with the class whose HMM gives it the highest likelihood.

    Inputs:
    - sequences: list of n integer arrays, each of shape (T_i,)
    - hmms: list of C tuples (pi, A, B)

    Returns:
    - labels: integer array of shape (n,), values in 0 .. C-1 (the lower class on a tie)
    """
    # BEGIN SOLUTION
    labels = np.argmax(sequence_log_likelihoods(sequences, hmms), axis=1)
    # END SOLUTION
    return labels
