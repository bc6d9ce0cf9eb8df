"""Hidden tests for optimizers.py: where eps goes, bias correction, state over many steps,
non-default hyperparameters, damping, and the L-BFGS recursion."""

import numpy as np
import pytest

from autograder.testing import assert_close


def _regression(rng, D=3, M=2, N=20):
    """A least-squares problem: params {"W": (D, M), "b": (M,)}, grad_fn(params) -> grads."""
    X = rng.standard_normal((N, D))
    Y = rng.standard_normal((N, M))

    def grad_fn(params):
        r = X @ params["W"] + params["b"] - Y
        return {"W": 2.0 * X.T @ r / N, "b": 2.0 * r.mean(axis=0)}

    params0 = {"W": rng.standard_normal((D, M)), "b": rng.standard_normal(M)}
    return params0, grad_fn


def _copy(params):
    return {k: v.copy() for k, v in params.items()}


def _on_function(submission, oracle, check, rng, name, cls, hyper, steps):
    params0, grad_fn = _regression(rng)
    opt = getattr(submission.optimizers, cls)(_copy(params0), **hyper)
    actual = check.student_trajectory(opt, grad_fn=grad_fn, steps=steps)
    what = f"{cls}(**{hyper}) on a least-squares problem"
    if name == "adam":
        check.adam_first_step(params0, actual[0], grad_fn(params0), hyper["lr"], what,
                              hyper["beta1"], hyper["beta2"])
    if name == "momentum":
        # the gradients the student was given: at the student's own parameters
        given = [grad_fn(p) for p in [params0, *actual[:-1]]]
        check.momentum_keeps_velocity(params0, actual, given, hyper["lr"], what)
    expected = oracle.trajectories(name, hyper, params0, grad_fn=grad_fn, steps=steps)
    check.same_trajectory_as_one_of(actual, expected, what, start=params0)


def _on_small_grads(submission, oracle, check, rng, random_grads, name, cls, hyper, steps=5):
    """Small gradients and a large eps, where the place of eps shows: torch's convention only."""
    shapes = {"W": (4, 3), "b": (3,)}
    params0 = {k: rng.standard_normal(s) for k, s in shapes.items()}
    grads = random_grads(shapes, steps, scale=1e-2)
    opt = getattr(submission.optimizers, cls)(_copy(params0), **hyper)
    actual = check.student_trajectory(opt, grads=grads)
    expected = oracle.torch_trajectory(name, hyper, params0, grads=grads)
    check.same_trajectory(actual, expected, f"{cls}(**{hyper}) with small gradients",
                          start=params0)


@pytest.mark.points(1)
def test_gd_two_parameters_on_function(submission, oracle, check, rng):
    """GD follows torch.optim.SGD on a least-squares problem for 10 steps."""
    _on_function(submission, oracle, check, rng, "gd", "GD", {"lr": 0.05}, 10)


@pytest.mark.points(2)
def test_momentum_on_function(submission, oracle, check, rng):
    """Momentum follows torch.optim.SGD(momentum=0.5) on a least-squares problem for 25 steps."""
    _on_function(submission, oracle, check, rng, "momentum", "Momentum",
                 {"lr": 0.05, "momentum": 0.5}, 25)


@pytest.mark.points(2)
def test_adagrad_eps_outside_sqrt(submission, oracle, check, rng, random_grads):
    """AdaGrad puts eps outside the square root (large eps, small gradients)."""
    _on_small_grads(submission, oracle, check, rng, random_grads, "adagrad", "AdaGrad",
                    {"lr": 0.1, "eps": 0.05})


@pytest.mark.points(2)
def test_rmsprop_eps_outside_sqrt(submission, oracle, check, rng, random_grads):
    """RMSProp puts eps outside the square root and uses alpha (large eps, small gradients)."""
    _on_small_grads(submission, oracle, check, rng, random_grads, "rmsprop", "RMSProp",
                    {"lr": 0.01, "alpha": 0.5, "eps": 0.01})


@pytest.mark.points(2)
def test_adadelta_on_function(submission, oracle, check, rng):
    """AdaDelta with non-default lr, rho and eps follows torch.optim.Adadelta for 20 steps."""
    _on_function(submission, oracle, check, rng, "adadelta", "AdaDelta",
                 {"lr": 0.5, "rho": 0.5, "eps": 1e-3}, 20)


@pytest.mark.points(2)
def test_adam_first_step_is_lr_sized(submission, check, rng):
    """Adam's first step is lr * g / (|g| + eps), about lr per entry whatever the gradient's scale."""
    g = rng.standard_normal(8) * np.logspace(-3, 3, 8)
    w0 = rng.standard_normal(8)
    lr, eps = 0.01, 1e-8
    opt = submission.optimizers.Adam({"w": w0.copy()}, lr=lr, eps=eps)
    opt.step({"w": g})
    w = opt.params["w"]
    check.adam_first_step({"w": w0}, opt.params, {"w": g}, lr, "Adam(lr=0.01, eps=1e-8)")
    # Kingma & Ba's efficient form adds eps to sqrt(v) = sqrt(1 - beta2) |g| at the first step.
    efficient = w0 - lr * g / (np.abs(g) + eps / np.sqrt(1 - 0.999))
    if not (isinstance(w, np.ndarray) and w.shape == efficient.shape
            and np.allclose(w, efficient, rtol=1e-6, atol=1e-8)):
        assert_close(w, w0 - lr * g / (np.abs(g) + eps), name="params['w'] after Adam's first step")


@pytest.mark.points(2)
def test_adam_eps_after_bias_correction(submission, oracle, check, rng, random_grads):
    """Adam adds eps to sqrt(v_hat), after bias correction (large eps, small gradients)."""
    _on_small_grads(submission, oracle, check, rng, random_grads, "adam", "Adam",
                    {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 0.01}, steps=6)


@pytest.mark.points(2)
def test_adam_on_function(submission, oracle, check, rng):
    """Adam with non-default betas follows torch.optim.Adam on a least-squares problem for 30 steps."""
    _on_function(submission, oracle, check, rng, "adam", "Adam",
                 {"lr": 0.05, "beta1": 0.5, "beta2": 0.9}, 30)


@pytest.mark.points(1)
def test_default_hyperparameters(submission, oracle, check, rng, random_grads):
    """AdaGrad, RMSProp, AdaDelta and Adam built with params only use torch's defaults."""
    shapes = {"w": (5,)}
    for name, cls in (("adagrad", "AdaGrad"), ("rmsprop", "RMSProp"),
                      ("adadelta", "AdaDelta"), ("adam", "Adam")):
        params0 = {"w": rng.standard_normal(5)}
        grads = random_grads(shapes, 3, scale=1e-3)
        opt = getattr(submission.optimizers, cls)(_copy(params0))
        actual = check.student_trajectory(opt, grads=grads)
        expected = oracle.trajectories(name, {}, params0, grads=grads)
        check.same_trajectory_as_one_of(actual, expected, f"{cls}(params) with default hyperparameters",
                                        start=params0)


def _double_well(w):
    """f(w) = 0.5 w0^2 - 0.5 w1^2 + 0.25 w1^4: minima (0, +-1), saddle (0, 0)."""
    f = 0.5 * w[0] ** 2 - 0.5 * w[1] ** 2 + 0.25 * w[1] ** 4
    g = np.array([w[0], -w[1] + w[1] ** 3])
    H = np.diag([1.0, -1.0 + 3.0 * w[1] ** 2])
    return f, g, H


@pytest.mark.points(2)
def test_newton_damping_escapes_negative_curvature(submission, oracle):
    """Damped Newton from a point of negative curvature decreases f at every step and reaches a minimum."""
    w0 = np.array([0.5, 0.2])
    lr, damping = 1.0, 2.0
    opt = submission.optimizers.Newton({"w": w0.copy()}, lr=lr, damping=damping)
    w = w0
    f_prev = _double_well(w)[0]
    for t in range(20):
        _, g, H = _double_well(w)
        opt.step({"w": g}, {"w": H})
        new_w = opt.params["w"]
        assert_close(new_w, oracle.newton_step(w, g, H, lr, damping),
                     name=f"params['w'] after damped Newton step {t + 1}")
        f = _double_well(new_w)[0]
        assert f < f_prev, f"f increased at step {t + 1}: the step is not a descent step"
        w, f_prev = new_w, f
    assert abs(w[0]) < 1e-3 and abs(abs(w[1]) - 1.0) < 1e-3, "damped Newton did not reach a minimum"


@pytest.mark.points(1)
def test_newton_matrix_parameter_and_lr(submission, oracle, rng):
    """Newton handles a matrix parameter (Hessian of its ravel) and a step size lr != 1."""
    W0 = rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 3))
    A = rng.standard_normal((6, 6))
    H = A @ A.T + 0.5 * np.eye(6)
    opt = submission.optimizers.Newton({"W": W0.copy()}, lr=0.5, damping=0.1)
    opt.step({"W": g}, {"W": H})
    assert_close(opt.params["W"], oracle.newton_step(W0, g, H, 0.5, 0.1),
                 name="params['W'] after one Newton step")


def _pairs(rng, n, m):
    A = rng.standard_normal((n, n))
    A = A @ A.T + np.eye(n)
    S = [rng.standard_normal(n) for _ in range(m)]
    Y = [A @ s + 0.1 * rng.standard_normal(n) for s in S]
    return S, Y


@pytest.mark.points(2)
def test_lbfgs_direction_matches_bfgs_matrix(submission, oracle, rng):
    """lbfgs_direction equals -H g for the explicit BFGS inverse-Hessian update (gamma I start)."""
    n = 6
    g = rng.standard_normal(n)
    d = submission.optimizers.lbfgs_direction(g, [], [])
    assert_close(d, -g, name="lbfgs_direction with an empty history")
    for m in (1, 4):
        S, Y = _pairs(rng, n, m)
        d = submission.optimizers.lbfgs_direction(g, S, Y)
        assert_close(d, -oracle.bfgs_inverse_hessian(S, Y) @ g,
                     name=f"lbfgs_direction with {m} pair(s)")


@pytest.mark.points(1)
def test_lbfgs_converges_in_n_steps_on_quadratic(submission, rng):
    """With exact line searches, L-BFGS directions minimize an n-dimensional quadratic in n steps."""
    n = 5
    A = rng.standard_normal((n, n))
    A = A @ A.T + np.eye(n)
    c = rng.standard_normal(n)
    x = rng.standard_normal(n)
    S, Y = [], []
    g = A @ x - c
    g0 = np.linalg.norm(g)
    for _ in range(n):
        d = np.asarray(submission.optimizers.lbfgs_direction(g, S, Y), dtype=np.float64)
        assert g @ d < 0, "the L-BFGS direction is not a descent direction"
        alpha = -(g @ d) / (d @ A @ d)
        s = alpha * d
        x = x + s
        g_new = A @ x - c
        S.append(s)
        Y.append(g_new - g)
        g = g_new
    assert np.linalg.norm(g) < 1e-6 * g0, "the gradient is not zero after n exact L-BFGS steps"


@pytest.mark.points(2)
def test_lbfgs_history_and_curvature_check(submission, oracle, check, rng):
    """LBFGS follows torch.optim.LBFGS with a short history, and skips negative-curvature pairs."""
    params0, grad_fn = _regression(rng, D=4, M=3)
    hyper = {"lr": 0.5, "history_size": 2}
    opt = submission.optimizers.LBFGS(_copy(params0), **hyper)
    actual = check.student_trajectory(opt, grad_fn=grad_fn, steps=15)
    expected = oracle.torch_trajectory("lbfgs", hyper, params0, grad_fn=grad_fn, steps=15)
    check.same_trajectory(actual, expected, "LBFGS(lr=0.5, history_size=2)")

    def well_grad(params):
        return {"w": _double_well(params["w"])[1]}

    w0 = {"w": np.array([0.01, 0.2])}
    hyper = {"lr": 0.5, "history_size": 5}
    opt = submission.optimizers.LBFGS(_copy(w0), **hyper)
    actual = check.student_trajectory(opt, grad_fn=well_grad, steps=10)
    expected = oracle.torch_trajectory("lbfgs", hyper, w0, grad_fn=well_grad, steps=10)
    check.same_trajectory(actual, expected, "LBFGS(lr=0.5) on a function with negative curvature")
