"""Hidden tests for convergence.py: exact epoch counts for every optimizer, the counting
rule at its edges, and what compare_optimizers shows about second-order methods."""

import numpy as np
import pytest

from autograder.testing import assert_close

# (optimizer, problem, w0, hyperparameters, tol, max_epochs)
CASES = {
    "momentum": ("quadratic", np.ones(6), {"lr": 0.02, "momentum": 0.8}, 1e-6, 2000),
    "adagrad": ("quadratic", np.full(5, 0.5), {"lr": 0.3}, 1e-6, 2000),
    "rmsprop": ("quadratic", np.ones(3), {"lr": 0.01, "alpha": 0.9}, 1e-4, 2000),
    "adadelta": ("quadratic", np.ones(4), {"lr": 2.0, "rho": 0.95}, 1e-4, 2000),
    "adam": ("rosenbrock", np.array([-1.0, 1.5]), {"lr": 0.05, "beta1": 0.9}, 1e-4, 3000),
}


@pytest.mark.points(1)
@pytest.mark.parametrize("name", sorted(CASES))
def test_epochs_to_tolerance_matches_torch(submission, oracle, name):
    """epochs_to_tolerance counts the epochs of each first-order optimizer exactly (torch.optim)."""
    problem, w0, hyper, tol, max_epochs = CASES[name]
    epochs = submission.convergence.epochs_to_tolerance(name, problem, w0, hyper, tol, max_epochs)
    expected = oracle.epochs_to_tolerance(name, problem, w0, hyper, tol, max_epochs)
    assert expected is not None
    assert epochs == expected, f"{name} on {problem}: the epoch count is wrong"


@pytest.mark.points(2)
def test_epochs_to_tolerance_newton_and_lbfgs(submission, oracle):
    """epochs_to_tolerance counts Newton's and L-BFGS's epochs exactly on both problems."""
    cases = [
        ("newton", "rosenbrock", np.array([-1.2, 1.0]), {"lr": 1.0, "damping": 1e-3}, 1e-10),
        ("newton", "quadratic", np.ones(5), {"lr": 0.5, "damping": 0.0}, 1e-8),
        ("lbfgs", "quadratic", np.ones(8), {"lr": 1.0, "history_size": 5}, 1e-10),
        ("lbfgs", "rosenbrock", np.array([-1.2, 1.0]), {"lr": 1.0, "history_size": 10}, 1e-8),
    ]
    for name, problem, w0, hyper, tol in cases:
        epochs = submission.convergence.epochs_to_tolerance(name, problem, w0, hyper, tol, 500)
        expected = oracle.epochs_to_tolerance(name, problem, w0, hyper, tol, 500)
        assert expected is not None
        assert epochs == expected, f"{name} on {problem}: the epoch count is wrong"


@pytest.mark.points(1)
def test_epochs_to_tolerance_edges(submission, oracle):
    """epochs_to_tolerance returns 0 at the minimum, and None only when max_epochs steps are not enough."""
    f = submission.convergence.epochs_to_tolerance
    assert f("gd", "quadratic", np.zeros(3), {"lr": 0.01}, 1e-8, 10) == 0, (
        "a start at the minimum needs 0 epochs")
    w0, hyper, tol = np.ones(3), {"lr": 0.015}, 1e-4
    needed = oracle.epochs_to_tolerance("gd", "quadratic", w0, hyper, tol, 5000)
    assert f("gd", "quadratic", w0, hyper, tol, needed) == needed, (
        "reaching the tolerance at exactly max_epochs must count")
    assert f("gd", "quadratic", w0, hyper, tol, needed - 1) is None, (
        "must return None when max_epochs steps are not enough")


def _tolerance(rng) -> float:
    """A tolerance in [1e-9, 1e-7], drawn per submission: the numbers must be computed."""
    return float(10.0 ** rng.uniform(-9.0, -7.0))


@pytest.mark.points(2)
def test_second_order_on_quadratic(submission, oracle, check, rng):
    """compare_optimizers: Newton needs one epoch on the quadratic, L-BFGS fewer than every first-order method."""
    tol, first_order = _tolerance(rng), ("gd", "momentum", "rmsprop", "adadelta", "adam")
    result = submission.convergence.compare_optimizers(tol, 5000)
    q = check.compare_optimizers_matches(result, oracle, submission.optimizers, "quadratic",
                                         ("newton", "lbfgs", *first_order), tol, 5000)
    assert q["newton"] == 1, "Newton's method should minimize a quadratic in one step"
    lbfgs = q["lbfgs"]
    assert lbfgs is not None, "L-BFGS should reach the tolerance on the quadratic"
    for name in first_order:
        other = q[name]
        assert other is None or lbfgs < other, f"L-BFGS should need fewer epochs than {name}"


@pytest.mark.points(3)
def test_rosenbrock_ranking(submission, oracle, check, rng):
    """compare_optimizers on Rosenbrock: Newton < L-BFGS < momentum and Adam, while GD does not get there."""
    # 3000 epochs: Adam needs about 2,100 at the smallest tolerance, GD far more than 5,000.
    tol, max_epochs = _tolerance(rng), 3000
    result = submission.convergence.compare_optimizers(tol, max_epochs)
    names = ("gd", "newton", "lbfgs", "momentum", "adam")
    r = check.compare_optimizers_matches(result, oracle, submission.optimizers, "rosenbrock", names,
                                         tol, max_epochs)
    assert r["gd"] is None, f"GD should not reach the tolerance on Rosenbrock within {max_epochs} epochs"
    for name in ("newton", "lbfgs", "momentum", "adam"):
        assert r[name] is not None, f"{name} should reach the tolerance on Rosenbrock"
    assert r["newton"] < r["lbfgs"], "Newton should need fewer epochs than L-BFGS"
    assert r["lbfgs"] < min(r["momentum"], r["adam"]), (
        "L-BFGS should need fewer epochs than momentum and Adam")


@pytest.mark.points(2)
def test_compare_optimizers_leaves_start_unchanged(submission, oracle, check, rng):
    """compare_optimizers starts every optimizer from START and never modifies it (no function modifies its inputs)."""
    # Rosenbrock from the handout's start: some optimizers of the experiment diverge from others.
    start = {"quadratic": rng.uniform(0.5, 1.5, 6), "rosenbrock": np.array([-1.2, 1.0])}
    submission.convergence.START = {k: v.copy() for k, v in start.items()}
    tol, max_epochs = 1e-4, 100
    result = submission.convergence.compare_optimizers(tol, max_epochs)
    after = submission.convergence.START
    for problem, w0 in start.items():
        assert_close(after[problem], w0, name=f"START[{problem!r}] after compare_optimizers "
                     "(a modified START means an optimizer updated w0 in place)")
    names = ("gd", "momentum", "adagrad", "rmsprop", "adadelta", "adam", "newton", "lbfgs")
    for problem, w0 in start.items():
        check.compare_optimizers_matches(result, oracle, submission.optimizers, problem, names,
                                         tol, max_epochs, start=w0)
