"""Convolution and pooling from scratch in numpy: forward and backward passes,
a vectorised (im2col) convolution, and 1-d and 3-d convolutions (handout part A,
sections A1 to A6).

numpy only: torch (and scipy) are not allowed in this file. Every function takes
numpy float64 arrays and must return numpy float64 arrays.

Conventions used throughout this file (those of torch and CS231n):

- Images are channels first: x has shape (N, C, H, W) (batch, channels, height,
  width). A filter bank w has shape (F, C, HH, WW): F filters, each spanning all
  C input channels, HH x WW in space. The bias b has shape (F,).
- "Convolution" is CROSS-CORRELATION, exactly as in torch.nn.functional.conv2d:
  the kernel is NOT flipped,

      out[n, f, i, j] = b[f] + sum over c, p, q of
                        xp[n, c, i * stride + p, j * stride + q] * w[f, c, p, q]

  where xp is x zero-padded with `pad` rows/columns on EVERY side (top and
  bottom, left and right).
- The output size along one axis is conv_output_size(H, HH, stride, pad)
  = floor((H + 2 * pad - HH) / stride) + 1; inputs that do not fit a whole
  window at the end are dropped, as in torch.
- A ``*_forward`` function returns ``(out, cache)``; the matching ``*_backward``
  function takes the upstream gradient dout (the gradient of the scalar loss
  with respect to out, so it has out's shape) and that cache.
- No function modifies its inputs (x, w, b, dout, a cache): the caller may use
  them again. Compute new arrays, or work on a copy.
"""

import numpy as np


def conv_output_size(size, kernel, stride=1, pad=0):
    """Length of a convolution's or pooling's output along one axis.

    Inputs:
    - size: int, the input's length along the axis (e.g. H)
    - kernel: int, the window's length along the axis (e.g. HH)
    - stride: int >= 1
    - pad: int >= 0, zeros added on EACH side

    Returns:
    - out_size: int, floor((size + 2 * pad - kernel) / stride) + 1
    """
    # BEGIN SOLUTION hint: handout A1: how many window positions fit along the padded axis
    out_size = (size + 2 * pad - kernel) // stride + 1
    # END SOLUTION
    return out_size


def pad_images(x, pad):
    """Zero-pad the two spatial axes of x by `pad` on every side.

    Inputs:
    - x: (N, C, H, W)
    - pad: int >= 0

    Returns:
    - xp: (N, C, H + 2 * pad, W + 2 * pad), x in the middle, zeros around it

    x is not modified.
    """
    # BEGIN SOLUTION hint: handout A1: zeros around the two spatial axes only
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    # END SOLUTION
    return xp


def conv2d_forward(x, w, b, stride=1, pad=0):
    """Naive 2-d convolution (cross-correlation), forward pass, with loops.

    Inputs:
    - x: input images, (N, C, H, W)
    - w: filters, (F, C, HH, WW)
    - b: biases, (F,)
    - stride: int >= 1, the same in both directions
    - pad: int >= 0, zeros on every side of both spatial axes

    Returns a tuple of:
    - out: (N, F, H', W') with H' = conv_output_size(H, HH, stride, pad) and
      W' = conv_output_size(W, WW, stride, pad)
    - cache: what conv2d_backward needs

    x, w and b are not modified.
    """
    # BEGIN SOLUTION hint: handout A2: every output position is one window of the padded input against each filter, plus its bias
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = conv_output_size(H, HH, stride, pad)
    Wo = conv_output_size(W, WW, stride, pad)
    xp = pad_images(x, pad)
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    out += b[None, :, None, None]
    cache = (x, w, stride, pad)
    # END SOLUTION
    return out, cache


def conv2d_backward(dout, cache):
    """Naive 2-d convolution, backward pass.

    Inputs:
    - dout: upstream gradient, (N, F, H', W')
    - cache: from conv2d_forward

    Returns a tuple of:
    - dx: (N, C, H, W), gradient with respect to x (not the padded x)
    - dw: (F, C, HH, WW)
    - db: (F,), summed over the batch AND over every output position

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: handout A3: each output position's gradient flows back to the window it read and to the filters
    x, w, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = pad_images(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(Ho):
        for j in range(Wo):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            d = dout[:, :, i, j]                                   # (N, F)
            dw += np.tensordot(d, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, pad : pad + H, pad : pad + W]
    db = dout.sum(axis=(0, 2, 3))
    # END SOLUTION
    return dx, dw, db


def max_pool2d_forward(x, pool_size=2, stride=2):
    """Max pooling over square windows, forward pass (no padding).

    Inputs:
    - x: (N, C, H, W)
    - pool_size: int, the window is pool_size x pool_size
    - stride: int >= 1 (windows overlap when stride < pool_size)

    Returns a tuple of:
    - out: (N, C, H', W'), H' = conv_output_size(H, pool_size, stride),
      out[n, c, i, j] = max of x[n, c, window (i, j)]
    - cache: what max_pool2d_backward needs

    x is not modified.
    """
    # BEGIN SOLUTION hint: handout A4: the largest value of every window
    N, C, H, W = x.shape
    Ho = conv_output_size(H, pool_size, stride)
    Wo = conv_output_size(W, pool_size, stride)
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size]
            out[:, :, i, j] = window.max(axis=(2, 3))
    cache = (x, pool_size, stride)
    # END SOLUTION
    return out, cache


def max_pool2d_backward(dout, cache):
    """Max pooling, backward pass.

    Each window's upstream gradient goes to ONE input only: the position of the
    window's maximum (the first one in row-major order if several inputs tie).
    Inputs that are the maximum of several overlapping windows receive the sum.

    Inputs:
    - dout: (N, C, H', W')
    - cache: from max_pool2d_forward

    Returns:
    - dx: (N, C, H, W)

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: handout A4: each window's gradient goes to the one input it took, adding up where windows overlap
    x, pool_size, stride = cache
    N, C, H, W = x.shape
    _, _, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size]
            k = window.reshape(N, C, -1).argmax(axis=2)
            p, q = np.unravel_index(k, (pool_size, pool_size))
            np.add.at(dx, (n_idx, c_idx, i * stride + p, j * stride + q), dout[:, :, i, j])
    # END SOLUTION
    return dx


def avg_pool2d_forward(x, pool_size=2, stride=2):
    """Average pooling over square windows, forward pass (no padding).

    Inputs:
    - x: (N, C, H, W)
    - pool_size: int, the window is pool_size x pool_size
    - stride: int >= 1

    Returns a tuple of:
    - out: (N, C, H', W'), the mean of each window (of its pool_size**2 inputs)
    - cache: what avg_pool2d_backward needs

    x is not modified.
    """
    # BEGIN SOLUTION hint: handout A4: the mean of every window
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]                    # (N, C, H', W', k, k)
    out = windows.sum(axis=(4, 5)) / (pool_size * pool_size)
    cache = (x.shape, pool_size, stride)
    # END SOLUTION
    return out, cache


def avg_pool2d_backward(dout, cache):
    """Average pooling, backward pass.

    Inputs:
    - dout: (N, C, H', W')
    - cache: from avg_pool2d_forward

    Returns:
    - dx: (N, C, H, W); every input of a window gets dout / pool_size**2
      (summed over the windows that contain it)

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: handout A4: each window's gradient is shared equally by its inputs
    x_shape, pool_size, stride = cache
    _, _, Ho, Wo = dout.shape
    dx = np.zeros(x_shape)
    share = dout / (pool_size * pool_size)
    for i in range(Ho):
        for j in range(Wo):
            dx[:, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size] += (
                share[:, :, i, j][:, :, None, None]
            )
    # END SOLUTION
    return dx


def im2col(x, HH, WW, stride=1, pad=0):
    """Unfold every convolution window of x into one column.

    Inputs:
    - x: (N, C, H, W)
    - HH, WW: the window's height and width
    - stride, pad: as in conv2d_forward

    Returns:
    - cols: (C * HH * WW, N * H' * W'). Row index r = (c * HH + p) * WW + q
      (the order of w[f].reshape(-1)); column index k = (n * H' + i) * W' + j.
      cols[r, k] = xp[n, c, i * stride + p, j * stride + q].

    x is not modified.
    """
    # BEGIN SOLUTION hint: handout A5: one column per window, its rows in the order of a flattened filter
    N, C, H, W = x.shape
    xp = pad_images(x, pad)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]                    # (N, C, H', W', HH, WW)
    Ho, Wo = windows.shape[2], windows.shape[3]
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * Ho * Wo)
    # END SOLUTION
    return cols


def conv2d_forward_fast(x, w, b, stride=1, pad=0):
    """Vectorised 2-d convolution: im2col and ONE matrix product, no Python loop
    over positions. Must agree with conv2d_forward.

    Inputs and output: as conv2d_forward, but returns only out (N, F, H', W').

    x, w and b are not modified.
    """
    # BEGIN SOLUTION hint: handout A5: the whole convolution as one matrix product of the flattened filters with the columns
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = conv_output_size(H, HH, stride, pad)
    Wo = conv_output_size(W, WW, stride, pad)
    cols = im2col(x, HH, WW, stride, pad)
    out = w.reshape(F, -1) @ cols + b[:, None]
    out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)
    # END SOLUTION
    return np.ascontiguousarray(out)


def conv1d_forward(x, w, b, stride=1, pad=0):
    """1-d convolution (cross-correlation) over sequences, like torch's conv1d.

    out[n, f, i] = b[f] + sum over c, p of xp[n, c, i * stride + p] * w[f, c, p]

    Inputs:
    - x: (N, C, L), C channels of length L
    - w: (F, C, K)
    - b: (F,)
    - stride: int >= 1; pad: int >= 0 zeros at BOTH ends

    Returns:
    - out: (N, F, L'), L' = conv_output_size(L, K, stride, pad)

    x, w and b are not modified.
    """
    # BEGIN SOLUTION hint: handout A6: the 2-d convolution with a single spatial axis
    N, C, L = x.shape
    F, _, K = w.shape
    Lo = conv_output_size(L, K, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    out = np.zeros((N, F, Lo))
    for i in range(Lo):
        window = xp[:, :, i * stride : i * stride + K]
        out[:, :, i] = np.tensordot(window, w, axes=([1, 2], [1, 2]))
    out += b[None, :, None]
    # END SOLUTION
    return out


def conv3d_forward(x, w, b, stride=1, pad=0):
    """3-d convolution (cross-correlation) over volumes or video clips, like torch's conv3d.

    out[n, f, t, i, j] = b[f] + sum over c, s, p, q of
                         xp[n, c, t * stride + s, i * stride + p, j * stride + q] * w[f, c, s, p, q]

    Inputs:
    - x: (N, C, D, H, W), e.g. D frames of H x W images
    - w: (F, C, KD, KH, KW)
    - b: (F,)
    - stride: int >= 1 on all three axes; pad: int >= 0 zeros on every side of all three axes

    Returns:
    - out: (N, F, D', H', W'), each size given by conv_output_size

    x, w and b are not modified.
    """
    # BEGIN SOLUTION hint: handout A6: the 2-d convolution with a third spatial axis
    N, C, D, H, W = x.shape
    F, _, KD, KH, KW = w.shape
    Do = conv_output_size(D, KD, stride, pad)
    Ho = conv_output_size(H, KH, stride, pad)
    Wo = conv_output_size(W, KW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Do, Ho, Wo))
    for t in range(Do):
        for i in range(Ho):
            for j in range(Wo):
                window = xp[:, :, t * stride : t * stride + KD, i * stride : i * stride + KH,
                            j * stride : j * stride + KW]
                out[:, :, t, i, j] = np.tensordot(window, w, axes=([1, 2, 3, 4], [1, 2, 3, 4]))
    out += b[None, :, None, None, None]
    # END SOLUTION
    return out
