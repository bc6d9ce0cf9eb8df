"""Assertions for graders: ``assert_close`` and float64 numerical gradient checks.

Also ``assert_probe_matches`` (an autograd probe against an oracle's gradients), ``CheckBase``
(the base of an assignment's ``check`` fixture, with named tolerances) and ``sklearn_digits``,
scikit-learn's bundled digits loaded once per process.

Failure messages put a value-free summary on the first line (what is wrong: first how the
value relates to the expected one where ``diagnosis.diagnose`` finds a relation, such as a
flipped sign or a transpose; then max abs/rel error, where) and the values on the following
lines. Hidden tests show students only the first line, so they never reveal expected values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from autograder.diagnosis import diagnose

__all__ = ["TOLERANCES", "AssertCloseError", "CheckBase", "ExtendedOracle", "ProbeLabels",
           "Tolerance", "assert_close", "assert_numpy_array", "assert_probe_matches",
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
            expected value is finite, or values out of tolerance (the message names
            first a relation between the two that explains it, if there is one:
            ``diagnosis.diagnose``).
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
        transposed = " (the transpose?)" if a.ndim == 2 and a.shape == e.shape[::-1] else ""
        raise AssertCloseError(
            f"{name}: expected shape {e.shape} but got shape {a.shape}{transposed}")
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
        relation = None if a64.dtype.kind == "c" else diagnose(a64, e64, rtol=rtol, atol=atol)
        summary = (f"{name}: {relation + '; ' if relation else ''}"
                   f"{int(bad.sum())} of {bad.size} value(s) differ; max abs error "
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


class Tolerance(NamedTuple):
    """``assert_close``'s tolerances: |actual - expected| <= atol + rtol * |expected|."""

    rtol: float
    atol: float


TOLERANCES: dict[str, Tolerance] = {
    # the same float64 formula computed in another order (assert_close's default)
    "float64": Tolerance(1e-6, 1e-8),
    # float64 results of a short, well-conditioned computation
    "float64_strict": Tolerance(1e-7, 1e-9),
    # float32 results of the same formula, or float32 training steps
    "float32": Tolerance(1e-4, 1e-6),
    # an analytic gradient against float64 central differences (step 1e-6)
    "numerical_gradient": Tolerance(1e-5, 1e-7),
}


@dataclass(frozen=True)
class ProbeLabels:
    """What ``assert_probe_matches`` calls each value in its messages.

    Each is a format string: ``{name}`` is the call's ``name`` (the probed call, e.g.
    ``"UNet(x)"``) and ``{param}`` a parameter's name.

    Attributes:
        output: the probe's output.
        inputs: the gradient of each input, by position (``("dx", "dh")``); an input past
            the end is called ``"the gradient of input <i>"``.
        param: the gradient of a parameter.
        missing_param: the message when the probe returned no gradient for a parameter.
    """

    output: str = "{name}"
    inputs: tuple[str, ...] = ("dx", "dh")
    param: str = "grad of {param}"
    missing_param: str = "the model has no parameter {param!r}"

    def input(self, index: int, name: str) -> str:
        """The label of input ``index``'s gradient."""
        if index < len(self.inputs):
            return self.inputs[index].format(name=name)
        return f"the gradient of input {index}"


def assert_probe_matches(probe: Mapping[str, Any], expected: Mapping[str, Any], *,
                         name: str = "the output", labels: ProbeLabels = ProbeLabels(),
                         rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Assert an autograd probe's values match an oracle's, each a tensor close in float64.

    ``probe`` is what ``submission.autograd_probe`` returns (see ``sandbox/probe.py``):
    ``{"output": ..., "input_grads": [tensor | None, ...], "param_grads": {name: tensor | None}}``.
    ``expected`` has the same keys, each optional, and only what it holds is compared, in
    this order: ``"output"`` (a tensor), ``"input_grads"`` (a list by input position; ``None``
    skips an input), ``"param_grads"`` (``{parameter name: tensor}``, in its order).

    Args:
        name: the probed call, e.g. ``"LeNet5(26)(x)"``; ``labels`` build each value's
            name in the messages from it.

    Raises:
        AssertionError: a parameter the probe has no gradient for, or a gradient that is
            ``None`` (the value does not depend on that input or parameter).
        AssertCloseError: a value that is not a tensor, has another shape, or differs.
    """
    if "output" in expected:
        assert_tensor_close(probe["output"], expected["output"],
                            name=labels.output.format(name=name), rtol=rtol, atol=atol)
    for index, want in enumerate(expected.get("input_grads", ())):
        if want is not None:
            _assert_gradient(probe["input_grads"][index], want, labels.input(index, name),
                             rtol, atol)
    got = probe.get("param_grads", {})
    for param, want in expected.get("param_grads", {}).items():
        assert param in got, (labels.missing_param.format(name=name, param=param)
                              + f"\n  the probe has gradients of {sorted(got)}")
        _assert_gradient(got[param], want, labels.param.format(name=name, param=param),
                         rtol, atol)


def _assert_gradient(actual: Any, expected: Any, label: str, rtol: float, atol: float) -> None:
    assert actual is not None, f"{label}: no gradient"
    assert_tensor_close(actual, expected, name=label, rtol=rtol, atol=atol)


class CheckBase:
    """Base of an assignment's ``Checks`` (its ``check`` fixture): the checks several
    assignments share. A conftest subclasses it, sets the class attributes and adds its own::

        class Checks(CheckBase):
            numpy_why = "this file is numpy only"

            def pair(self, value, name): ...

    Tolerances are chosen by name (``tol="numerical_gradient"``) from ``tolerances``;
    a subclass may add names of its own.

    Attributes:
        tolerances: the named tolerances (``TOLERANCES``).
        numpy_tol: the tolerance ``numpy_close`` uses when the caller names none.
        numpy_why: said when a value that must be a numpy array is not one.
        integer_dtype: the dtype ``numpy_equal`` requires (``"integer"``: any integer dtype).
        probe_labels: how ``probe_matches`` names the values it compares.
    """

    tolerances: ClassVar[Mapping[str, Tolerance]] = TOLERANCES
    numpy_tol: ClassVar[str] = "float64"
    numpy_why: ClassVar[str] = ""
    integer_dtype: ClassVar[Any] = "integer"
    probe_labels: ClassVar[ProbeLabels] = ProbeLabels()

    tensors_close = staticmethod(assert_tensor_close)  # a tensor close to ``expected`` (float64)

    def tolerance(self, tol: str) -> Tolerance:
        """The tolerance named ``tol``."""
        try:
            return self.tolerances[tol]
        except KeyError:
            raise ValueError(f"unknown tolerance {tol!r}; "
                             f"known: {', '.join(sorted(self.tolerances))}") from None

    @staticmethod
    def scalar(value: Any, name: str) -> float:
        """The student's scalar ``value`` as a python float (fails on arrays of size > 1)."""
        assert np.ndim(value) == 0, (
            f"{name} must be a scalar, got an array of shape {np.shape(value)}"
        )
        return float(value)

    def numpy_array(self, value: Any, shape: tuple, name: str,
                    dtype: Any = np.float64) -> np.ndarray:
        """``value`` is a numpy array (not a torch tensor) of ``dtype`` and ``shape``."""
        return assert_numpy_array(value, shape, name, dtype=dtype, why=self.numpy_why)

    def numpy_close(self, value: Any, expected: Any, name: str, tol: str | None = None) -> None:
        """A float64 numpy array of ``expected``'s shape, close to it within the tolerance
        named ``tol`` (default: ``numpy_tol``)."""
        rtol, atol = self.tolerance(tol or self.numpy_tol)
        self.numpy_array(value, np.shape(expected), name)
        assert_close(value, np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol,
                     name=name)

    def numpy_equal(self, value: Any, expected: np.ndarray, name: str) -> None:
        """An integer numpy array (of ``integer_dtype``) equal to ``expected``.

        The message's first line says only which value is wrong; the arrays follow it.
        """
        self.numpy_array(value, expected.shape, name, dtype=self.integer_dtype)
        assert np.array_equal(value, expected), (
            f"{name} is wrong\n  got      {value!r}\n  expected {expected!r}")

    def probe_matches(self, probe: Mapping[str, Any], expected: Mapping[str, Any], *,
                      name: str = "the output", tol: str = "float64") -> None:
        """``assert_probe_matches`` with this assignment's ``probe_labels`` and the
        tolerance named ``tol``."""
        rtol, atol = self.tolerance(tol)
        assert_probe_matches(probe, expected, name=name, labels=self.probe_labels,
                             rtol=rtol, atol=atol)


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
