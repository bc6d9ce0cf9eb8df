"""A vanilla recurrent network in numpy: forward pass, backpropagation through time,
the gradient norm of every hidden state, and gradient clipping.

numpy only: torch is not allowed in this file. Every function takes numpy
arrays and must return numpy float64 arrays (a torch tensor is a wrong answer).

Conventions used throughout this file (those of CS231n):

- Shapes: N is the batch size, T the number of time steps, D the input size,
  H the hidden size. Every array is float64.
- Weights multiply from the right: x_t @ Wx with Wx (D, H), h @ Wh with Wh (H, H).
- The hidden state after step t is

      h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)        for t = 0, 1, ..., T-1

  starting from the given h_{-1} = h0.
- A ``*_forward`` function returns ``(out, cache)``; the matching
  ``*_backward`` function takes the upstream gradient (the gradient of the
  final scalar loss with respect to ``out``, so it has the shape of ``out``)
  and that cache.
"""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a vanilla tanh RNN.

    h_next = tanh(x @ Wx + h_prev @ Wh + b)

    Inputs:
    - x: input at this step, (N, D)
    - h_prev: hidden state of the previous step, (N, H)
    - Wx: input-to-hidden weights, (D, H)
    - Wh: hidden-to-hidden (recurrent) weights, (H, H)
    - b: bias, (H,)

    Returns a tuple of:
    - h_next: next hidden state, (N, H)
    - cache: what rnn_step_backward needs
    """
    # BEGIN SOLUTION hint: §A.1: the next hidden state, and a cache of what the backward pass will need
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    cache = (x, h_prev, Wx, Wh, h_next)
    # END SOLUTION
    return h_next, cache


def rnn_step_backward(dh_next, cache):
    """Backward pass of one time step.

    Inputs:
    - dh_next: gradient of the loss with respect to h_next, (N, H)
    - cache: from rnn_step_forward

    Returns a tuple of:
    - dx: (N, D)
    - dh_prev: (N, H)
    - dWx: (D, H)
    - dWh: (H, H)
    - db: (H,)
    """
    # BEGIN SOLUTION hint: §A.2: the gradients of the step's inputs and weights, from the gradient of its output
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1.0 - h_next**2)
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    # END SOLUTION
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla tanh RNN over a whole sequence.

    Inputs:
    - x: inputs, (N, T, D)
    - h0: initial hidden state, (N, H)
    - Wx: (D, H), Wh: (H, H), b: (H,)

    Returns a tuple of:
    - h: hidden states of every step, (N, T, H); h[:, t] is h_t
    - cache: what rnn_backward needs
    """
    # BEGIN SOLUTION hint: §A.3: the hidden states of every step, starting from h0
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    caches = []
    h_prev = h0
    for t in range(T):
        h_prev, step_cache = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        h[:, t] = h_prev
        caches.append(step_cache)
    cache = caches
    # END SOLUTION
    return h, cache


def rnn_backward(dh, cache):
    """Backpropagation through time over the whole unrolled sequence.

    The loss may depend on EVERY hidden state: dh[:, t] is the gradient of the
    loss with respect to h_t coming from above (e.g. from an output layer at
    step t), NOT including what flows back from later time steps. The gradient
    that reaches h_t is dh[:, t] plus what flows back from h_{t+1}. The weights
    are shared by all steps, so their gradients are sums over the steps.

    Inputs:
    - dh: upstream gradients of all hidden states, (N, T, H)
    - cache: from rnn_forward

    Returns a tuple of:
    - dx: (N, T, D)
    - dh0: (N, H), gradient with respect to the initial hidden state
    - dWx: (D, H)
    - dWh: (H, H)
    - db: (H,)
    """
    # BEGIN SOLUTION hint: §A.4: backpropagation through time over every step (the weights are shared by all steps)
    caches = cache
    N, T, H = dh.shape
    D = caches[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dh_prev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_prev, caches[t])
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dh_prev
    # END SOLUTION
    return dx, dh0, dWx, dWh, db


def hidden_state_grad_norms(x, h0, Wx, Wh, b, dh_last):
    """How the gradient of a loss on the LAST hidden state shrinks or grows back in time.

    The loss is L = sum(h_{T-1} * dh_last): it depends only on the last hidden
    state. Return the norm of dL/dh_t for every step t, where dL/dh_t is the
    whole (N, H) gradient of L with respect to h_t (through all the later
    steps) and its norm is the Frobenius norm, sqrt(sum(dL/dh_t ** 2)).

    With |tanh'| <= 1, ||dL/dh_t|| <= ||Wh||_2 ** (T-1-t) * ||dh_last||: the
    gradient vanishes when the recurrent weight is small (spectral radius < 1)
    and can explode when it is large (spectral radius > 1).

    Inputs:
    - x: (N, T, D), h0: (N, H), Wx: (D, H), Wh: (H, H), b: (H,)
    - dh_last: gradient of L with respect to h_{T-1}, (N, H)

    Returns:
    - norms: (T,) float64, norms[t] = ||dL/dh_t||; norms[T-1] = ||dh_last||
    """
    # BEGIN SOLUTION hint: §A.5: the norm of the loss's gradient at every hidden state
    _, caches = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    norms = np.zeros(T)
    grad = dh_last
    for t in reversed(range(T)):
        norms[t] = np.sqrt(np.sum(grad**2))
        _, grad, _, _, _ = rnn_step_backward(grad, caches[t])
    # END SOLUTION
    return norms


def clip_grad_norm(grads, max_norm):
    """Gradient clipping by global norm, exactly like torch.nn.utils.clip_grad_norm_.

    The global norm is the L2 norm of ALL the gradients together, as if they
    were concatenated into one vector:

        total_norm = sqrt(sum over keys k of sum(grads[k] ** 2))
        coef = max_norm / (total_norm + 1e-6)

    If coef < 1, every gradient is multiplied by coef (all by the same
    factor, so the direction of the update is kept); otherwise every gradient
    is returned unchanged.

    Inputs:
    - grads: dict name -> array, any shapes
    - max_norm: float > 0

    Returns a tuple of:
    - clipped: a NEW dict with the same keys, clipped[k] shaped like grads[k]
      (the input arrays must not be modified)
    - total_norm: float, the global norm BEFORE clipping
    """
    # BEGIN SOLUTION hint: §A.6: new arrays clipped by their global norm, and that norm before clipping
    total_norm = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values())))
    coef = max_norm / (total_norm + 1e-6)
    scale = min(coef, 1.0)
    clipped = {k: np.array(g, dtype=np.float64) * scale for k, g in grads.items()}
    # END SOLUTION
    return clipped, total_norm
