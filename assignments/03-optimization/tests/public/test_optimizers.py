"""Public tests for optimizers.py: every optimizer against torch.optim or a closed form."""

import numpy as np
import pytest

from autograder.testing import assert_close

SHAPES = {"W": (3, 4), "b": (4,)}


def _params(rng):
    return {k: rng.standard_normal(s) for k, s in SHAPES.items()}


def _compare(submission, oracle, check, rng, random_grads, name, cls, hyper, steps=5):
    """Student optimizer vs torch.optim over ``steps`` steps of random gradients (Adam: either
    place of eps the handout accepts). Adam's first step and Momentum's velocity are checked
    by their property first, then every step's values."""
    params0 = _params(rng)
    grads = random_grads(SHAPES, steps)
    opt = getattr(submission.optimizers, cls)({k: v.copy() for k, v in params0.items()}, **hyper)
    actual = check.student_trajectory(opt, grads=grads)
    what = f"{cls}(**{hyper})"
    if name == "adam":
        check.adam_first_step(params0, actual[0], grads[0], hyper["lr"], what,
                              hyper["beta1"], hyper["beta2"])
    if name == "momentum":
        check.momentum_keeps_velocity(params0, actual, grads, hyper["lr"], what)
    expected = oracle.trajectories(name, hyper, params0, grads=grads)
    check.same_trajectory_as_one_of(actual, expected, what, start=params0)


@pytest.mark.points(1)
def test_gd_matches_torch(submission, oracle, check, rng, random_grads):
    """GD matches torch.optim.SGD over 5 steps."""
    _compare(submission, oracle, check, rng, random_grads, "gd", "GD", {"lr": 0.1})


@pytest.mark.points(2)
def test_momentum_matches_torch(submission, oracle, check, rng, random_grads):
    """Momentum matches torch.optim.SGD(momentum=0.9) over 5 steps."""
    _compare(submission, oracle, check, rng, random_grads, "momentum", "Momentum",
             {"lr": 0.1, "momentum": 0.9})


@pytest.mark.points(2)
def test_adagrad_matches_torch(submission, oracle, check, rng, random_grads):
    """AdaGrad matches torch.optim.Adagrad over 5 steps."""
    _compare(submission, oracle, check, rng, random_grads, "adagrad", "AdaGrad",
             {"lr": 0.1, "eps": 1e-10})


@pytest.mark.points(2)
def test_rmsprop_matches_torch(submission, oracle, check, rng, random_grads):
    """RMSProp matches torch.optim.RMSprop over 5 steps."""
    _compare(submission, oracle, check, rng, random_grads, "rmsprop", "RMSProp",
             {"lr": 0.01, "alpha": 0.9, "eps": 1e-8})


@pytest.mark.points(2)
def test_adadelta_matches_torch(submission, oracle, check, rng, random_grads):
    """AdaDelta matches torch.optim.Adadelta over 5 steps."""
    _compare(submission, oracle, check, rng, random_grads, "adadelta", "AdaDelta",
             {"lr": 1.0, "rho": 0.9, "eps": 1e-6})


@pytest.mark.points(3)
def test_adam_matches_torch(submission, oracle, check, rng, random_grads):
    """Adam (with bias correction) matches torch.optim.Adam over 5 steps."""
    _compare(submission, oracle, check, rng, random_grads, "adam", "Adam",
             {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8})


@pytest.mark.points(2)
def test_newton_step_closed_form(submission, oracle, rng):
    """Newton.step moves w by -lr * solve(H + damping * I, g) with a given Hessian."""
    n = 4
    A = rng.standard_normal((n, n))
    H = A @ A.T + np.eye(n)
    w0 = rng.standard_normal(n)
    g = rng.standard_normal(n)
    opt = submission.optimizers.Newton({"w": w0.copy()}, lr=1.0, damping=0.5)
    opt.step({"w": g}, {"w": H})
    assert_close(opt.params["w"], oracle.newton_step(w0, g, H, 1.0, 0.5),
                 name="params['w'] after one Newton step")


@pytest.mark.points(3)
def test_lbfgs_matches_torch(submission, oracle, check, rng):
    """LBFGS matches torch.optim.LBFGS (max_iter=1, no line search) over 8 steps on a quadratic."""
    n = 5
    A = rng.standard_normal((n, n))
    H = A @ A.T / n + np.eye(n)
    c = rng.standard_normal(n)

    def grad_fn(params):
        return {"w": H @ params["w"] - c}

    w0 = rng.standard_normal(n)
    hyper = {"lr": 0.5, "history_size": 4}
    opt = submission.optimizers.LBFGS({"w": w0.copy()}, **hyper)
    actual = check.student_trajectory(opt, grad_fn=grad_fn, steps=8)
    expected = oracle.torch_trajectory("lbfgs", hyper, {"w": w0}, grad_fn=grad_fn, steps=8)
    check.same_trajectory(actual, expected, "LBFGS(lr=0.5, history_size=4)")
