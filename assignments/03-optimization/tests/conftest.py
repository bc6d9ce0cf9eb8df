"""Shared helpers of assignment 03's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results from torch (``torch.optim``, ``F.batch_norm``,
  autograd), scipy (``scipy.optimize.rosen`` and its derivatives) and closed forms,
  independent of our reference solution;
- ``check``: assertions that several graders make (optimizer trajectories).

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at, and nothing in it may
re-implement in numpy what students write (the test problems' derivatives, the
L-BFGS inverse-Hessian): those oracles are library calls here, or live in
``tests/hidden/conftest.py``, which never ships.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import rosen, rosen_der, rosen_hess

from autograder.diagnosis import diagnose
from autograder.testing import AssertCloseError, assert_close

Params = dict[str, np.ndarray]
GradFn = Callable[[Params], Params]

# Our optimizer names -> (torch class, {our hyperparameter: torch keyword}).
TORCH_OPTIMIZERS = {
    "gd": (torch.optim.SGD, {"lr": "lr"}),
    "momentum": (torch.optim.SGD, {"lr": "lr", "momentum": "momentum"}),
    "adagrad": (torch.optim.Adagrad, {"lr": "lr", "eps": "eps"}),
    "rmsprop": (torch.optim.RMSprop, {"lr": "lr", "alpha": "alpha", "eps": "eps"}),
    "adadelta": (torch.optim.Adadelta, {"lr": "lr", "rho": "rho", "eps": "eps"}),
    "adam": (torch.optim.Adam, {"lr": "lr", "eps": "eps"}),
    "lbfgs": (torch.optim.LBFGS, {"lr": "lr", "history_size": "history_size"}),
}

# Where Adam's eps goes. Both are accepted, except by the test about where eps goes.
ADAM_EPS_TORCH = "eps added to sqrt(v_hat), after the bias correction (torch.optim.Adam)"
ADAM_EPS_KINGMA_BA = "eps added to sqrt(v), before the bias correction (Kingma & Ba's efficient form)"
ADAM_EPS = (ADAM_EPS_TORCH, ADAM_EPS_KINGMA_BA)

# Our optimizer names -> the class students write in optimizers.py.
CLASS_NAMES = {
    "gd": "GD",
    "momentum": "Momentum",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adadelta": "AdaDelta",
    "adam": "Adam",
    "newton": "Newton",
    "lbfgs": "LBFGS",
}


# The experiment of compare_optimizers as the handout fixes it (convergence.py's START and
# HYPERPARAMETERS, copied: the graders check the numbers of this experiment, whatever the module holds).
EXPERIMENT_START = {"quadratic": np.ones(10), "rosenbrock": np.array([-1.2, 1.0])}
EXPERIMENT_HYPERPARAMETERS = {
    "quadratic": {
        "gd": {"lr": 0.019}, "momentum": {"lr": 0.033, "momentum": 0.67}, "adagrad": {"lr": 0.5},
        "rmsprop": {"lr": 0.01}, "adadelta": {"lr": 1.0}, "adam": {"lr": 0.1},
        "newton": {"lr": 1.0, "damping": 0.0}, "lbfgs": {"lr": 1.0, "history_size": 10},
    },
    "rosenbrock": {
        "gd": {"lr": 0.001}, "momentum": {"lr": 0.002, "momentum": 0.9}, "adagrad": {"lr": 0.5},
        "rmsprop": {"lr": 0.01}, "adadelta": {"lr": 1.0}, "adam": {"lr": 0.05},
        "newton": {"lr": 1.0, "damping": 1e-3}, "lbfgs": {"lr": 1.0, "history_size": 10},
    },
}

# (problem, optimizer, tol, max_epochs) -> epochs: kept for the grading process's life (the
# public tests' tolerances repeat from one submission to the next).
_EXPERIMENT_EPOCHS: dict[tuple, int | None] = {}


def _copy(params: Params) -> Params:
    return {k: np.array(v, dtype=np.float64) for k, v in params.items()}


class Oracle:
    """Reference results for assignment 03, computed without our reference solution."""

    # ------------------------------------------------------------ optimizers
    @staticmethod
    def torch_optimizer(name: str, tensors: list[torch.Tensor], hyper: dict):
        """``torch.optim`` counterpart of our optimizer ``name`` with hyperparameters ``hyper``.

        Hyperparameters left out of ``hyper`` keep torch's defaults (which are ours,
        except Momentum's momentum and L-BFGS's history_size).
        """
        cls, names = TORCH_OPTIMIZERS[name]
        kwargs = {names[k]: v for k, v in hyper.items() if k in names}
        if name == "adam":
            kwargs["betas"] = (hyper.get("beta1", 0.9), hyper.get("beta2", 0.999))
        if name == "lbfgs":
            # One call to step = one L-BFGS iteration with the fixed step lr.
            kwargs.update(max_iter=1, line_search_fn=None, tolerance_grad=-1.0,
                          tolerance_change=0.0)
        return cls(tensors, **kwargs)

    def torch_trajectory(
        self,
        name: str,
        hyper: dict,
        params0: Params,
        grads: list[Params] | None = None,
        grad_fn: GradFn | None = None,
        steps: int | None = None,
        adam_eps: str = ADAM_EPS_TORCH,
    ) -> list[Params]:
        """Parameters after each of the steps of torch's optimizer ``name``, from ``params0``.

        The gradients are either the fixed sequence ``grads`` (one dict per step), or
        ``grad_fn(params)`` evaluated at the current parameters, for ``steps`` steps.
        ``adam_eps`` (Adam only) is where eps goes: ``ADAM_EPS_TORCH`` (added to
        sqrt(v_hat)) or ``ADAM_EPS_KINGMA_BA`` (the paper's "efficient" form, added to
        sqrt(v) before the bias correction: torch's Adam with eps / sqrt(1 - beta2**t) at step t).
        """
        keys = list(params0)
        tensors = [torch.tensor(params0[k], dtype=torch.float64) for k in keys]
        opt = self.torch_optimizer(name, tensors, hyper)
        n = len(grads) if grads is not None else steps
        out = []
        for t in range(n):
            if name == "adam" and adam_eps == ADAM_EPS_KINGMA_BA:
                eps, beta2 = hyper.get("eps", 1e-8), hyper.get("beta2", 0.999)
                opt.param_groups[0]["eps"] = eps / math.sqrt(1.0 - beta2 ** (t + 1))
            current = {k: p.detach().numpy().copy() for k, p in zip(keys, tensors, strict=True)}
            g = grads[t] if grads is not None else grad_fn(current)

            def closure(g=g):
                for k, p in zip(keys, tensors, strict=True):
                    p.grad = torch.tensor(g[k], dtype=torch.float64)
                return torch.tensor(0.0, dtype=torch.float64)

            closure()
            opt.step(closure)
            out.append({k: p.detach().numpy().copy() for k, p in zip(keys, tensors, strict=True)})
        return out

    def trajectories(self, name: str, hyper: dict, params0: Params, **gradients) -> dict[str, list[Params]]:
        """``torch_trajectory`` under every convention the handout accepts for ``name``:
        {convention: trajectory}, the torch convention first. Adam has two (where eps goes,
        see ``ADAM_EPS``): with the same eps they differ only where eps is not negligible
        next to sqrt(v_hat). ``gradients``: ``grads``, or ``grad_fn`` and ``steps``."""
        conventions = ADAM_EPS if name == "adam" else (ADAM_EPS_TORCH,)
        return {c: self.torch_trajectory(name, hyper, params0, adam_eps=c, **gradients)
                for c in conventions}

    @staticmethod
    def newton_step(w: np.ndarray, g: np.ndarray, H: np.ndarray, lr: float, damping: float):
        """Closed form w - lr * (H + damping I)^-1 g (w, g of any shape; H (w.size, w.size))."""
        A = H + damping * np.eye(H.shape[0])
        return w - lr * np.linalg.solve(A, g.ravel()).reshape(w.shape)

    # ------------------------------------------------------------ test problems
    # leak-check: off: this oracle restates the handout's specification, independently written
    @staticmethod
    def quadratic_curvatures(n: int, condition_number: float = 100.0) -> np.ndarray:
        """lam_i = condition_number ** (i / (n - 1)), i = 0..n-1 ([1.0] when n == 1)."""
        return np.ones(1) if n == 1 else condition_number ** (np.arange(n) / (n - 1))
    # leak-check: on

    def quadratic(self, w: np.ndarray, condition_number: float = 100.0):
        """(f, grad, hessian) of 0.5 * sum(lam * w**2) by torch autograd."""
        lam = torch.tensor(self.quadratic_curvatures(len(w), condition_number))
        return self._autograd(lambda v: 0.5 * (lam * v * v).sum(), w)

    def rosenbrock(self, w: np.ndarray, a: float = 1.0, b: float = 100.0):
        """(f, grad, hessian) of (a - x)**2 + b (y - x**2)**2 by torch autograd."""
        return self._autograd(lambda v: (a - v[0]) ** 2 + b * (v[1] - v[0] ** 2) ** 2, w)

    @staticmethod
    def _autograd(fn, w, need_hessian=True):
        """(f, grad, hessian or None) of ``fn`` at ``w`` by torch autograd (float64)."""
        wt = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
        f = fn(wt)
        (g,) = torch.autograd.grad(f, wt)
        H = torch.autograd.functional.hessian(fn, wt.detach()).numpy() if need_hessian else None
        return f.item(), g.numpy(), H

    # leak-check: off: this oracle restates the handout's specification, independently written
    def count_epochs(self, problem, w0, step, tol, max_epochs, need_hessian=False):
        """Epochs until f(w) <= tol on ``problem`` from ``w0``, where ``step(w, f, g, H)``
        returns the next w; None when max_epochs steps are not enough.

        Counts steps exactly as the handout says; the problem is evaluated here.
        """
        w = np.array(w0, dtype=np.float64)
        epochs = 0
        while True:
            f, g, H = self._evaluate(problem, w, need_hessian)
            if not f > tol:
                return epochs
            if epochs == max_epochs:
                return None
            w = np.array(step(w, f, g, H), dtype=np.float64)
            epochs += 1

    def epochs_to_tolerance(self, name, problem, w0, hyper, tol, max_epochs):
        """Epochs until f(w) <= tol for torch's optimizer ``name`` (Newton: closed form)."""
        if name == "newton":
            def step(w, f, g, H):
                return self.newton_step(w, g, H, hyper.get("lr", 1.0), hyper.get("damping", 0.0))
        else:
            wt = torch.tensor(np.asarray(w0, dtype=np.float64))
            opt = self.torch_optimizer(name, [wt], hyper)

            def step(w, f, g, H):
                def closure():
                    wt.grad = torch.from_numpy(g)
                    return torch.tensor(f)

                closure()
                opt.step(closure)
                return wt.numpy()

        return self.count_epochs(problem, w0, step, tol, max_epochs, need_hessian=name == "newton")
    # leak-check: on

    def experiment_epochs(self, problem: str, name: str, tol: float, max_epochs: int,
                          start: np.ndarray | None = None) -> int | None:
        """``epochs_to_tolerance`` of optimizer ``name`` on ``problem`` in compare_optimizers'
        experiment (EXPERIMENT_HYPERPARAMETERS; from ``start``, by default EXPERIMENT_START),
        remembered per process."""
        w0 = EXPERIMENT_START[problem] if start is None else np.asarray(start, dtype=np.float64)
        key = (problem, name, float(tol), int(max_epochs), w0.tobytes())
        if key not in _EXPERIMENT_EPOCHS:
            _EXPERIMENT_EPOCHS[key] = self.epochs_to_tolerance(
                name, problem, w0, EXPERIMENT_HYPERPARAMETERS[problem][name], tol, max_epochs)
        return _EXPERIMENT_EPOCHS[key]

    def _evaluate(self, problem, w, need_hessian):
        """(f, grad, hessian or None) of a test problem with its default constants.

        Rosenbrock (a = 1, b = 100) by scipy's ``rosen``, ``rosen_der`` and ``rosen_hess``;
        the quadratic (condition number 100) by torch autograd.
        """
        w = np.array(w, dtype=np.float64)
        if problem == "rosenbrock":
            return float(rosen(w)), rosen_der(w), rosen_hess(w) if need_hessian else None
        lam = torch.from_numpy(self.quadratic_curvatures(len(w)))
        return self._autograd(lambda v: 0.5 * (lam * v * v).sum(), w, need_hessian)

    # ------------------------------------------------------------ regularization
    @staticmethod
    def batch_norm(x, gamma, beta, running_mean, running_var, train, momentum, eps):
        """(out, new running_mean, new running_var) of torch's F.batch_norm (copies in and out)."""
        rm = torch.tensor(running_mean, dtype=torch.float64)
        rv = torch.tensor(running_var, dtype=torch.float64)
        out = F.batch_norm(torch.from_numpy(x), rm, rv, torch.from_numpy(gamma),
                           torch.from_numpy(beta), training=train, momentum=momentum, eps=eps)
        return out.numpy(), rm.numpy(), rv.numpy()

    @staticmethod
    def batch_norm_grads(x, gamma, beta, running_mean, running_var, train, eps, dout):
        """(dx, dgamma, dbeta) of sum(batch_norm(x) * dout) by torch autograd."""
        xt, gt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True)
                      for a in (x, gamma, beta))
        out = F.batch_norm(xt, torch.tensor(running_mean), torch.tensor(running_var), gt, bt,
                           training=train, momentum=0.0, eps=eps)
        out.backward(torch.from_numpy(dout))
        return xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()

    @staticmethod
    def masked_linear_grads(x, W, b, keep, p, dout):
        """(dx, dW, db) of sum((x @ (W * keep / (1 - p)) + b) * dout) by torch autograd."""
        xt, Wt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, W, b))
        scale = torch.tensor(keep / (1.0 - p), dtype=torch.float64)
        (xt @ (Wt * scale) + bt).backward(torch.from_numpy(dout))
        return xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


class Checks:
    """Assertions shared by several graders; failures name what differs."""

    @staticmethod
    def student_trajectory(
        opt,
        grads: list[Params] | None = None,
        grad_fn: GradFn | None = None,
        steps: int | None = None,
        hessian_fn: GradFn | None = None,
    ) -> list[Params]:
        """The student's parameters after each step of ``opt`` (a handle to their optimizer).

        Gradients as in ``Oracle.torch_trajectory``; ``grad_fn`` and ``hessian_fn`` are
        evaluated at the student's current parameters.
        """
        n = len(grads) if grads is not None else steps
        out = []
        current = _copy(opt.params)
        for t in range(n):
            g = grads[t] if grads is not None else grad_fn(current)
            if hessian_fn is not None:
                opt.step(g, hessian_fn(current))
            else:
                opt.step(g)
            current = opt.params
            assert isinstance(current, dict), "opt.params must stay a dict"
            out.append(current)
        return out

    @staticmethod
    def dropout_mask(out, x: np.ndarray, p: float, what: str) -> np.ndarray:
        """The mask (bool, x's shape) that a training-mode dropout output ``out`` shows, after
        checking that it is one: every unit either dropped (0) or kept and scaled (x / (1 - p)),
        and a fraction of kept units within 5 standard errors of 1 - p. ``x`` must have no zero."""
        assert np.shape(out) == x.shape, f"{what} has shape {np.shape(out)}, expected {x.shape}"
        keep = np.asarray(out) != 0
        assert_close(np.asarray(out)[keep], x[keep] / (1 - p),
                     name=f"{what}: the kept units (should be x / (1 - p))")
        spread = 5.0 * math.sqrt(p * (1 - p) / x.size)
        assert abs(keep.mean() - (1 - p)) <= spread, (
            f"{what} keeps {keep.mean():.3f} of the units, expected about 1 - p = {1 - p:.2f}")
        return keep

    @staticmethod
    def same_trajectory(actual: list[Params], expected: list[Params], what: str,
                        rtol: float = 1e-6, atol: float = 1e-10,
                        start: Params | None = None) -> None:
        """Every step's parameters of ``actual`` match ``expected`` (names the first bad step).

        With ``start`` (the parameters before step 1), a failure first says how the step's
        update (the parameters after it minus before it) relates to the expected update, where
        ``diagnose`` finds a relation: a flipped sign or a constant factor shows there, hidden
        in the parameters themselves."""
        assert len(actual) == len(expected)
        before = start
        for t, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert sorted(a) == sorted(e), f"{what}: params keys are {sorted(a)}, expected {sorted(e)}"
            for k in e:
                name = f"{what}: params[{k!r}] after step {t + 1}"
                try:
                    assert_close(a[k], e[k], rtol=rtol, atol=atol, name=name)
                except AssertCloseError as exc:
                    if before is None:
                        raise
                    raise _with_update_relation(exc, name, a[k], e[k], before[k], rtol,
                                                atol) from None
            before = e

    def same_trajectory_as_one_of(self, actual: list[Params], expected: dict[str, list[Params]],
                                  what: str, rtol: float = 1e-6, atol: float = 1e-10,
                                  start: Params | None = None) -> None:
        """``actual`` matches the trajectory of one of the accepted conventions (``expected``:
        {convention: trajectory}, as ``Oracle.trajectories`` gives them). A failure reports the
        first convention's difference and names the others that were tried."""
        failures = []
        for convention, trajectory in expected.items():
            try:
                self.same_trajectory(actual, trajectory, what, rtol, atol, start)
                return
            except AssertionError as exc:
                failures.append((convention, exc))
        if len(failures) == 1:
            raise failures[0][1]
        (first, exc), others = failures[0], [c for c, _ in failures[1:]]
        raise AssertionError(f"{exc} [compared with {first}; also matches none of: "
                             f"{'; '.join(others)}]") from None

    @staticmethod
    def adam_first_step(start: Params, after: Params, grads: Params, lr: float, what: str,
                        beta1: float = 0.9, beta2: float = 0.999) -> None:
        """Property first: Adam's first step moves every parameter by about ``lr`` against the
        sign of its gradient (m_hat / sqrt(v_hat) = g / |g| at t = 1), whatever the gradient's
        scale. Judged on the median entry, so it holds for either accepted place of eps as
        long as the gradients are far above eps. Values that are not float arrays of the
        parameter's shape are left to the trajectory's comparison."""
        for k, g in grads.items():
            value = after.get(k) if isinstance(after, dict) else None
            if not (isinstance(value, np.ndarray) and value.shape == g.shape
                    and value.dtype.kind == "f" and np.isfinite(value).all()):
                continue
            step = value - start[k]
            moved = float(np.median(np.abs(step))) / lr
            uncorrected = (1 - beta1) / math.sqrt(1 - beta2)
            hint = (f": {uncorrected:.4g} is (1 - beta1) / sqrt(1 - beta2), the first step "
                    "without bias correction" if abs(moved / uncorrected - 1) < 1e-3 else "")
            assert abs(moved - 1) < 1e-3, (
                f"{what}: the first step moves params[{k!r}] by {moved:.4g} * lr per entry "
                f"(median), expected about lr: m_hat / sqrt(v_hat) is +-1 at step 1{hint}")
            against = np.sign(step) == -np.sign(g)
            assert against[step != 0].all(), (
                f"{what}: the first step moves params[{k!r}] along its gradient, not against it")

    @staticmethod
    def momentum_keeps_velocity(start: Params, actual: list[Params], grads: list[Params],
                                lr: float, what: str) -> None:
        """Property first: from step 2 on, a Momentum step is not a plain gradient step
        -lr * g (that would mean a velocity not kept between steps). ``grads[t]`` is the
        gradient given at step t + 1; values that are not float arrays are left to the
        trajectory's comparison."""
        before = start
        for t, (after, g) in enumerate(zip(actual, grads, strict=True)):
            if t >= 1:
                for k, gk in g.items():
                    value = after.get(k) if isinstance(after, dict) else None
                    prev = before.get(k) if isinstance(before, dict) else None
                    if not all(isinstance(v, np.ndarray) and v.shape == gk.shape
                               for v in (value, prev)):
                        continue
                    plain = np.allclose(value - prev, -lr * gk, rtol=1e-9, atol=1e-12)
                    assert not plain, (
                        f"{what}: step {t + 1} moves params[{k!r}] by exactly -lr * g, a plain "
                        "gradient step: is the velocity kept from one step to the next?")
            before = after

    @staticmethod
    def batchnorm_eval_per_sample(bn, x: np.ndarray, running_mean: np.ndarray,
                                  running_var: np.ndarray, what: str):
        """Property first: in evaluation, a sample's output does not depend on the rest of the
        batch (the first two rows alone give the same two rows). Sets the running averages to
        copies of the given ones before each of the two calls (so that a call that changes them
        does not change the other); returns the whole batch's output for the value comparison."""
        bn.running_mean, bn.running_var = running_mean.copy(), running_var.copy()
        out = bn.forward(x, train=False)
        bn.running_mean, bn.running_var = running_mean.copy(), running_var.copy()
        part = bn.forward(x[:2], train=False)
        if all(isinstance(v, np.ndarray) and v.dtype.kind == "f" and np.isfinite(v).all()
               for v in (out, part)) and out.shape == x.shape and part.shape == (2, x.shape[1]):
            assert np.allclose(part, out[:2], rtol=1e-9, atol=1e-12), (
                f"{what}: a sample's output changes with the rest of the batch (its first two "
                "rows alone give other values): evaluation normalises with running_mean and "
                "running_var, not with the batch's own statistics")
        return out

    @staticmethod
    def student_epochs(optimizers, oracle: Oracle, name: str, problem: str, w0: np.ndarray,
                       hyper: dict, tol: float, max_epochs: int) -> int | None:
        """Epochs to tolerance of the student's own optimizer ``name`` (``optimizers``: the
        handle of optimizers.py), stepped by the grader, which evaluates the problem and counts."""
        opt = getattr(optimizers, CLASS_NAMES[name])({"w": w0.astype(np.float64)}, **hyper)

        def step(w, f, g, H):
            opt.step(*[{"w": a} for a in ((g, H) if name == "newton" else (g,))])  # Newton: H too
            return opt.params["w"]

        return oracle.count_epochs(problem, w0, step, tol, max_epochs, need_hessian=name == "newton")

    def compare_optimizers_matches(self, result, oracle: Oracle, optimizers, problem: str, names,
                                   tol: float, max_epochs: int,
                                   start: np.ndarray | None = None) -> dict:
        """``result`` (what compare_optimizers(tol, max_epochs) returned) holds, for ``problem``
        and every optimizer of ``names``, the epochs of the handout's experiment (from START, or
        ``start``, with its HYPERPARAMETERS): those of torch's optimizer, or else those of the
        student's own optimizer stepped by the grader (so that an optimizer that differs from
        torch's loses its points in its own tests only). Within one epoch: rounding may move
        the step at which the loss crosses tol. Returns ``result[problem]``."""
        call = f"compare_optimizers(tol={tol:.3g}, max_epochs={max_epochs})"
        assert isinstance(result, dict) and isinstance(result.get(problem), dict), (
            f"{call} must return a dict with a dict for {problem!r}")
        row = result[problem]
        w0 = EXPERIMENT_START[problem] if start is None else start

        def same(got, want):
            return (got is None) == (want is None) and (got is None or abs(got - want) <= 1)

        for name in names:
            assert name in row, f"{call}[{problem!r}] has no entry {name!r}"
            got = row[name]
            assert got is None or isinstance(got, int), (
                f"{call}[{problem!r}][{name!r}] must be an int or None, got {type(got).__name__}")
            if same(got, oracle.experiment_epochs(problem, name, tol, max_epochs, start)):
                continue
            own = self.student_epochs(optimizers, oracle, name, problem, w0,
                                      EXPERIMENT_HYPERPARAMETERS[problem][name], tol, max_epochs)
            assert same(got, own), (
                f"{call}[{problem!r}][{name!r}] is {got}: neither the epochs of torch.optim's "
                f"{name} nor those of your {CLASS_NAMES[name]} (stepped by the grader) in the "
                "handout's experiment")
        return row


def _with_update_relation(exc: AssertCloseError, name: str, actual, expected: np.ndarray,
                          before: np.ndarray, rtol: float, atol: float) -> AssertCloseError:
    """``exc`` with the relation between the student's and the expected update of one step
    (the parameters after it minus ``before``, the expected parameters before it) said first,
    where ``diagnose`` finds one; ``exc`` itself otherwise."""
    if not (isinstance(actual, np.ndarray) and actual.shape == expected.shape):
        return exc
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    relation = diagnose(actual - before, expected - before, rtol=rtol, atol=atol + rtol * scale)
    if relation is None:
        return exc
    rest = exc.summary[len(name) + 2:] if exc.summary.startswith(f"{name}: ") else exc.summary
    return AssertCloseError(f"{name}: this step's update (params after it minus before it): "
                            f"{relation}; {rest}", exc.details)


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results from torch and closed forms (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()


@pytest.fixture(scope="session")
def class_names() -> dict[str, str]:
    """Optimizer name ("gd", "adam", ...) -> class name in optimizers.py ("GD", "Adam", ...)."""
    return dict(CLASS_NAMES)


@pytest.fixture
def random_grads(rng: np.random.Generator) -> Callable[..., list[Params]]:
    """``random_grads(shapes, steps, scale=1.0)``: ``steps`` dicts of N(0, scale^2) gradients.

    ``shapes`` maps a parameter name to its shape; drawn from the test's ``rng``.
    """

    def draw(shapes: dict[str, tuple], steps: int, scale: float = 1.0) -> list[Params]:
        return [{k: scale * rng.standard_normal(s) for k, s in shapes.items()}
                for _ in range(steps)]

    return draw
