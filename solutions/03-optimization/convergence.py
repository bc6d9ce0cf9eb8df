"""How many epochs does each optimizer need to reach a minimum? (numpy only)

Two test problems, both with minimum value 0:

- ``quadratic``: an ill-conditioned quadratic bowl, whose curvatures range from
  1 to ``condition_number``;
- ``rosenbrock``: the Rosenbrock function, a curved, narrow valley.

``epochs_to_tolerance`` runs one optimizer of ``optimizers.py`` on one problem
and counts the epochs (steps: both problems are deterministic, so one epoch is
one full-batch gradient step) until the loss is at most ``tol``.
``compare_optimizers`` does it for every optimizer on both problems, with the
hyperparameters of ``HYPERPARAMETERS`` and the starting points of ``START``.
The handout's §4 defines the problems and the counting rule.
"""

import numpy as np
import optimizers


def quadratic(w, condition_number=100.0):
    """Ill-conditioned quadratic bowl (handout §4.1).

    The curvatures along the axes are log-spaced from 1 to condition_number
    (a single curvature 1 when n == 1). The minimum is 0, at w = 0.

    Inputs:
    - w: array (n,)
    - condition_number: float >= 1, the ratio of the largest to the smallest curvature

    Returns a tuple of:
    - f: float, the value at w
    - grad: array (n,), the gradient at w
    - hessian: array (n, n), the Hessian at w

    w is not modified.
    """
    # BEGIN SOLUTION hint: §4.1: f (a float), grad (n,) and hessian (n, n) at w
    w = np.asarray(w, dtype=np.float64)
    n = w.shape[0]
    lam = np.ones(1) if n == 1 else condition_number ** (np.arange(n) / (n - 1))
    f = float(0.5 * np.sum(lam * w * w))
    grad = lam * w
    hessian = np.diag(lam)
    # END SOLUTION
    return f, grad, hessian


def rosenbrock(w, a=1.0, b=100.0):
    """Rosenbrock function of w = [x, y] (handout §4.1).

    The minimum is 0, at x = a and y = a squared.

    Inputs:
    - w: array (2,)
    - a, b: floats, the function's constants

    Returns a tuple of:
    - f: float, the value at w
    - grad: array (2,), the gradient at w
    - hessian: array (2, 2), the Hessian at w

    w is not modified.
    """
    # BEGIN SOLUTION hint: §4.1: f (a float), grad (2,) and hessian (2, 2) at w
    x, y = float(w[0]), float(w[1])
    f = (a - x) ** 2 + b * (y - x * x) ** 2
    grad = np.array([-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)])
    hessian = np.array(
        [[2.0 - 4.0 * b * (y - x * x) + 8.0 * b * x * x, -4.0 * b * x], [-4.0 * b * x, 2.0 * b]]
    )
    # END SOLUTION
    return f, grad, hessian


PROBLEMS = {"quadratic": quadratic, "rosenbrock": rosenbrock}

OPTIMIZERS = {
    "gd": optimizers.GD,
    "momentum": optimizers.Momentum,
    "adagrad": optimizers.AdaGrad,
    "rmsprop": optimizers.RMSProp,
    "adadelta": optimizers.AdaDelta,
    "adam": optimizers.Adam,
    "newton": optimizers.Newton,
    "lbfgs": optimizers.LBFGS,
}

# Starting points of compare_optimizers.
START = {
    "quadratic": np.ones(10),
    "rosenbrock": np.array([-1.2, 1.0]),
}

# Hyperparameters of compare_optimizers: HYPERPARAMETERS[problem][optimizer] are
# the keyword arguments of the optimizer's constructor (besides params).
HYPERPARAMETERS = {
    "quadratic": {
        "gd": {"lr": 0.019},
        "momentum": {"lr": 0.033, "momentum": 0.67},
        "adagrad": {"lr": 0.5},
        "rmsprop": {"lr": 0.01},
        "adadelta": {"lr": 1.0},
        "adam": {"lr": 0.1},
        "newton": {"lr": 1.0, "damping": 0.0},
        "lbfgs": {"lr": 1.0, "history_size": 10},
    },
    "rosenbrock": {
        "gd": {"lr": 0.001},
        "momentum": {"lr": 0.002, "momentum": 0.9},
        "adagrad": {"lr": 0.5},
        "rmsprop": {"lr": 0.01},
        "adadelta": {"lr": 1.0},
        "adam": {"lr": 0.05},
        "newton": {"lr": 1.0, "damping": 1e-3},
        "lbfgs": {"lr": 1.0, "history_size": 10},
    },
}


def epochs_to_tolerance(name, problem, w0, hyperparams, tol=1e-8, max_epochs=1000):
    """Run one optimizer on one problem and count the epochs until f(w) <= tol (handout §4.2).

    The optimizer is OPTIMIZERS[name]({"w": w}, **hyperparams) with w a float64
    copy of w0 (w0 is never modified); each epoch is one step with the
    problem's gradient at the current w (Newton also gets its Hessian).

    Inputs:
    - name: str, a key of OPTIMIZERS ("gd", "momentum", ..., "lbfgs")
    - problem: str, a key of PROBLEMS ("quadratic" or "rosenbrock"), called
      with its default constants
    - w0: array (n,), the starting point (n = 2 for "rosenbrock")
    - hyperparams: dict of keyword arguments for the optimizer, e.g. {"lr": 0.1}
    - tol: float, the target loss (both minima are 0)
    - max_epochs: int, the most steps to take

    Returns:
    - epochs: int, the number of steps after which f(w) <= tol for the first
      time (0 if f(w0) <= tol), or None if max_epochs steps were not enough
    """
    # BEGIN SOLUTION hint: §4.2: the number of steps until the loss reaches tol, or None
    fn = PROBLEMS[problem]
    w = np.array(w0, dtype=np.float64)
    params = {"w": w}
    opt = OPTIMIZERS[name](params, **hyperparams)
    epochs = 0
    while True:
        f, grad, hessian = fn(params["w"])
        if not f > tol:
            return epochs
        if epochs == max_epochs:
            return None
        if name == "newton":
            opt.step({"w": grad}, {"w": hessian})
        else:
            opt.step({"w": grad})
        epochs += 1
    # END SOLUTION


def compare_optimizers(tol=1e-8, max_epochs=5000):
    """Epochs to tolerance of every optimizer on both problems (handout §4.3).

    Runs epochs_to_tolerance(name, problem, START[problem],
    HYPERPARAMETERS[problem][name], tol, max_epochs) for every problem and
    every optimizer name of OPTIMIZERS.

    Inputs:
    - tol: float, the target loss
    - max_epochs: int, the most steps for each run

    Returns:
    - epochs: dict problem -> dict optimizer name -> int or None, e.g.
      {"quadratic": {"gd": 463, "momentum": 65, ...}, "rosenbrock": {...}}

    START is read at each call and never modified (the grader may set it).
    """
    # BEGIN SOLUTION hint: §4.3: the dict of epochs, problem to optimizer name to int or None
    return {
        problem: {
            name: epochs_to_tolerance(
                name, problem, START[problem], HYPERPARAMETERS[problem][name], tol, max_epochs
            )
            for name in OPTIMIZERS
        }
        for problem in PROBLEMS
    }
    # END SOLUTION
