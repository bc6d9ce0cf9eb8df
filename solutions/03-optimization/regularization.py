"""Regularization: L2 penalty, dropout, DropConnect and batch normalization (numpy only).

Conventions used throughout this file:

- Every array is float64. The first axis is the batch axis, of size N.
- ``p`` is always the probability of DROPPING a unit (or a weight), as in
  ``torch.nn.Dropout(p)``; 0 <= p < 1.
- Dropout and DropConnect are *inverted* (handout §3.2): in training the
  expected output equals the output without dropout; in evaluation
  (``train=False``) nothing is dropped and nothing is scaled.
- Masks are drawn from ``rng = np.random.default_rng(seed)`` with exactly one
  call, ``keep = rng.random(shape) >= p`` (True = kept), so the same seed
  gives the same mask.
- A ``*_forward`` function returns ``(out, cache)``; the matching
  ``*_backward`` function takes the upstream gradient ``dout`` (shape of
  ``out``) and that cache.
- No function modifies its inputs (x, W, b, dout, params, the cache): the
  caller may use them again (compute new arrays, or work on a copy).
- The mathematics of each function is in the handout's §3.
"""

import numpy as np


def l2_penalty(params, reg):
    """L2 weight penalty (weight decay) and its gradient (handout §3.1). Biases are NOT penalized.

    The weights are the entries of params whose key starts with "W"; every
    other entry (the biases "b1", "b2", ...) is left out of the penalty.

    Inputs:
    - params: dict name -> array, e.g. {"W1": (D, H), "b1": (H,), "W2": ..., ...}
    - reg: float >= 0, the regularization strength

    Returns a tuple of:
    - penalty: float
    - grads: dict with EVERY key of params; grads[k] is shaped like params[k]
      (zeros for biases)

    params and its arrays are not modified.
    """
    # BEGIN SOLUTION hint: §3.1: the penalty (a float) and grads, a dict with every key of params
    penalty = 0.0
    grads = {}
    for k, p in params.items():
        if k.startswith("W"):
            penalty += 0.5 * reg * float(np.sum(p * p))
            grads[k] = reg * p
        else:
            grads[k] = np.zeros_like(p)
    # END SOLUTION
    return penalty, grads


def dropout_forward(x, p, train=True, seed=None):
    """Inverted dropout, forward pass (handout §3.2).

    In training the mask is exactly keep = np.random.default_rng(seed).random(x.shape) >= p
    (True = kept). In evaluation the output equals x (nothing dropped or scaled).

    Inputs:
    - x: array of any shape (N, ...)
    - p: float in [0, 1), probability of dropping each unit
    - train: bool, True in training, False in evaluation
    - seed: int or None, seed of the mask's generator

    Returns a tuple of:
    - out: array shaped like x
    - cache: what dropout_backward needs

    x is not modified.
    """
    # BEGIN SOLUTION hint: §3.2: out, shaped like x, and the cache dropout_backward needs
    if not train:
        return x.copy(), (None, p, False)
    rng = np.random.default_rng(seed)
    keep = rng.random(x.shape) >= p
    scale = keep / (1.0 - p)
    out = x * scale
    cache = (scale, p, True)
    # END SOLUTION
    return out, cache


def dropout_backward(dout, cache):
    """Inverted dropout, backward pass (handout §3.2).

    Inputs:
    - dout: upstream gradient, shaped like x
    - cache: from dropout_forward

    Returns:
    - dx: gradient with respect to x, shaped like x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: §3.2: dx, shaped like dout
    scale, _, train = cache
    if not train:
        return dout.copy()
    dx = dout * scale
    # END SOLUTION
    return dx


def dropconnect_forward(x, W, b, p, train=True, seed=None):
    """Linear layer with DropConnect (inverted): each WEIGHT is dropped with probability p (handout §3.3).

    In training one mask, exactly keep = np.random.default_rng(seed).random(W.shape) >= p,
    serves the whole batch; biases are never dropped. In evaluation this is the
    plain linear layer.

    Inputs:
    - x: input, shape (N, D)
    - W: weights, shape (D, M)
    - b: biases, shape (M,)
    - p: float in [0, 1), probability of dropping each weight
    - train: bool, True in training, False in evaluation
    - seed: int or None, seed of the mask's generator

    Returns a tuple of:
    - out: shape (N, M)
    - cache: what dropconnect_backward needs

    x, W and b are not modified.
    """
    # BEGIN SOLUTION hint: §3.3: out (N, M) and the cache dropconnect_backward needs
    if train:
        rng = np.random.default_rng(seed)
        keep = rng.random(W.shape) >= p
        W_eff = W * keep / (1.0 - p)
        scale = keep / (1.0 - p)
    else:
        W_eff = W
        scale = np.ones_like(W)
    out = x @ W_eff + b
    cache = (x, W_eff, scale)
    # END SOLUTION
    return out, cache


def dropconnect_backward(dout, cache):
    """Linear layer with DropConnect, backward pass (handout §3.3).

    Dropped weights get a zero gradient.

    Inputs:
    - dout: upstream gradient, shape (N, M)
    - cache: from dropconnect_forward

    Returns a tuple of:
    - dx: shape (N, D)
    - dW: shape (D, M)
    - db: shape (M,)

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: §3.3: dx (N, D), dW (D, M) and db (M,)
    x, W_eff, scale = cache
    dx = dout @ W_eff.T
    dW = (x.T @ dout) * scale
    db = np.sum(dout, axis=0)
    # END SOLUTION
    return dx, dW, db


class BatchNorm:
    """Batch normalization of a (N, D) input, per feature (torch.nn.BatchNorm1d), handout §3.4.

    Training (train=True) normalizes with the statistics of the batch and
    updates the running averages; evaluation (train=False) normalizes with the
    running averages, which do not change.

    Attributes (the grader reads and sets them, running averages included):
    - gamma: scale, shape (D,), ones at the start
    - beta: shift, shape (D,), zeros at the start
    - running_mean: shape (D,), zeros at the start
    - running_var: shape (D,), ones at the start
    - momentum: float, weight of the NEW batch statistic in the running averages
    - eps: float, added to the variance
    """

    def __init__(self, num_features, momentum=0.1, eps=1e-5):
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.momentum = momentum
        self.eps = eps
        self.cache = None

    def forward(self, x, train=True):
        """Normalize x.

        Inputs:
        - x: shape (N, D); in training N >= 2
        - train: bool, batch statistics (True) or running averages (False)

        Returns:
        - out: shape (N, D)

        x is not modified.
        """
        # BEGIN SOLUTION hint: §3.4: out (N, D), and in training the running averages updated
        if train:
            n = x.shape[0]
            mu = x.mean(axis=0)
            var = x.var(axis=0)
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * (
                n / (n - 1)
            )
        else:
            mu = self.running_mean
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mu) * inv_std
        out = self.gamma * x_hat + self.beta
        self.cache = (x_hat, inv_std, train)
        # END SOLUTION
        return out

    def backward(self, dout):
        """Backward pass of the most recent forward call (handout §3.4).

        Inputs:
        - dout: upstream gradient, shape (N, D)

        Returns a tuple of:
        - dx: shape (N, D)
        - dgamma: shape (D,)
        - dbeta: shape (D,)

        dout is not modified.
        """
        # BEGIN SOLUTION hint: §3.4: dx (N, D), dgamma (D,) and dbeta (D,) of the most recent forward call
        x_hat, inv_std, train = self.cache
        dbeta = dout.sum(axis=0)
        dgamma = (dout * x_hat).sum(axis=0)
        dx_hat = dout * self.gamma
        if train:
            n = dout.shape[0]
            dx = (inv_std / n) * (
                n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)
            )
        else:
            dx = dx_hat * inv_std
        # END SOLUTION
        return dx, dgamma, dbeta
