"""Public tests for conv_numpy.py: convolution and pooling in numpy against torch in float64."""

import numpy as np
import pytest


def _conv_problem(rng, N=2, C=3, H=7, W=8, F=4, HH=3, WW=2):
    return (rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)),
            rng.standard_normal(F))


@pytest.mark.points(1)
def test_conv_output_size(submission, oracle):
    """conv_output_size gives floor((size + 2 pad - kernel) / stride) + 1."""
    for size, kernel, stride, pad in ((7, 3, 1, 0), (8, 3, 2, 1), (32, 5, 1, 0), (5, 5, 1, 2)):
        got = submission.conv_numpy.conv_output_size(size, kernel, stride, pad)
        want = oracle.output_size(size, kernel, stride, pad)
        assert got == want, f"conv_output_size({size}, {kernel}, {stride}, {pad}) = {got}, expected {want}"


@pytest.mark.points(2)
def test_conv2d_forward_matches_torch(submission, rng, oracle, check):
    """conv2d_forward matches torch's conv2d (cross-correlation) with several channels, stride and padding."""
    x, w, b = _conv_problem(rng)
    for stride, pad in ((1, 0), (2, 1)):
        out, _ = submission.conv_numpy.conv2d_forward(x, w, b, stride, pad)
        check.numpy_close(out, oracle.conv2d(x, w, b, stride, pad),
                          name=f"conv2d_forward(stride={stride}, pad={pad})")


@pytest.mark.points(3)
def test_conv2d_backward_matches_autograd(submission, rng, oracle, check):
    """conv2d_backward returns dx, dw and db of torch autograd (stride 1 and 2 with padding 1, and no padding)."""
    x, w, b = _conv_problem(rng)
    for stride, pad in ((1, 1), (2, 1), (1, 0)):
        out, cache = submission.conv_numpy.conv2d_forward(x, w, b, stride, pad)
        dout = rng.standard_normal(oracle.conv2d(x, w, b, stride, pad).shape)
        grads = submission.conv_numpy.conv2d_backward(dout, cache)
        assert len(grads) == 3, f"conv2d_backward returned {len(grads)} values, expected 3"
        for name, got, want in zip(("dx", "dw", "db"), grads,
                                   oracle.conv2d_grads(x, w, b, dout, stride, pad), strict=True):
            check.numpy_close(got, want, name=f"{name} (stride {stride}, pad {pad})")


@pytest.mark.points(2)
def test_max_pool2d_forward_backward(submission, rng, oracle, check):
    """max_pool2d_forward/backward (2x2, stride 2) match torch's max_pool2d and its gradient."""
    x = rng.standard_normal((2, 3, 6, 8))
    out, cache = submission.conv_numpy.max_pool2d_forward(x, 2, 2)
    dout = rng.standard_normal((2, 3, 3, 4))
    want_out, want_dx = oracle.pool2d("max", x, 2, 2, dout)
    check.numpy_close(out, want_out, name="max_pool2d_forward")
    check.numpy_close(submission.conv_numpy.max_pool2d_backward(dout, cache), want_dx,
                      name="max_pool2d_backward")


@pytest.mark.points(1)
def test_avg_pool2d_forward(submission, rng, oracle, check):
    """avg_pool2d_forward (2x2, stride 2) matches torch's avg_pool2d."""
    x = rng.standard_normal((2, 3, 6, 4))
    out, _ = submission.conv_numpy.avg_pool2d_forward(x, 2, 2)
    check.numpy_close(out, oracle.pool2d("avg", x, 2, 2), name="avg_pool2d_forward")


@pytest.mark.points(2)
def test_conv2d_fast_agrees_with_naive(submission, rng, oracle, check):
    """conv2d_forward_fast (im2col) agrees with torch and with your conv2d_forward."""
    x, w, b = _conv_problem(rng, N=3, C=2, H=9, W=6, F=5, HH=3, WW=3)
    fast = submission.conv_numpy.conv2d_forward_fast(x, w, b, 1, 1)
    naive, _ = submission.conv_numpy.conv2d_forward(x, w, b, 1, 1)
    check.numpy_close(fast, oracle.conv2d(x, w, b, 1, 1), name="conv2d_forward_fast")
    check.numpy_close(fast, np.asarray(naive), name="conv2d_forward_fast vs your conv2d_forward")


@pytest.mark.points(1)
def test_conv1d_and_conv3d_forward(submission, rng, oracle, check):
    """conv1d_forward and conv3d_forward match torch's conv1d and conv3d (stride 1, padding 1)."""
    x1, w1, b1 = rng.standard_normal((2, 3, 10)), rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    check.numpy_close(submission.conv_numpy.conv1d_forward(x1, w1, b1, 1, 1),
                      oracle.conv1d(x1, w1, b1, 1, 1), name="conv1d_forward")
    x3 = rng.standard_normal((2, 2, 4, 5, 5))
    w3, b3 = rng.standard_normal((3, 2, 3, 3, 3)), rng.standard_normal(3)
    check.numpy_close(submission.conv_numpy.conv3d_forward(x3, w3, b3, 1, 1),
                      oracle.conv3d(x3, w3, b3, 1, 1), name="conv3d_forward")
