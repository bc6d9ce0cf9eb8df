"""Assertions for graders: ``assert_close`` and float64 numerical gradient checks.

Also ``sklearn_digits``, scikit-learn's bundled digits loaded once per process.

Failure messages put a value-free summary on the first line (what is wrong,
max abs/rel error, where) and the values on the following lines. Hidden tests
show students only the first line, so they never reveal expected values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["AssertCloseError", "ExtendedOracle", "assert_close", "assert_numpy_array",
           "assert_tensor_close", "grad_check", "numerical_gradient", "sklearn_digits"]


class AssertCloseError(AssertionError):
    """``assert_close`` failed. ``summary`` is safe to show for hidden tests."""

    def __init__(self, summary: str, details: str = ""):
        super().__init__(summary + (f"\n{details}" if details else ""))
        self.summary = summary
        self.details = details


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray(shape={value.shape}, dtype={value.dtype})"
    kind = type(value).__name__
    if kind == "Tensor":
        return f"torch.Tensor(shape={tuple(value.shape)}, dtype={value.dtype})"
    return kind


def _to_numpy(value: Any, name: str, role: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if type(value).__name__ == "Tensor" and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            arr = None
        if arr is not None and arr.dtype.kind in "biufc":
            return arr
    raise AssertCloseError(f"{name}: expected a number or an array, got {_describe(value)}"
                           if role == "actual" else f"{name}: bad expected value {_describe(value)}")


def assert_close(actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-8,
                 name: str = "output", check_dtype: bool = False, check_type: bool = True) -> None:
    """Assert that ``actual`` matches ``expected`` elementwise: |a - e| <= atol + rtol * |e|.

    Args:
        actual: the submission's value (ndarray, torch tensor, or scalar).
        expected: the oracle's value; its type is the type ``actual`` must have
            when ``check_type`` (an ndarray for an ndarray, a tensor for a tensor).
        name: how the value is called in the message, e.g. ``"relu_forward(x)"``.
        check_dtype: also require the same dtype.

    Raises:
        AssertCloseError: type, shape or dtype mismatch, NaN/inf where the
            expected value is finite, or values out of tolerance.
    """
    if actual is None:
        raise AssertCloseError(f"{name}: got None; did you forget to return a value?")
    if check_type:
        for kind in ("ndarray", "Tensor"):
            if type(expected).__name__ == kind and type(actual).__name__ != kind:
                raise AssertCloseError(
                    f"{name}: expected {_describe(expected)} but got {_describe(actual)}")
    a = _to_numpy(actual, name, "actual")
    e = _to_numpy(expected, name, "expected")
    if a.shape != e.shape:
        raise AssertCloseError(f"{name}: expected shape {e.shape} but got shape {a.shape}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertCloseError(f"{name}: expected dtype {e.dtype} but got dtype {a.dtype}")
    if a.dtype.kind not in "biufc":
        raise AssertCloseError(f"{name}: expected numbers but got dtype {a.dtype}")
    a64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    e64 = e.astype(np.complex128 if e.dtype.kind == "c" else np.float64)
    bad_nonfinite = ~np.isfinite(a64) & np.isfinite(e64)
    if bad_nonfinite.any():
        where = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
        kind = "NaN" if np.isnan(a64[where] if a64.ndim else a64) else "inf"
        count = int(bad_nonfinite.sum())
        raise AssertCloseError(
            f"{name}: {count} non-finite value(s) ({kind} at index {where}) where finite values "
            "were expected (overflow? division by zero?)")
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a64 - e64)
        diff = np.where(np.isnan(a64) & np.isnan(e64), 0.0, diff)
        diff = np.where(np.isinf(a64) & (a64 == e64), 0.0, diff)
        allowed = atol + rtol * np.abs(e64)
        bad = diff > allowed
    if bad.any():
        flat = int(np.argmax(np.where(bad, diff, -1.0)))
        where = np.unravel_index(flat, a.shape) if a.ndim else ()
        where = tuple(int(i) for i in where)
        max_abs = float(diff.max())
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(np.abs(e64) > 0, diff / np.abs(e64), np.where(diff > 0, np.inf, 0.0))
        summary = (f"{name}: {int(bad.sum())} of {bad.size} value(s) differ; max abs error "
                   f"{max_abs:.3g}, max rel error {float(rel.max()):.3g} (worst at index {where}; "
                   f"rtol={rtol:g}, atol={atol:g})")
        got, want = a[where].item(), e[where].item()
        details = f"  at index {where}: got {got!r}, expected {want!r}"
        raise AssertCloseError(summary, details)


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, dout: Any = None,
                       h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``, in float64.

    Args:
        f: maps an array shaped like ``x`` to an array (or a scalar).
        x: the point, any shape; it is copied to float64 and not modified.
        dout: upstream gradient shaped like ``f(x)``; ``None`` means ones.
        h: the step.

    Returns:
        An array shaped like ``x`` (float64).
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    dout_arr = None if dout is None else np.asarray(dout, dtype=np.float64)

    def scalar(value: Any) -> float:
        out = _to_numpy(value, "f(x)", "actual").astype(np.float64)
        return float(np.sum(out if dout_arr is None else out * dout_arr))

    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        plus = scalar(f(x.copy()))
        x[idx] = old - h
        minus = scalar(f(x.copy()))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def grad_check(f: Callable[[np.ndarray], Any], x: np.ndarray, analytic: Any, dout: Any = None, *,
               rtol: float = 1e-5, atol: float = 1e-7, h: float = 1e-6,
               name: str = "gradient") -> None:
    """Assert that ``analytic`` equals the numerical gradient of ``sum(f(x) * dout)``."""
    expected = numerical_gradient(f, x, dout, h)
    assert_close(analytic, expected, rtol=rtol, atol=atol, name=name)


def assert_numpy_array(value: Any, shape: tuple, name: str, *, dtype: Any = np.float64,
                       why: str = "") -> np.ndarray:
    """Assert ``value`` is a numpy array (not a tensor or a list) of ``dtype`` and ``shape``.

    Args:
        shape: the expected shape.
        dtype: a numpy dtype that must match exactly, or ``"integer"`` for any integer dtype.
        why: appended in parentheses when ``value`` is not an ndarray, e.g.
            ``"this file is numpy only"``.

    Returns ``value``.
    """
    assert isinstance(value, np.ndarray), (
        f"{name} must be a numpy array, got {type(value).__name__}" + (f" ({why})" if why else ""))
    if isinstance(dtype, str) and dtype == "integer":
        assert value.dtype.kind in "iu", f"{name} must be an integer array, got {value.dtype}"
    else:
        assert value.dtype == dtype, f"{name} must be {np.dtype(dtype).name}, got {value.dtype}"
    assert value.shape == tuple(shape), f"{name} has shape {value.shape}, expected {tuple(shape)}"
    return value


def assert_tensor_close(actual: Any, expected: Any, name: str = "output", rtol: float = 1e-6,
                        atol: float = 1e-8) -> None:
    """Assert ``actual`` is a torch tensor of ``expected``'s shape, close to it in float64."""
    import torch

    assert isinstance(actual, torch.Tensor), (
        f"{name} must be a torch tensor, got {type(actual).__name__}")
    assert tuple(actual.shape) == tuple(expected.shape), (
        f"{name} has shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
    assert_close(actual.double(), expected.detach().double(), rtol=rtol, atol=atol, name=name)

class ExtendedOracle:
    """Base for a hidden conftest's oracle: the public oracle plus references only hidden tests see.

    ``tests/hidden/conftest.py`` overrides the public ``oracle`` fixture and wraps it, so
    hidden test files need no change::

        class Oracle(ExtendedOracle):
            def fit_gmm(self, X, K): ...        # re-implements the assignment: hidden only

        @pytest.fixture(scope="session")
        def oracle(oracle):                     # the argument is the public fixture
            return Oracle(oracle)

    Attributes the subclass lacks come from the public oracle.
    """

    def __init__(self, public: Any):
        self._public = public

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._public, name)


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, parsed once per process; fresh copies on every call.

    Returns:
        X: (1797, 64) float64 pixel values 0..16 (``X.reshape(-1, 8, 8)`` are the images).
        y: (1797,) int labels 0..9.

    ``load_digits`` parses a compressed CSV (about 40 ms); a grading process would
    otherwise pay that in every test that uses the data, for every submission.
    """
    X, y = _digits_arrays()
    return X.copy(), y.copy()
