"""Layers, activations and losses for a feedforward network (numpy only).

Conventions used throughout this file:

- Every array is float64. The first axis is the batch axis, of size N.
- A ``*_forward`` function returns ``(out, cache)``; the matching ``*_backward``
  function takes the upstream gradient ``dout`` (same shape as ``out``) and that
  ``cache``, and returns the gradient with respect to the forward inputs.
- Losses are averaged over the batch: they return the mean loss per example and
  the gradient of that mean.
"""

import numpy as np

# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------


def relu_forward(x):
    """Rectified linear unit, forward pass.

    Inputs:
    - x: array of any shape (N, ...), float64

    Returns a tuple of:
    - out: array of the same shape as x, max(0, x)
    - cache: what relu_backward needs (here: x)
    """
    # BEGIN SOLUTION hint: keep x in the cache
    out = np.maximum(0, x)
    cache = x
    # END SOLUTION
    return out, cache


def relu_backward(dout, cache):
    """Rectified linear unit, backward pass.

    Convention: the gradient at x == 0 is 0 (only strictly positive inputs let
    the gradient through).

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: the cache returned by relu_forward (x)

    Returns:
    - dx: gradient with respect to x, same shape as x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: the gradient is 0 where x <= 0
    x = cache
    dx = dout * (x > 0)
    # END SOLUTION
    return dx


def sigmoid_forward(x):
    """Logistic sigmoid, forward pass: out = 1 / (1 + exp(-x)).

    Must not overflow for large |x| (e.g. x = -1000).

    Inputs:
    - x: array of any shape (N, ...), float64

    Returns a tuple of:
    - out: array of the same shape as x, values in [0, 1]
    - cache: the OUTPUT out (sigmoid_backward receives the sigmoid's output,
      not its input)
    """
    # BEGIN SOLUTION hint: use exp(-|x|) to avoid overflow; cache the output
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    cache = out
    # END SOLUTION
    return out, cache


def sigmoid_backward(dout, cache):
    """Logistic sigmoid, backward pass.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: the sigmoid OUTPUT s = sigmoid(x), as returned by sigmoid_forward

    Returns:
    - dx: gradient with respect to x, dout * s * (1 - s), same shape as x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: the cache is s = sigmoid(x), not x
    s = cache
    dx = dout * s * (1.0 - s)
    # END SOLUTION
    return dx


def tanh_forward(x):
    """Hyperbolic tangent, forward pass.

    Inputs:
    - x: array of any shape (N, ...), float64

    Returns a tuple of:
    - out: array of the same shape as x, tanh(x)
    - cache: the OUTPUT out (tanh_backward receives tanh's output, not its input)
    """
    # BEGIN SOLUTION hint: cache the output
    out = np.tanh(x)
    cache = out
    # END SOLUTION
    return out, cache


def tanh_backward(dout, cache):
    """Hyperbolic tangent, backward pass.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: the tanh OUTPUT t = tanh(x), as returned by tanh_forward

    Returns:
    - dx: gradient with respect to x, dout * (1 - t**2), same shape as x

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: the cache is t = tanh(x), not x
    t = cache
    dx = dout * (1.0 - t * t)
    # END SOLUTION
    return dx


def softmax(x):
    """Numerically stable softmax over the LAST axis.

    Subtract the maximum of each row before exponentiating, so that inputs like
    1000 do not overflow.

    Inputs:
    - x: array of shape (..., C), float64

    Returns:
    - p: array of the same shape as x; every slice p[..., :] is non-negative and
      sums to 1
    """
    # BEGIN SOLUTION hint: subtract the max over the last axis first
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    p = e / np.sum(e, axis=-1, keepdims=True)
    # END SOLUTION
    return p


# ---------------------------------------------------------------------------
# Affine (fully connected) layer
# ---------------------------------------------------------------------------


def linear_forward(x, W, b):
    """Affine layer, forward pass: out = x @ W + b.

    Inputs:
    - x: input data, shape (N, D)
    - W: weights, shape (D, M)
    - b: biases, shape (M,)

    Returns a tuple of:
    - out: output, shape (N, M)
    - cache: what linear_backward needs (here: (x, W, b))
    """
    # BEGIN SOLUTION
    out = x @ W + b
    cache = (x, W, b)
    # END SOLUTION
    return out, cache


def linear_backward(dout, cache):
    """Affine layer, backward pass.

    Inputs:
    - dout: upstream gradient, shape (N, M)
    - cache: the cache returned by linear_forward

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, D)
    - dW: gradient with respect to W, shape (D, M)
    - db: gradient with respect to b, shape (M,) (summed over the batch)

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: check every shape against the docstring
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
    """Mean squared error, summed over features and averaged over the batch.

        loss = (1 / N) * sum over i, j of (pred[i, j] - target[i, j]) ** 2

    (no factor 1/2; with pred of shape (N,) the inner sum has a single term).

    Inputs:
    - pred: predictions, shape (N, D) or (N,)
    - target: targets, same shape as pred

    Returns a tuple of:
    - loss: python float (or 0-d float64), the loss above
    - dpred: gradient of loss with respect to pred, same shape as pred

    pred and target are not modified.
    """
    # BEGIN SOLUTION hint: divide by the batch size N, not by N * D
    n = pred.shape[0]
    diff = pred - target
    loss = float(np.sum(diff**2) / n)
    dpred = 2.0 * diff / n
    # END SOLUTION
    return loss, dpred


def softmax_cross_entropy_loss(scores, y):
    """Softmax cross-entropy loss, averaged over the batch.

        loss = (1 / N) * sum over i of -log softmax(scores[i])[y[i]]

    Compute the log-probabilities with the log-sum-exp trick, so that large
    scores (e.g. 1000) give a finite, exact loss.

    Inputs:
    - scores: class scores (logits), shape (N, C)
    - y: integer labels, shape (N,), each in 0 .. C-1

    Returns a tuple of:
    - loss: python float (or 0-d float64), the loss above
    - dscores: gradient of loss with respect to scores, shape (N, C)

    scores and y are not modified.
    """
    # BEGIN SOLUTION hint: log p = s - max - log(sum(exp(s - max)))
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
