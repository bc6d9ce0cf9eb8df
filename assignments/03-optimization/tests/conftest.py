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

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import rosen, rosen_der, rosen_hess

from autograder.testing import assert_close

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
    ) -> list[Params]:
        """Parameters after each of the steps of torch's optimizer ``name``, from ``params0``.

        The gradients are either the fixed sequence ``grads`` (one dict per step), or
        ``grad_fn(params)`` evaluated at the current parameters, for ``steps`` steps.
        """
        keys = list(params0)
        tensors = [torch.tensor(params0[k], dtype=torch.float64) for k in keys]
        opt = self.torch_optimizer(name, tensors, hyper)
        n = len(grads) if grads is not None else steps
        out = []
        for t in range(n):
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
    def epochs_to_tolerance(self, name, problem, w0, hyper, tol, max_epochs):
        """Epochs until f(w) <= tol for torch's optimizer ``name`` (Newton: closed form).

        Counts steps exactly as the handout says; None when max_epochs steps are not enough.
        """
        w = torch.tensor(np.asarray(w0, dtype=np.float64))
        opt = None if name == "newton" else self.torch_optimizer(name, [w], hyper)
        epochs = 0
        while True:
            f, g, H = self._evaluate(problem, w.numpy(), need_hessian=name == "newton")
            if not f > tol:
                return epochs
            if epochs == max_epochs:
                return None
            if name == "newton":
                w.copy_(torch.from_numpy(self.newton_step(
                    w.numpy(), g, H, hyper.get("lr", 1.0), hyper.get("damping", 0.0))))
            else:
                def closure(g=g, f=f):
                    w.grad = torch.from_numpy(g)
                    return torch.tensor(f)

                closure()
                opt.step(closure)
            epochs += 1
    # leak-check: on

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
    def same_trajectory(actual: list[Params], expected: list[Params], what: str,
                        rtol: float = 1e-6, atol: float = 1e-10) -> None:
        """Every step's parameters of ``actual`` match ``expected`` (names the first bad step)."""
        assert len(actual) == len(expected)
        for t, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert sorted(a) == sorted(e), f"{what}: params keys are {sorted(a)}, expected {sorted(e)}"
            for k in e:
                assert_close(a[k], e[k], rtol=rtol, atol=atol,
                             name=f"{what}: params[{k!r}] after step {t + 1}")


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
