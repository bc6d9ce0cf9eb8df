"""Public tests for convergence.py: the test problems, epochs to tolerance, and what they show."""

import numpy as np
import pytest

from autograder.testing import assert_close


def _check_problem(result, expected, what):
    f, grad, hessian = result
    ef, eg, eH = expected
    assert np.ndim(f) == 0, f"{what}: f must be a scalar, got shape {np.shape(f)}"
    assert_close(float(f), ef, name=f"{what}: f")
    assert_close(grad, eg, name=f"{what}: grad")
    assert_close(hessian, eH, name=f"{what}: hessian")


@pytest.mark.points(1)
def test_quadratic(submission, oracle, rng):
    """quadratic returns the value, gradient and Hessian of the ill-conditioned quadratic (torch autograd)."""
    w = rng.standard_normal(6)
    _check_problem(submission.convergence.quadratic(w, 50.0), oracle.quadratic(w, 50.0),
                   "quadratic(w, 50.0)")


@pytest.mark.points(2)
def test_rosenbrock(submission, oracle, rng):
    """rosenbrock returns the value, gradient and Hessian of the Rosenbrock function (torch autograd)."""
    for w in (np.array([-1.2, 1.0]), rng.standard_normal(2)):
        _check_problem(submission.convergence.rosenbrock(w), oracle.rosenbrock(w),
                       f"rosenbrock({w.tolist()})")


@pytest.mark.points(2)
def test_epochs_to_tolerance_gd_quadratic(submission, oracle):
    """epochs_to_tolerance counts GD's epochs on the quadratic exactly (torch.optim.SGD)."""
    w0 = np.ones(4)
    hyper = {"lr": 0.015}
    epochs = submission.convergence.epochs_to_tolerance("gd", "quadratic", w0, hyper, 1e-6, 2000)
    expected = oracle.epochs_to_tolerance("gd", "quadratic", w0, hyper, 1e-6, 2000)
    assert epochs == expected, f"epochs_to_tolerance returned {epochs}, expected {expected}"


@pytest.mark.points(3)
def test_momentum_and_adam_beat_gd_on_quadratic(submission, oracle, check, rng):
    """compare_optimizers: its epochs on the quadratic are torch's, and momentum and Adam need fewer than GD."""
    tol = float(10.0 ** rng.uniform(-9.0, -7.0))  # not the default: the numbers must be computed
    result = submission.convergence.compare_optimizers(tol, 5000)
    q = check.compare_optimizers_matches(result, oracle, submission.optimizers, "quadratic",
                                         ("gd", "momentum", "adam"), tol, 5000)
    gd, momentum, adam = q["gd"], q["momentum"], q["adam"]
    assert gd is not None and gd > 0, "GD should reach the tolerance on the quadratic"
    assert momentum is not None and momentum < gd, "momentum should need fewer epochs than GD"
    assert adam is not None and adam < gd, "Adam should need fewer epochs than GD"
