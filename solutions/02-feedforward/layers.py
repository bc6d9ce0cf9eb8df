"""Layers, activations and losses for a feedforward network (numpy only).

Conventions used throughout this file:

- Every array is float64. The first axis is the batch axis, of size N.
- A ``*_forward`` function returns ``(out, cache)``; the matching ``*_backward``
  function takes the upstream gradient ``dout`` (same shape as ``out``) and that
  ``cache``, and returns the gradient with respect to the forward inputs.
- Losses are averaged over the batch: they return the mean loss per example and
  the gradient of that mean.
- The mathematics of every function is in the handout's numbered sections
  (§1 activations and softmax, §2 the linear layer, §3 the losses).
"""

import numpy as np

# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------


def relu_forward(x):
    """Rectified linear unit, forward pass (handout §1.1).

    Inputs:
    - x: array of any shape (N, ...), float64

    Returns a tuple of:
    - out: array of the same shape as x
    - cache: what relu_backward needs (here: x)

    x is not modified.
    """
    # BEGIN SOLUTION hint: §1.1: out, shaped like x, and the cache relu_backward needs
    out = np.maximum(0, x)
    cache = x
    # END SOLUTION
    return out, cache


def relu_backward(dout, cache):
    """Rectified linear unit, backward pass (handout §1.1).

    Convention: the gradient at x == 0 is 0 (only strictly positive inputs let
    the gradient through).

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: the cache returned by relu_forward (x)

    Returns:
    - dx: gradient with respect to x, same shape as x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: §1.1: dx, shaped like x
    x = cache
    dx = dout * (x > 0)
    # END SOLUTION
    return dx


def sigmoid_forward(x):
    """Logistic sigmoid, forward pass (handout §1.2).

    Must not overflow for inputs of any size (e.g. x = -1000).

    Inputs:
    - x: array of any shape (N, ...), float64

    Returns a tuple of:
    - out: array of the same shape as x, values in [0, 1]
    - cache: the OUTPUT out (sigmoid_backward receives the sigmoid's output,
      not its input)

    x is not modified.
    """
    # BEGIN SOLUTION hint: §1.2: out, shaped like x, finite for every input, and the cache the docstring names
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    cache = out
    # END SOLUTION
    return out, cache


def sigmoid_backward(dout, cache):
    """Logistic sigmoid, backward pass (handout §1.2).

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: the sigmoid's OUTPUT, as returned by sigmoid_forward

    Returns:
    - dx: gradient with respect to x, same shape as x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: §1.2: dx, shaped like x, from dout and the cached output
    s = cache
    dx = dout * s * (1.0 - s)
    # END SOLUTION
    return dx


def tanh_forward(x):
    """Hyperbolic tangent, forward pass (handout §1.3).

    Inputs:
    - x: array of any shape (N, ...), float64

    Returns a tuple of:
    - out: array of the same shape as x, values in [-1, 1]
    - cache: the OUTPUT out (tanh_backward receives tanh's output, not its input)

    x is not modified.
    """
    # BEGIN SOLUTION hint: §1.3: out, shaped like x, and the cache the docstring names
    out = np.tanh(x)
    cache = out
    # END SOLUTION
    return out, cache


def tanh_backward(dout, cache):
    """Hyperbolic tangent, backward pass (handout §1.3).

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: tanh's OUTPUT, as returned by tanh_forward

    Returns:
    - dx: gradient with respect to x, same shape as x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: §1.3: dx, shaped like x, from dout and the cached output
    t = cache
    dx = dout * (1.0 - t * t)
    # END SOLUTION
    return dx


def softmax(x):
    """Softmax over the LAST axis (handout §1.4).

    Must stay finite and exact for inputs of any size (e.g. 1000).

    Inputs:
    - x: array of shape (..., C), float64

    Returns:
    - p: array of the same shape as x; every slice p[..., :] is non-negative and
      sums to 1

    x is not modified.
    """
    # BEGIN SOLUTION hint: §1.4: p, shaped like x, each slice over the last axis summing to 1, finite for every input
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    p = e / np.sum(e, axis=-1, keepdims=True)
    # END SOLUTION
    return p


# ---------------------------------------------------------------------------
# Affine (fully connected) layer
# ---------------------------------------------------------------------------


def linear_forward(x, W, b):
    """Affine (fully connected) layer, forward pass (handout §2.1).

    Inputs:
    - x: input data, shape (N, D)
    - W: weights, shape (D, M)
    - b: biases, shape (M,)

    Returns a tuple of:
    - out: output, shape (N, M)
    - cache: what linear_backward needs (here: (x, W, b))

    x, W and b are not modified.
    """
    # BEGIN SOLUTION hint: §2.1: out (N, M) and the cache linear_backward needs
    out = x @ W + b
    cache = (x, W, b)
    # END SOLUTION
    return out, cache


def linear_backward(dout, cache):
    """Affine layer, backward pass (handout §2.2).

    Inputs:
    - dout: upstream gradient, shape (N, M)
    - cache: the cache returned by linear_forward

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, D)
    - dW: gradient with respect to W, shape (D, M)
    - db: gradient with respect to b, shape (M,) (summed over the batch)

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: §2.2: dx (N, D), dW (D, M) and db (M,)
    x, W, _ = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = np.sum(dout, axis=0)
    # END SOLUTION
    return dx, dW, db


# ---------------------------------------------------------------------------
# Losses (averaged over the batch)
# ---------------------------------------------------------------------------


def mse_loss(pred, target):
    """Squared error, summed over the features and averaged over the batch (handout §3.1).

    No factor one half; with pred of shape (N,) each example has one feature.

    Inputs:
    - pred: predictions, shape (N, D) or (N,)
    - target: targets, same shape as pred

    Returns a tuple of:
    - loss: python float (or 0-d float64), the loss of handout §3.1
    - dpred: gradient of loss with respect to pred, same shape as pred

    pred and target are not modified.
    """
    # BEGIN SOLUTION hint: §3.1: the loss (a float) and dpred, shaped like pred
    n = pred.shape[0]
    diff = pred - target
    loss = float(np.sum(diff**2) / n)
    dpred = 2.0 * diff / n
    # END SOLUTION
    return loss, dpred


def softmax_cross_entropy_loss(scores, y):
    """Softmax cross-entropy loss, averaged over the batch (handout §3.2).

    Large scores (e.g. 1000) must give a finite, exact loss and gradient.

    Inputs:
    - scores: class scores (logits), shape (N, C)
    - y: integer labels, shape (N,), each in 0 .. C-1

    Returns a tuple of:
    - loss: python float (or 0-d float64), the loss of handout §3.2
    - dscores: gradient of loss with respect to scores, shape (N, C)

    scores and y are not modified.
    """
    # BEGIN SOLUTION hint: §3.2: the loss (a float) and dscores (N, C), finite for scores of any size
    n = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_z = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    log_probs = shifted - log_z
    loss = float(-np.sum(log_probs[np.arange(n), y]) / n)
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1.0
    dscores /= n
    # END SOLUTION
    return loss, dscores
