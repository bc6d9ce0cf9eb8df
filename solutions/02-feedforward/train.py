"""Training loops: full-batch gradient descent, minibatch SGD, and digits.

A "model" here is anything with a dict attribute ``params`` (name -> numpy
array) and a method ``loss(X, y) -> (loss, grads)`` whose grads dict has the
same keys as params, e.g. an mlp.MLP. Every parameter is updated IN PLACE,
in the dict model.params, by the gradient step of handout §5.1.
"""

import mlp
import numpy as np


def batch_gradient_descent(model, X, y, lr, epochs):
    """Full-batch gradient descent: one step on the whole data set per epoch (handout §5.1).

    Each epoch records the loss at the current parameters, then takes the step.

    Inputs:
    - model: e.g. an mlp.MLP (see the module docstring)
    - X: data, shape (N, D)
    - y: integer labels, shape (N,)
    - lr: float, learning rate
    - epochs: int, number of steps

    Returns:
    - losses: list of epochs floats; losses[t] is the loss BEFORE step t
    """
    # BEGIN SOLUTION hint: §5.1: the list of epochs losses, each recorded before its step; model.params updated in place
    losses = []
    for _ in range(epochs):
        loss, grads = model.loss(X, y)
        losses.append(float(loss))
        for k in model.params:
            model.params[k] -= lr * grads[k]
    # END SOLUTION
    return losses


def sgd(model, X, y, lr, epochs, batch_size, seed):
    """Minibatch stochastic gradient descent, in exactly the order of handout §5.2.

    The grader replays that order: one generator for the whole run, a new
    permutation of the examples every epoch, batches taken from it in order
    (the last one may be smaller), and each batch's loss recorded before its
    step.

    Inputs:
    - model: e.g. an mlp.MLP (see the module docstring)
    - X: data, shape (N, D)
    - y: integer labels, shape (N,)
    - lr: float, learning rate
    - epochs: int, number of passes over the data
    - batch_size: int, number of examples per batch
    - seed: int, seed of the shuffling generator

    Returns:
    - losses: list of floats, one per batch (epochs * ceil(N / batch_size) in
      all), each the batch loss BEFORE that batch's update
    """
    # BEGIN SOLUTION hint: §5.2: the list of batch losses, in the order §5.2 pins; model.params updated in place
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            loss, grads = model.loss(X[idx], y[idx])
            losses.append(float(loss))
            for k in model.params:
                model.params[k] -= lr * grads[k]
    # END SOLUTION
    return losses


def train_digits(X_train, y_train, X_val, y_val, seed=0):
    """Train an mlp.MLP on scikit-learn's 8x8 digits shown in both polarities (handout §5.3).

    The grader loads sklearn.datasets.load_digits, divides the pixels by 16.0
    (so X has values in [0, 1], shape (N, 64), float64; y has labels 0..9) and
    splits it into train / validation / held-out test sets. Each image is, at
    random, either kept (a light digit on a dark ground) or contrast-inverted to
    1 - x (dark on light); the training and validation images you get are mixed
    like that, and so are the held-out images, whose polarities the grader draws
    itself. A model without a hidden layer cannot serve both polarities (see the
    handout). Use X_val / y_val to tune your architecture and hyperparameters.

    The grader never calls your model: it reads model.params and
    model.activation and computes the scores itself, as the MLP class docstring
    specifies (linear -> activation, ..., linear), on held-out images you never
    get. It needs at least 90% accuracy, and training must take a few seconds at
    most on one CPU core.

    Inputs:
    - X_train: shape (N_train, 64); y_train: shape (N_train,)
    - X_val: shape (N_val, 64); y_val: shape (N_val,)
    - seed: int, use it for every random choice (initialisation, shuffling)

    Returns:
    - model: the trained mlp.MLP, with
      - model.params: {"W1": (64, D_1), "b1": (D_1,), ..., "WL": (D_{L-1}, 10),
        "bL": (10,)}, float arrays
      - model.activation: "relu", "sigmoid" or "tanh", used after every linear
        layer but the last
    """
    # BEGIN SOLUTION hint: §5.3: a trained MLP whose params and activation reach the bar on digits it never saw
    model = mlp.MLP([X_train.shape[1], 128, 10], activation="relu", seed=seed)
    sgd(model, X_train, y_train, lr=0.1, epochs=40, batch_size=32, seed=seed)
    # END SOLUTION
    return model
