"""Grader assertions: assert_close messages and the numerical gradient check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.testing import AssertCloseError, assert_close, grad_check, numerical_gradient


def test_passes_within_tolerance():
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    assert_close(torch.tensor([1.0]), torch.tensor([1.0]))
    assert_close(3.0, 3.0)


@pytest.mark.parametrize("actual, expected, summary", [
    (None, np.zeros(2), "out: got None; did you forget to return a value?"),
    ([1.0, 2.0], np.zeros(2), "out: expected ndarray(shape=(2,), dtype=float64) but got list"),
    (np.zeros((2, 3)), np.zeros((3, 2)), "out: expected shape (3, 2) but got shape (2, 3)"),
    (np.zeros(2), torch.zeros(2), "out: expected torch.Tensor(shape=(2,), dtype=torch.float32) "
                                  "but got ndarray(shape=(2,), dtype=float64)"),
    (np.array([1.0, np.nan]), np.array([1.0, 2.0]),
     "out: 1 non-finite value(s) (NaN at index (1,)) where finite values were expected"),
    (np.array(["a"]), np.array(["a"]), "out: expected numbers but got dtype <U1"),
    ({"a": 1}, np.zeros(1), "out: expected ndarray(shape=(1,), dtype=float64) but got dict"),
    ({"a": 1}, 1.0, "out: expected a number or an array, got dict"),
])
def test_failure_summaries(actual, expected, summary):
    with pytest.raises(AssertCloseError) as info:
        assert_close(actual, expected, name="out")
    assert info.value.summary.startswith(summary)


def test_value_mismatch_reports_errors_and_index_but_summary_has_no_values():
    actual = np.array([[1.0, 2.0], [3.0, 4.5]])
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(AssertCloseError) as info:
        assert_close(actual, expected, name="y")
    err = info.value
    assert err.summary == ("y: 1 of 4 value(s) differ; max abs error 0.5, max rel error 0.125 "
                           "(worst at index (1, 1); rtol=1e-06, atol=1e-08)")
    assert "4.0" not in err.summary and "4.5" not in err.summary
    assert err.details == "  at index (1, 1): got 4.5, expected 4.0"


def test_dtype_check_is_optional():
    assert_close(np.zeros(2, dtype=np.float32), np.zeros(2))
    with pytest.raises(AssertCloseError, match="expected dtype float64 but got dtype float32"):
        assert_close(np.zeros(2, dtype=np.float32), np.zeros(2), check_dtype=True)


def test_numerical_gradient_matches_closed_form():
    x = np.random.default_rng(0).standard_normal((3, 4))
    dout = np.random.default_rng(1).standard_normal((3, 4))
    grad = numerical_gradient(np.tanh, x, dout)
    np.testing.assert_allclose(grad, dout * (1 - np.tanh(x) ** 2), rtol=1e-6, atol=1e-8)
    assert grad.dtype == np.float64


def test_grad_check_catches_a_wrong_gradient():
    x = np.linspace(-1, 1, 5)
    grad_check(lambda v: v ** 3, x, 3 * x ** 2)
    with pytest.raises(AssertCloseError, match="gradient"):
        grad_check(lambda v: v ** 3, x, 2 * x ** 2)


def test_extended_oracle_adds_to_the_public_one():
    from autograder.testing import ExtendedOracle

    class Public:
        scale = 2

        def double(self, x):
            return self.scale * x

    class Hidden(ExtendedOracle):
        def triple(self, x):
            return 3 * x

    oracle = Hidden(Public())
    assert (oracle.double(5), oracle.triple(5), oracle.scale) == (10, 15, 2)
    with pytest.raises(AttributeError):
        oracle.missing  # noqa: B018
    with pytest.raises(AttributeError):
        oracle._private  # noqa: B018


def test_assert_numpy_array_and_tensor_close():
    import torch

    from autograder.testing import assert_numpy_array, assert_tensor_close

    a = np.zeros((2, 3))
    assert assert_numpy_array(a, (2, 3), "a") is a
    assert_numpy_array(np.arange(3), (3,), "i", dtype="integer")
    for bad, message in ((torch.zeros(2, 3), "a must be a numpy array, got Tensor (numpy only)"),
                         (np.zeros((2, 3), np.float32), "a must be float64, got float32"),
                         (np.zeros((3, 2)), "a has shape (3, 2), expected (2, 3)")):
        with pytest.raises(AssertionError) as raised:
            assert_numpy_array(bad, (2, 3), "a", why="numpy only")
        assert str(raised.value) == message
    with pytest.raises(AssertionError, match="must be an integer array, got float64"):
        assert_numpy_array(np.zeros(3), (3,), "i", dtype="integer")

    want = torch.ones(2, dtype=torch.float64)
    assert_tensor_close(torch.ones(2, dtype=torch.float32), want, "t")
    assert_tensor_close(torch.nn.Parameter(torch.ones(2)), want, "a parameter is a tensor")
    with pytest.raises(AssertionError, match="t must be a torch tensor, got ndarray"):
        assert_tensor_close(np.ones(2), want, "t")
    with pytest.raises(AssertionError, match=r"t has shape \(3,\), expected \(2,\)"):
        assert_tensor_close(torch.ones(3), want, "t")
    with pytest.raises(AssertionError, match="t"):
        assert_tensor_close(torch.tensor([1.0, 2.0]), want, "t")


def test_sklearn_digits_is_parsed_once_and_every_call_gets_its_own_copy():
    from sklearn.datasets import load_digits

    from autograder.testing import _digits_arrays, sklearn_digits

    X, y = sklearn_digits()
    want = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    np.testing.assert_array_equal(X, want.data)
    np.testing.assert_array_equal(y, want.target)
    np.testing.assert_array_equal(X.reshape(-1, 8, 8), want.images)
    X[:] = -1  # a grader that scribbles on its copy
    again, _ = sklearn_digits()
    np.testing.assert_array_equal(again, want.data)
    before = _digits_arrays.cache_info().misses
    sklearn_digits()
    assert _digits_arrays.cache_info().misses == before  # not parsed again
