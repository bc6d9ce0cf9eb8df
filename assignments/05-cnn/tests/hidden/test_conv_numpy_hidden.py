"""Hidden tests for conv_numpy.py: correlation not convolution, padding, strides, gradients, pooling."""

import numpy as np
import pytest


@pytest.mark.points(1)
def test_conv2d_is_cross_correlation(submission, rng, oracle, check):
    """conv2d_forward does not flip the kernel: an asymmetric kernel on one channel matches torch."""
    x = rng.standard_normal((1, 1, 6, 7))
    w = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    b = np.zeros(1)
    out, _ = submission.conv_numpy.conv2d_forward(x, w, b, 1, 0)
    check.numpy_close(out, oracle.conv2d(x, w, b), name="conv2d_forward with an asymmetric kernel")
    impulse = np.zeros((1, 1, 5, 5))
    impulse[0, 0, 2, 2] = 1.0
    out, _ = submission.conv_numpy.conv2d_forward(impulse, w, b, 1, 1)
    check.numpy_close(out, oracle.conv2d(impulse, w, b, 1, 1), name="conv2d_forward of an impulse")


@pytest.mark.points(1)
def test_conv2d_padding_on_every_side(submission, rng, oracle, check):
    """conv2d_forward pads zeros on all four sides (pad 2, a 3x2 kernel, several channels)."""
    x = rng.standard_normal((2, 2, 5, 4))
    w, b = rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    out, _ = submission.conv_numpy.conv2d_forward(x, w, b, 1, 2)
    check.numpy_close(out, oracle.conv2d(x, w, b, 1, 2), name="conv2d_forward(pad=2)")


@pytest.mark.points(2)
def test_conv2d_stride_output_size(submission, rng, oracle, check):
    """With strides that do not divide the input, the output size is floor(...) + 1, as in torch."""
    for (H, W), (HH, WW), stride, pad in (((10, 9), (3, 4), 2, 0), ((11, 7), (3, 3), 3, 1),
                                          ((7, 7), (4, 4), 4, 1)):
        x = rng.standard_normal((2, 2, H, W))
        w, b = rng.standard_normal((3, 2, HH, WW)), rng.standard_normal(3)
        out, _ = submission.conv_numpy.conv2d_forward(x, w, b, stride, pad)
        check.numpy_close(out, oracle.conv2d(x, w, b, stride, pad),
                          name=f"conv2d_forward(stride={stride}, pad={pad}) on {H}x{W}")
        for size, kernel in ((H, HH), (W, WW)):
            got = submission.conv_numpy.conv_output_size(size, kernel, stride, pad)
            assert got == oracle.output_size(size, kernel, stride, pad), "conv_output_size is wrong"


@pytest.mark.points(3)
def test_conv2d_backward_strided_padded(submission, rng, oracle, check):
    """conv2d_backward with stride 2 or 3, padding 2 or none, a non-square kernel and one example."""
    for N, stride, pad in ((1, 2, 2), (3, 3, 2), (2, 2, 0)):
        x = rng.standard_normal((N, 3, 8, 7))
        w, b = rng.standard_normal((2, 3, 3, 4)), rng.standard_normal(2)
        dout = rng.standard_normal(oracle.conv2d(x, w, b, stride, pad).shape)
        _, cache = submission.conv_numpy.conv2d_forward(x, w, b, stride, pad)
        grads = submission.conv_numpy.conv2d_backward(dout, cache)
        for name, got, want in zip(("dx", "dw", "db"), grads,
                                   oracle.conv2d_grads(x, w, b, dout, stride, pad), strict=True):
            check.numpy_close(got, want, name=f"{name} (N={N}, stride={stride}, pad={pad})")


@pytest.mark.points(1)
def test_conv2d_bias_gradient_sums_positions(submission, rng, check):
    """db is dout summed over the batch and over every output position."""
    x = rng.standard_normal((3, 2, 6, 6))
    w, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    out, cache = submission.conv_numpy.conv2d_forward(x, w, b, 1, 1)
    dout = rng.uniform(0.5, 1.5, (3, 4, 6, 6))
    _, _, db = submission.conv_numpy.conv2d_backward(dout, cache)
    check.numpy_close(db, dout.sum(axis=(0, 2, 3)), name="db")


@pytest.mark.points(2)
def test_max_pool2d_backward_routes_to_argmax(submission, rng, oracle, check):
    """max_pool2d_backward sends each window's gradient to its maximum only (the first on a tie), summed over overlapping windows."""
    x = rng.standard_normal((2, 2, 6, 6))
    out, cache = submission.conv_numpy.max_pool2d_forward(x, 3, 3)
    dout = rng.standard_normal((2, 2, 2, 2))
    dx = np.asarray(submission.conv_numpy.max_pool2d_backward(dout, cache))
    assert np.count_nonzero(dx) == dout.size, "every window must route its gradient to ONE input"
    check.numpy_close(dx, oracle.pool2d("max", x, 3, 3, dout)[1], name="max_pool2d_backward (3x3)")
    for pool, stride, shape in ((2, 1, (2, 3, 5, 6)), (3, 2, (1, 2, 7, 8))):
        check.pooling_matches(submission.conv_numpy, "max", rng.standard_normal(shape), pool, stride, rng)
    ties = rng.integers(0, 3, (2, 2, 6, 6)).astype(np.float64)  # many windows with tied maxima
    for pool, stride in ((2, 2), (3, 1)):
        check.pooling_matches(submission.conv_numpy, "max", ties, pool, stride, rng)


@pytest.mark.points(1)
def test_avg_pool2d_overlapping_and_backward(submission, rng, oracle, check):
    """avg_pool2d forward and backward match torch, also with overlapping 3x3 windows of stride 2."""
    for pool, stride in ((2, 2), (3, 2)):
        check.pooling_matches(submission.conv_numpy, "avg", rng.standard_normal((2, 3, 7, 9)), pool, stride, rng)


@pytest.mark.points(1)
def test_im2col_layout(submission, rng, oracle, check):
    """im2col puts window (n, i, j) in column (n * H' + i) * W' + j, in the order of w[f].reshape(-1)."""
    x = rng.standard_normal((2, 3, 5, 6))
    check.numpy_close(submission.conv_numpy.im2col(x, 3, 2, 2, 1), oracle.im2col(x, 3, 2, 2, 1),
                      name="im2col(x, 3, 2, stride=2, pad=1)")


@pytest.mark.points(1)
def test_conv2d_fast_strided_padded(submission, rng, oracle, check):
    """conv2d_forward_fast matches torch with a non-square kernel, stride 2 and padding 2."""
    x = rng.standard_normal((3, 4, 9, 8))
    w, b = rng.standard_normal((5, 4, 3, 2)), rng.standard_normal(5)
    check.numpy_close(submission.conv_numpy.conv2d_forward_fast(x, w, b, 2, 2),
                      oracle.conv2d(x, w, b, 2, 2), name="conv2d_forward_fast(stride=2, pad=2)")


@pytest.mark.points(1)
def test_conv1d_stride_padding(submission, rng, oracle, check):
    """conv1d_forward with stride 2 and padding 2 matches torch's conv1d."""
    x, w, b = rng.standard_normal((3, 2, 11)), rng.standard_normal((4, 2, 4)), rng.standard_normal(4)
    check.numpy_close(submission.conv_numpy.conv1d_forward(x, w, b, 2, 2), oracle.conv1d(x, w, b, 2, 2),
                      name="conv1d_forward(stride=2, pad=2)")


@pytest.mark.points(1)
def test_conv3d_stride_padding(submission, rng, oracle, check):
    """conv3d_forward with stride 2, padding 1 and a non-cubic kernel matches torch's conv3d."""
    x = rng.standard_normal((2, 2, 5, 6, 7))
    w, b = rng.standard_normal((3, 2, 2, 3, 3)), rng.standard_normal(3)
    check.numpy_close(submission.conv_numpy.conv3d_forward(x, w, b, 2, 1), oracle.conv3d(x, w, b, 2, 1),
                      name="conv3d_forward(stride=2, pad=1)")


@pytest.mark.points(1)
def test_conv_numpy_returns_numpy_arrays(submission, rng, oracle, check):
    """conv_numpy.py returns numpy float64 arrays everywhere (no torch tensors), with torch's values."""
    x, w, b = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out, cache = submission.conv_numpy.conv2d_forward(x, w, b, 1, 1)
    check.numpy_array(out, (2, 3, 4, 4), "conv2d_forward(...)[0]")
    check.numpy_close(out, oracle.conv2d(x, w, b, 1, 1), name="conv2d_forward(...)[0]")
    dout = rng.standard_normal((2, 3, 4, 4))
    for name, g, shape, want in zip(("dx", "dw", "db"), submission.conv_numpy.conv2d_backward(dout, cache),
                                    (x.shape, w.shape, b.shape), oracle.conv2d_grads(x, w, b, dout, 1, 1),
                                    strict=True):
        check.numpy_array(g, shape, name)
        check.numpy_close(g, want, name=name)
    check.numpy_array(submission.conv_numpy.conv2d_forward_fast(x, w, b, 1, 1), (2, 3, 4, 4),
                      "conv2d_forward_fast(...)")
    pooled, pcache = submission.conv_numpy.max_pool2d_forward(x, 2, 2)
    check.numpy_array(pooled, (2, 2, 2, 2), "max_pool2d_forward(...)[0]")
    check.numpy_close(pooled, oracle.pool2d("max", x, 2, 2), name="max_pool2d_forward(...)[0]")
    check.numpy_array(submission.conv_numpy.max_pool2d_backward(pooled, pcache), x.shape,
                      "max_pool2d_backward(...)")


def _left_alone(kept, original: np.ndarray, what: str) -> None:
    """``kept`` (an argument kept in the worker) still holds ``original`` after the call."""
    assert np.array_equal(np.asarray(kept.value()), original), (
        f"{what} in place; compute a new array (the caller may use it again)"
    )


@pytest.mark.points(2)
def test_conv_and_pool_leave_their_inputs_unchanged(submission, rng, oracle, check):
    """The convolution and pooling passes return new arrays and leave x and dout unchanged."""
    conv = submission.conv_numpy
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    kept_x = submission.keep(x.copy())
    out, cache = conv.conv2d_forward(kept_x, w, b, 1, 1)
    _left_alone(kept_x, x, "conv2d_forward changed its x argument")
    check.numpy_close(out, oracle.conv2d(x, w, b, 1, 1), name="conv2d_forward")
    dout = rng.standard_normal((2, 4, 6, 5))
    kept = submission.keep(dout.copy())
    grads = conv.conv2d_backward(kept, cache)
    _left_alone(kept, dout, "conv2d_backward changed its dout argument")
    for name, got, want in zip(("dx", "dw", "db"), grads, oracle.conv2d_grads(x, w, b, dout, 1, 1), strict=True):
        check.numpy_close(got, want, name=f"conv2d_backward's {name}")
    for kind in ("max", "avg"):
        kept_x = submission.keep(x.copy())
        out, cache = getattr(conv, f"{kind}_pool2d_forward")(kept_x, 2, 2)
        _left_alone(kept_x, x, f"{kind}_pool2d_forward changed its x argument")
        dout = rng.standard_normal((2, 3, 3, 2))
        want_out, want_dx = oracle.pool2d(kind, x, 2, 2, dout)
        check.numpy_close(out, want_out, name=f"{kind}_pool2d_forward")
        kept = submission.keep(dout.copy())
        dx = getattr(conv, f"{kind}_pool2d_backward")(kept, cache)
        _left_alone(kept, dout, f"{kind}_pool2d_backward changed its dout argument")
        check.numpy_close(dx, want_dx, name=f"{kind}_pool2d_backward")
