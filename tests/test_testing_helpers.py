"""The graders' shared helpers: assert_probe_matches, CheckBase and its named tolerances."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from autograder.sandbox.probe import autograd_probe
from autograder.testing import (
    TOLERANCES,
    AssertCloseError,
    CheckBase,
    ProbeLabels,
    assert_probe_matches,
)


def _linear(weight: list[list[float]], bias: list[float]) -> torch.nn.Linear:
    module = torch.nn.Linear(len(weight[0]), len(weight)).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(weight, dtype=torch.float64))
        module.bias.copy_(torch.tensor(bias, dtype=torch.float64))
    return module


X = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
DOUT = torch.tensor([[1.0, 0.5], [-2.0, 1.0]], dtype=torch.float64)


def _oracle(weight, bias) -> dict:
    """What the probe of a float64 Linear(2, 2) with these weights must return, by autograd."""
    w = torch.tensor(weight, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(bias, dtype=torch.float64, requires_grad=True)
    x = X.clone().requires_grad_()
    out = x @ w.T + b
    out.backward(DOUT)
    return {"output": out.detach(), "input_grads": [x.grad],
            "param_grads": {"weight": w.grad, "bias": b.grad}}


W, B = [[1.0, 2.0], [0.5, -1.0]], [0.1, -0.2]


def _probe(weight=W, bias=B, params=True) -> dict:
    return autograd_probe(_linear(weight, bias), [X], DOUT, params=params)


def _message(call) -> str:
    with pytest.raises(AssertionError) as info:
        call()
    return str(info.value).splitlines()[0]


def test_probe_of_the_same_computation_matches():
    assert_probe_matches(_probe(), _oracle(W, B), name="Linear(x)")


def test_only_what_expected_holds_is_compared():
    expected = _oracle(W, B)
    wrong = _probe(bias=[5.0, 5.0])  # another output, the same gradients
    assert_probe_matches(wrong, {"input_grads": expected["input_grads"],
                                 "param_grads": expected["param_grads"]})
    assert_probe_matches(wrong, {"input_grads": [None]})


def test_output_mismatch_names_the_call():
    message = _message(lambda: assert_probe_matches(_probe(bias=[5.0, 5.0]), _oracle(W, B),
                                                    name="Linear(x)"))
    assert message.startswith("Linear(x): 4 of 4 value(s) differ; max abs error 5.2")
    assert "rtol=1e-06, atol=1e-08" in message


def test_input_gradient_mismatch_is_labelled_by_position():
    expected = _oracle(W, B)
    expected["input_grads"] = [2 * expected["input_grads"][0]]
    message = _message(lambda: assert_probe_matches(_probe(), expected))
    assert message.startswith("dx: actual = 0.5 * expected (an extra 1/2?)")
    assert "; 4 of 4 value(s) differ" in message


def test_parameter_gradient_mismatch_names_the_parameter_and_tolerance():
    expected = _oracle(W, B)
    expected["param_grads"]["bias"] = expected["param_grads"]["bias"] + 1e-3
    message = _message(lambda: assert_probe_matches(_probe(), expected, rtol=1e-4, atol=1e-6))
    assert message.startswith("grad of bias: every value is off by the same constant "
                              "(actual = expected -0.001); 2 of 2 value(s) differ; "
                              "max abs error 0.001")
    assert "rtol=0.0001, atol=1e-06" in message
    assert_probe_matches(_probe(), expected, rtol=0.0, atol=2e-3)


def test_missing_parameter_and_missing_gradient():
    expected = _oracle(W, B)
    without_bias = _probe(params=["weight"])
    with pytest.raises(AssertionError) as info:
        assert_probe_matches(without_bias, expected, name="Linear(x)")
    assert str(info.value).splitlines() == [
        "the model has no parameter 'bias'", "  the probe has gradients of ['weight']"]
    labels = ProbeLabels(missing_param="{name} has no parameter {param!r}")
    assert _message(lambda: assert_probe_matches(without_bias, expected, name="Linear(x)",
                                                 labels=labels)) == (
        "Linear(x) has no parameter 'bias'")
    no_grad = _probe()
    no_grad["input_grads"] = [None]
    assert _message(lambda: assert_probe_matches(no_grad, expected)) == "dx: no gradient"


def test_a_value_that_is_not_a_tensor():
    probe = _probe()
    probe["output"] = probe["output"].detach().numpy()
    assert _message(lambda: assert_probe_matches(probe, _oracle(W, B), name="Linear(x)")) == (
        "Linear(x) must be a torch tensor, got ndarray")


def test_labels_format_the_call_name_and_parameter():
    labels = ProbeLabels(output="{name} output", inputs=("the gradient of {name} w.r.t. x",),
                         param="d / d {param}", missing_param="the model has no parameter {param}")
    expected = _oracle(W, B)
    expected["input_grads"] = [-expected["input_grads"][0]]
    message = _message(lambda: assert_probe_matches(_probe(), expected, name="L(x)", labels=labels))
    assert message.startswith("the gradient of L(x) w.r.t. x: ")
    expected = _oracle(W, B)
    expected["param_grads"]["weight"] = 0 * expected["param_grads"]["weight"]
    assert _message(lambda: assert_probe_matches(_probe(), expected, labels=labels)).startswith(
        "d / d weight: ")
    assert _message(lambda: assert_probe_matches(_probe(params=["weight"]), _oracle(W, B),
                                                 labels=labels)) == (
        "the model has no parameter bias")
    assert ProbeLabels().input(2, "f(x)") == "the gradient of input 2"


class Checks(CheckBase):
    numpy_why = "numpy only here"
    numpy_tol = "float64_strict"
    probe_labels = ProbeLabels(inputs=("d input",), param="d {param}")


def test_named_tolerances_are_assert_close_pairs():
    assert TOLERANCES["float64"] == (1e-6, 1e-8)
    assert TOLERANCES["float64_strict"] == (1e-7, 1e-9)
    assert TOLERANCES["float32"] == (1e-4, 1e-6)
    assert TOLERANCES["numerical_gradient"] == (1e-5, 1e-7)
    with pytest.raises(ValueError, match=re.escape("unknown tolerance 'loose'; known: float32, "
                                                   "float64, float64_strict, numerical_gradient")):
        Checks().tolerance("loose")


def test_numpy_close_uses_the_class_default_or_the_named_tolerance():
    check = Checks()
    expected = np.array([1.0, 2.0])
    check.numpy_close(expected + 1e-10, expected, "v")
    with pytest.raises(AssertCloseError) as info:
        check.numpy_close(expected + 5e-7, expected, "v")
    assert info.value.summary.startswith("v: every value is off by the same constant "
                                         "(actual = expected +5e-07); 2 of 2 value(s) differ")
    assert info.value.summary.endswith("rtol=1e-07, atol=1e-09)")
    check.numpy_close(expected + 5e-7, expected, "v", tol="float64")
    check.numpy_close(np.array([[1.0]]), [[1.0]], "v")  # an expected list is read as float64
    assert CheckBase.numpy_tol == "float64"


def test_numpy_checks_name_what_is_wrong():
    check = Checks()
    assert _message(lambda: check.numpy_close(torch.zeros(2), np.zeros(2), "v")) == (
        "v must be a numpy array, got Tensor (numpy only here)")
    assert _message(lambda: check.numpy_close(np.zeros(3), np.zeros(2), "v")) == (
        "v has shape (3,), expected (2,)")
    assert _message(lambda: check.numpy_close(np.zeros(2, np.float32), np.zeros(2), "v")) == (
        "v must be float64, got float32")
    check.numpy_equal(np.array([1, 2], dtype=np.int32), np.array([1, 2]), "idx")
    with pytest.raises(AssertionError) as info:
        check.numpy_equal(np.array([1, 3]), np.array([1, 2]), "idx")
    assert str(info.value).splitlines() == [
        "idx is wrong", "  got      array([1, 3])", "  expected array([1, 2])"]
    assert _message(lambda: check.numpy_equal(np.array([1.0, 2.0]), np.array([1, 2]), "idx")) == (
        "idx must be an integer array, got float64")


def test_numpy_equal_can_require_one_integer_dtype():
    class Int64Checks(CheckBase):
        integer_dtype = np.int64

    assert _message(lambda: Int64Checks().numpy_equal(np.array([1], dtype=np.int32),
                                                      np.array([1]), "idx")) == (
        "idx must be int64, got int32")


def test_scalar():
    assert CheckBase.scalar(np.float64(2.5), "loss") == 2.5
    assert isinstance(CheckBase.scalar(np.float32(2.5), "loss"), float)
    assert _message(lambda: CheckBase.scalar(np.zeros((1, 2)), "loss")) == (
        "loss must be a scalar, got an array of shape (1, 2)")


def test_probe_matches_uses_the_class_labels_and_a_named_tolerance():
    check = Checks()
    expected = _oracle(W, B)
    check.probe_matches(_probe(), expected, name="Linear(x)")
    expected["input_grads"] = [expected["input_grads"][0] * (1 + 5e-6)]
    message = _message(lambda: check.probe_matches(_probe(), expected))
    assert message.startswith("d input: ") and message.endswith("rtol=1e-06, atol=1e-08)")
    check.probe_matches(_probe(), expected, tol="float32")
    expected = _oracle(W, B)
    expected["param_grads"]["weight"] = expected["param_grads"]["weight"] + 1
    assert _message(lambda: check.probe_matches(_probe(), expected)).startswith("d weight: ")
