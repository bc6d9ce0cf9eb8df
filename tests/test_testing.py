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


# ---------------------------------------------------------------- diagnosis: the relation first

_E = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5], [2.0, 4.0, -0.75]])


@pytest.mark.parametrize("actual, relation", [
    (-_E, "the sign is flipped (actual = -expected)"),
    (_E.T, "it is the transpose of the expected value (actual = expected.T)"),
    (32 * _E, "actual = 32 * expected (a missing 1/32? a sum where a mean over 32 items was "
              "meant, such as the batch?)"),
    (_E / 8, "actual = 0.125 * expected (an extra 1/8? divided by 8, such as the batch size, "
             "once too often?)"),
    (2 * _E, "actual = 2 * expected (a missing 1/2?)"),
    (0.9 * _E, "actual = 0.9 * expected"),
    (-2.5 * _E, "actual = -2.5 * expected"),
    (_E * (1 + 1e-5), "actual = (1 + 1e-05) * expected"),
    (_E + 0.5, "every value is off by the same constant (actual = expected +0.5)"),
    (np.zeros_like(_E), "every value is 0"),
    (_E[:, [2, 0, 1]], "the right values in another order along the last axis"),
    (_E.T.reshape(3, 3)[::-1], "the right values in other positions"),
])
def test_diagnose_names_each_relation(actual, relation):
    from autograder.diagnosis import diagnose

    found = diagnose(actual, _E, rtol=1e-6, atol=1e-8)
    assert found is not None and found.startswith(relation), found


def test_assert_close_says_the_relation_before_the_differences():
    with pytest.raises(AssertCloseError) as info:
        assert_close(_E.T.copy(), _E, name="dW")
    assert info.value.summary.startswith(
        "dW: it is the transpose of the expected value (actual = expected.T); 6 of 9 value(s) "
        "differ; max abs error")
    with pytest.raises(AssertCloseError) as info:
        assert_close(5 * 1.25, 1.25, name="loss")
    assert info.value.summary.startswith("loss: actual = 5 * expected (a missing 1/5?")
    with pytest.raises(AssertCloseError, match=r"got shape \(3, 2\) \(the transpose\?\)"):
        assert_close(np.zeros((3, 2)), np.ones((2, 3)), name="dW")


@pytest.mark.parametrize("actual, expected, why", [
    (np.array([[1.0, 2.0], [2.0, 5.0]]), np.array([[1.0, 2.0], [2.0, 3.0]]),
     "a symmetric matrix is its own transpose: 'transpose' would only restate the difference"),
    (np.full(4, 2.0), np.full(4, 0.7),
     "two constant arrays differ by a shift and by a factor (not whole): neither says more"),
    (np.array(2.0), np.array(0.7), "any two numbers differ by a factor; 2 / 0.7 is not whole"),
    (np.array([1.0, 2.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0, 0.0]),
     "no relation: one value wrong"),
    (np.array([0.0, 3.5, 0.0]), np.array([0.0, 2.0, 0.0]),
     "a factor read off one significant value says nothing"),
    (np.array([1.0, 5.0]), np.array([0.0, 1e-9]), "expected is zero within atol"),
    (np.array([2, 0, 1, 1, 0, 2]), np.array([0, 1, 2, 0, 1, 2]),
     "wrong labels with the right counts are not a reordering"),
    (np.array([[1.0, np.nan]]), np.array([[1.0, 2.0]]), "not finite"),
    (np.array([1 + 1j]), np.array([1 - 1j]), "complex"),
    (np.zeros(0), np.zeros(0), "empty"),
    (np.zeros(3), np.zeros(2), "shapes differ"),
    (np.array(["a"]), np.array(["b"]), "not numbers"),
])
def test_diagnose_claims_nothing_that_holds_by_accident(actual, expected, why):
    from autograder.diagnosis import diagnose

    assert diagnose(actual, expected, rtol=1e-6, atol=1e-8) is None, why


def test_diagnose_on_random_differences_claims_nothing():
    from autograder.diagnosis import diagnose

    rng = np.random.default_rng(0)
    for _ in range(50):
        expected = rng.standard_normal((4, 4))
        actual = expected + 0.1 * rng.standard_normal((4, 4))
        assert diagnose(actual, expected, rtol=1e-6, atol=1e-8) is None
    with pytest.raises(AssertCloseError) as info:
        assert_close(actual, expected, name="y")
    assert info.value.summary.startswith("y: 16 of 16 value(s) differ")
