"""Discrete hidden Markov models: forward algorithm, Viterbi, sequence classification,
posteriors by forward-backward, and training by Baum-Welch (handout §6).

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
    """The forward algorithm, in log space (handout §6.1).

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
    # BEGIN SOLUTION hint: §6.1: the forward messages of every step and the sequence's log-likelihood, in log space
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
    """The most probable state path, by dynamic programming in log space (handout §6.2).

    The path maximises log p(z_0, ..., z_{T-1}, o_0, ..., o_{T-1}) over all S**T
    paths, in time linear in T. Ties go to the lower state.

    Inputs:
    - obs: integer array of shape (T,), T >= 1
    - pi: array of shape (S,)
    - A: array of shape (S, S)
    - B: array of shape (S, V)

    Returns a tuple of:
    - path: integer array of shape (T,), the most probable hidden states
    - log_prob: float, log p(path, obs), finite
    """
    # BEGIN SOLUTION hint: §6.2: the most probable whole state path and its log-probability
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
    """Log-likelihood of every sequence under every HMM (handout §6.3).

    Inputs:
    - sequences: list of n integer arrays, each of shape (T_i,) (lengths may differ)
    - hmms: list of C tuples (pi, A, B), one HMM per class

    Returns:
    - log_liks: array of shape (n, C); log_liks[i, c] = log p(sequences[i] | hmms[c])
    """
    # BEGIN SOLUTION hint: §6.3: the log-likelihood of every sequence under every HMM
    log_liks = np.array([[forward(obs, *hmm)[1] for hmm in hmms] for obs in sequences])
    # END SOLUTION
    return log_liks


def classify_sequences(sequences, hmms):
    """Label every sequence with the class whose HMM gives it the highest likelihood (§6.3).

    Inputs:
    - sequences: list of n integer arrays, each of shape (T_i,)
    - hmms: list of C tuples (pi, A, B)

    Returns:
    - labels: integer array of shape (n,), values in 0 .. C-1 (the lower class on a tie)
    """
    # BEGIN SOLUTION hint: §6.3: for each sequence, the class whose HMM makes it most likely
    labels = np.argmax(sequence_log_likelihoods(sequences, hmms), axis=1)
    # END SOLUTION
    return labels


def backward(obs, A, B):
    """The backward algorithm, in log space (handout §6.4).

        log_beta[t, i] = log p(o_{t+1}, ..., o_{T-1} | z_t = i),   log_beta[T-1, i] = 0

    Inputs:
    - obs: integer array of shape (T,), T >= 1
    - A: array of shape (S, S)
    - B: array of shape (S, V)

    Returns:
    - log_beta: array of shape (T, S), finite
    """
    # BEGIN SOLUTION hint: §6.4: the backward messages of every step, in log space
    obs = np.asarray(obs)
    log_A, log_B = np.log(A), np.log(B)
    T, S = obs.shape[0], A.shape[0]
    log_beta = np.zeros((T, S))
    for t in range(T - 2, -1, -1):
        log_beta[t] = _logsumexp(log_A + log_B[:, obs[t + 1]] + log_beta[t + 1], axis=1)
    # END SOLUTION
    return log_beta


def posteriors(obs, pi, A, B):
    """Posterior state and transition probabilities given a whole sequence (handout §6.4).

        gamma[t, i]  = p(z_t = i | o_0, ..., o_{T-1})
        xi[t, i, j]  = p(z_t = i, z_{t+1} = j | o_0, ..., o_{T-1})

    Inputs:
    - obs: integer array of shape (T,), T >= 1
    - pi: array of shape (S,)
    - A: array of shape (S, S)
    - B: array of shape (S, V)

    Returns a tuple of:
    - gamma: array of shape (T, S); every row sums to 1
    - xi: array of shape (T - 1, S, S) (shape (0, S, S) when T = 1); every xi[t] sums to 1
    - log_likelihood: float, log p(o_0, ..., o_{T-1})
    """
    # BEGIN SOLUTION hint: §6.4: the posterior of every state and of every transition, given the whole sequence
    obs = np.asarray(obs)
    log_alpha, log_likelihood = forward(obs, pi, A, B)
    log_beta = backward(obs, A, B)
    gamma = np.exp(log_alpha + log_beta - log_likelihood)
    log_xi = (
        log_alpha[:-1, :, None]
        + np.log(A)[None]
        + (np.log(B[:, obs[1:]]).T + log_beta[1:])[:, None, :]
        - log_likelihood
    )
    xi = np.exp(log_xi)
    # END SOLUTION
    return gamma, xi, log_likelihood


def baum_welch_step(sequences, pi, A, B):
    """One iteration of Baum-Welch (EM) on several sequences at once (handout §6.5).

    The E-step computes the posteriors of every sequence under (pi, A, B); the
    M-step re-estimates all three from the expected counts pooled over the
    sequences. Every symbol 0 .. V-1 occurs in the data and at least one
    sequence has T >= 2, so no count that divides is zero.

    Inputs:
    - sequences: list of n integer arrays, each of shape (T_k,), T_k >= 1
    - pi: array of shape (S,)
    - A: array of shape (S, S)
    - B: array of shape (S, V)

    Returns a tuple of:
    - new_pi: array of shape (S,), sums to 1
    - new_A: array of shape (S, S), rows sum to 1
    - new_B: array of shape (S, V), rows sum to 1
    - log_likelihood: float, sum over the sequences of log p(sequence | pi, A, B),
      under the parameters given (before the update)
    """
    # BEGIN SOLUTION hint: §6.5: one E-step over all the sequences, then the M-step
    S, V = B.shape
    start, trans, emit = np.zeros(S), np.zeros((S, S)), np.zeros((S, V))
    log_likelihood = 0.0
    for obs in sequences:
        obs = np.asarray(obs)
        gamma, xi, ll = posteriors(obs, pi, A, B)
        log_likelihood += ll
        start += gamma[0]
        trans += xi.sum(axis=0)
        np.add.at(emit.T, obs, gamma)
    new_pi = start / start.sum()
    new_A = trans / trans.sum(axis=1, keepdims=True)
    new_B = emit / emit.sum(axis=1, keepdims=True)
    # END SOLUTION
    return new_pi, new_A, new_B, float(log_likelihood)


def baum_welch(sequences, pi, A, B, n_iter=50):
    """Fit an HMM to sequences by n_iter Baum-Welch iterations from (pi, A, B) (handout §6.5).

    Inputs:
    - sequences: list of n integer arrays, each of shape (T_k,)
    - pi, A, B: the initial parameters, shapes (S,), (S, S), (S, V)
    - n_iter: number of iterations

    Returns a tuple of:
    - pi, A, B: the parameters after n_iter iterations
    - log_likelihoods: list of n_iter floats; entry k is the total log-likelihood of the
      sequences under the parameters that iteration k starts from. It never decreases.
    """
    # BEGIN SOLUTION hint: §6.5: n_iter iterations from the given parameters, recording each one's log-likelihood
    log_likelihoods = []
    for _ in range(n_iter):
        pi, A, B, ll = baum_welch_step(sequences, pi, A, B)
        log_likelihoods.append(ll)
    # END SOLUTION
    return pi, A, B, log_likelihoods
