"""A deep convolutional GAN (Radford et al., 2016) on scikit-learn's 8x8 digits (torch).

- ``conv_transpose_output_size``, ``conv_transpose2d``: the transposed convolution, written
  by you (``torch.nn.ConvTranspose2d`` and ``torch.nn.functional.conv_transpose2d`` are
  banned in this assignment);
- ``ConvTranspose2d``: a module holding the weight and bias of one transposed convolution;
- ``DCGANGenerator``: z -> a linear layer -> two stride-2 transposed convolutions -> 8x8 images;
- ``DCGANDiscriminator``: two stride-2 convolutions and a linear layer -> one logit per image;
- ``digit_images`` (given): scikit-learn's digits as images in [-1, 1].

The networks are trained with ``gan.train_gan`` (your alternating GAN training works for any
generator with a ``latent_dim`` and any discriminator that returns one logit per example).
No function modifies its inputs.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def digit_images(pixels):
    """scikit-learn's digits as images for the GAN (given).

    Inputs:
    - pixels: array or tensor (N, 64) of pixel values 0 .. 16

    Returns:
    - images: float32 tensor (N, 1, 8, 8) in [-1, 1] (0 -> -1, 16 -> 1)
    """
    x = torch.as_tensor(pixels, dtype=torch.float32)
    return (x / 8.0 - 1.0).reshape(-1, 1, 8, 8)


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0):
    """The output size of a transposed convolution along one axis (handout §3.1).

    Inputs:
    - size: int, the input's size along the axis
    - kernel_size, stride, padding: ints

    Returns:
    - int, the output's size along the axis
    """
    # BEGIN SOLUTION hint: handout §3.1 (the output size)
    out = (size - 1) * stride - 2 * padding + kernel_size
    # END SOLUTION
    return out


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0):
    """The 2-D transposed convolution of x (handout §3.1).

    Every input pixel x[n, c, i, j] adds x[n, c, i, j] * weight[c, o] to the output window
    of channel o whose top-left corner is at (i * stride, j * stride), before ``padding``
    rows and columns are cut from each border; then bias[o] is added to every output pixel
    of channel o. The result is differentiable (autograd) in x, weight and bias, and x is
    left unchanged.

    Inputs:
    - x: tensor (N, C_in, H, W)
    - weight: tensor (C_in, C_out, k, k) (note the order: input channels first, as in torch)
    - bias: tensor (C_out,) or None
    - stride, padding: ints

    Returns:
    - out: tensor (N, C_out, H_out, W_out) of x's dtype, with H_out, W_out given by
      conv_transpose_output_size
    """
    # BEGIN SOLUTION hint: handout §3.1 (the transposed convolution)
    N, _, H, W = x.shape
    _, C_out, k, _ = weight.shape
    H_out = conv_transpose_output_size(H, k, stride, padding)
    W_out = conv_transpose_output_size(W, k, stride, padding)
    # one (C_out, k, k) window per input pixel, then fold adds the windows at their places
    windows = torch.einsum("nchw,cokl->noklhw", x, weight).reshape(N, C_out * k * k, H * W)
    full = F.fold(windows, (H_out + 2 * padding, W_out + 2 * padding), k, stride=stride)
    out = full[:, :, padding:padding + H_out, padding:padding + W_out]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    # END SOLUTION
    return out


class ConvTranspose2d(nn.Module):
    """A transposed convolution layer: forward(x) = conv_transpose2d(x, weight, bias, stride, padding).

    Inputs: in_channels (C_in), out_channels (C_out), kernel_size (k), stride, padding.

    Attributes: stride, padding (ints); weight (nn.Parameter (C_in, C_out, k, k)), He-normal:
    standard deviation sqrt(2 / (C_in * (k / stride) ** 2)), the number of input pixels that
    reach one output pixel; bias (nn.Parameter (C_out,)), zeros.
    forward(x): x (N, C_in, H, W) -> (N, C_out, H_out, W_out).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        # BEGIN SOLUTION hint: handout §3.2 (the attributes and their shapes)
        self.stride = stride
        self.padding = padding
        std = math.sqrt(2.0 / (in_channels * (kernel_size / stride) ** 2))
        self.weight = nn.Parameter(std * torch.randn(in_channels, out_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION hint: handout §3.2 (uses your conv_transpose2d)
        out = conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding)
        # END SOLUTION
        return out


class DCGANGenerator(nn.Module):
    """The DCGAN generator for 8x8 images (handout §3.2), with C = channels:

        h = relu(fc(z)) reshaped to (N, 2C, 2, 2)
        h = relu(up1(h))       (N, C, 4, 4)
        x = tanh(up2(h))       (N, 1, 8, 8), in [-1, 1] like the data

    Inputs: latent_dim (Z), channels (C).

    Attributes: latent_dim, channels; fc (nn.Linear(Z, 2C * 2 * 2)); up1 (ConvTranspose2d(2C, C,
    4, stride 2, padding 1)); up2 (ConvTranspose2d(C, 1, 4, stride 2, padding 1)).
    forward(z): z (N, Z) -> images (N, 1, 8, 8).
    """

    def __init__(self, latent_dim=16, channels=32):
        super().__init__()
        # BEGIN SOLUTION hint: handout §3.2 (the attributes and their shapes)
        self.latent_dim = latent_dim
        self.channels = channels
        self.fc = nn.Linear(latent_dim, 2 * channels * 2 * 2)
        self.up1 = ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1)
        self.up2 = ConvTranspose2d(channels, 1, 4, stride=2, padding=1)
        # END SOLUTION

    def forward(self, z):
        # BEGIN SOLUTION hint: handout §3.2 (the layers in order, and the output's range)
        h = F.relu(self.fc(z)).reshape(z.shape[0], 2 * self.channels, 2, 2)
        x = torch.tanh(self.up2(F.relu(self.up1(h))))
        # END SOLUTION
        return x


class DCGANDiscriminator(nn.Module):
    """The DCGAN discriminator for 8x8 images (handout §3.2), with C = channels:

        h = leaky_relu(conv1(x), 0.2)      (N, C, 4, 4)
        h = leaky_relu(conv2(h), 0.2)      (N, 2C, 2, 2)
        logits = out(h flattened)          (N,)   (no sigmoid)

    Inputs: channels (C).

    Attributes: conv1 (nn.Conv2d(1, C, 4, stride 2, padding 1)), conv2 (nn.Conv2d(C, 2C, 4,
    stride 2, padding 1)), out (nn.Linear(2C * 2 * 2, 1)).
    forward(x): x (N, 1, 8, 8) -> logits (N,).
    """

    def __init__(self, channels=32):
        super().__init__()
        # BEGIN SOLUTION hint: handout §3.2 (the attributes and their shapes)
        self.conv1 = nn.Conv2d(1, channels, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1)
        self.out = nn.Linear(2 * channels * 2 * 2, 1)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION hint: handout §3.2 (the layers in order; one logit per image)
        h = F.leaky_relu(self.conv2(F.leaky_relu(self.conv1(x), 0.2)), 0.2)
        logits = self.out(h.flatten(1)).squeeze(1)
        # END SOLUTION
        return logits
