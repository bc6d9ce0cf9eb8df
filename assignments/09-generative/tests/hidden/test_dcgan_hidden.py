"""Hidden tests for dcgan.py: transposed convolutions of other shapes and their gradients, the layer, other sizes, backward passes."""

import math

import pytest
import torch

from autograder.testing import ProbeLabels, assert_close, assert_probe_matches


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


# (N, C_in, H, W, C_out, kernel, stride, padding, with a bias)
SHAPES = [(3, 2, 4, 3, 3, 3, 1, 0, True), (1, 4, 2, 5, 2, 2, 3, 0, False), (2, 1, 5, 5, 1, 5, 2, 2, True)]


@pytest.mark.points(2)
def test_conv_transpose2d_other_shapes(submission, oracle, rng):
    """conv_transpose2d with strides 1 to 3, paddings 0 to 2, odd kernels, no bias and non-square inputs; x and weight stay unchanged."""
    for n, c_in, h, w, c_out, k, stride, pad, with_bias in SHAPES:
        x, weight = _t(rng, n, c_in, h, w), _t(rng, c_in, c_out, k, k)
        bias = _t(rng, c_out) if with_bias else None
        what = f"kernel {k}, stride {stride}, padding {pad}"
        want = oracle.conv_transpose2d(x, weight, bias, stride, pad)
        assert submission.dcgan.conv_transpose_output_size(h, k, stride, pad) == want.shape[2], (
            f"conv_transpose_output_size({h}, {k}, {stride}, {pad}) is not the output's height")
        kept_x, kept_w = submission.keep(x.clone()), submission.keep(weight.clone())
        got = submission.dcgan.conv_transpose2d(kept_x, kept_w, bias, stride, pad)
        assert tuple(got.shape) == tuple(want.shape), f"{what}: output shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        assert_close(got, want, rtol=1e-9, atol=1e-12, name=f"conv_transpose2d, {what}")
        assert torch.equal(kept_x.value(), x) and torch.equal(kept_w.value(), weight), (
            "conv_transpose2d changed x or weight in place; compute a new tensor (no function modifies its inputs)")


@pytest.mark.points(2)
def test_conv_transpose2d_gradients(submission, oracle, rng):
    """conv_transpose2d's gradients with respect to x, the weight and the bias match torch's transposed convolution's."""
    x, weight, bias = _t(rng, 2, 3, 3, 2), _t(rng, 3, 2, 4, 4), _t(rng, 2)
    upstream = _t(rng, 2, 2, 6, 4)
    leaves = [a.clone().requires_grad_() for a in (x, weight, bias)]
    oracle.conv_transpose2d(*leaves, 2, 1).backward(upstream)
    probe = submission.autograd_probe(submission.dcgan.conv_transpose2d, [x, weight, bias, 2, 1], upstream)
    assert_probe_matches(probe, {"output": oracle.conv_transpose2d(x, weight, bias, 2, 1),
                                 "input_grads": [leaf.grad for leaf in leaves] + [None, None]},
                         labels=ProbeLabels(inputs=("d/dx", "d/dweight", "d/dbias", "stride", "padding")),
                         rtol=1e-8, atol=1e-10)


@pytest.mark.points(2)
def test_transposed_layer_and_other_sizes(submission, oracle, weights, rng):
    """ConvTranspose2d holds a He-normal weight (C_in, C_out, k, k) and a zero bias; the DCGAN's networks work at other sizes."""
    layer = submission.dcgan.ConvTranspose2d(64, 32, 4, 2, 1)
    sd = layer.state_dict()
    assert tuple(sd["weight"].shape) == (64, 32, 4, 4), f"weight shape {tuple(sd['weight'].shape)}, expected (64, 32, 4, 4)"
    assert tuple(sd["bias"].shape) == (32,) and not sd["bias"].any(), "the bias must start as 32 zeros"
    want_std = math.sqrt(2 / (64 * (4 / 2) ** 2))
    std = float(sd["weight"].double().std())
    assert abs(std / want_std - 1) < 0.05, f"the weight's standard deviation is {std:.4f}, expected {want_std:.4f}"

    small = submission.dcgan.ConvTranspose2d(3, 2, 3, 2, 1)
    sd = weights.load(small)
    x = _t(rng, 2, 3, 4, 4)
    assert_close(small(x), oracle.conv_transpose2d(x, sd["weight"], sd["bias"], 2, 1), rtol=1e-8, atol=1e-12,
                 name="ConvTranspose2d(3, 2, 3, stride 2, padding 1)(x)")

    G, D = submission.dcgan.DCGANGenerator(3, 6), submission.dcgan.DCGANDiscriminator(5)
    sd_g, sd_d = weights.load(G), weights.load(D)
    z, images = 2 * _t(rng, 4, 3), _t(rng, 4, 1, 8, 8)
    assert_close(G(z), oracle.dcgan_generator(sd_g, z), rtol=1e-6, atol=1e-9, name="DCGANGenerator(3, 6)(z)")
    assert_close(D(images), oracle.dcgan_discriminator(sd_d, images), rtol=1e-6, atol=1e-9,
                 name="DCGANDiscriminator(5)(x)")


@pytest.mark.points(3)
def test_generator_gradients_through_the_discriminator(submission, oracle, weights, rng):
    """The DCGAN's backward passes: every weight gradient of the generator (through your transposed convolutions) and of the discriminator."""
    G, D = submission.dcgan.DCGANGenerator(4, 3), submission.dcgan.DCGANDiscriminator(3)
    sd_g, sd_d = weights.load(G), weights.load(D)
    z, upstream = _t(rng, 5, 4), _t(rng, 5, 1, 8, 8)
    leaves = {k: v.clone().requires_grad_() for k, v in sd_g.items()}
    oracle.dcgan_generator(leaves, z).backward(upstream)
    probe = submission.autograd_probe(G, [z], upstream, params=True)
    assert_probe_matches(probe, {"output": oracle.dcgan_generator(sd_g, z),
                                 "param_grads": {k: v.grad for k, v in leaves.items()}},
                         name="DCGANGenerator(4, 3)(z)", labels=ProbeLabels(param="gradient of G's {param}"),
                         rtol=1e-6, atol=1e-9)

    images = oracle.dcgan_generator(sd_g, z)
    probe = submission.autograd_probe(D, [images], torch.full((5,), -0.2, dtype=torch.float64), params=True)
    leaves = {k: v.clone().requires_grad_() for k, v in sd_d.items()}
    oracle.dcgan_discriminator(leaves, images).backward(torch.full((5,), -0.2, dtype=torch.float64))
    assert_probe_matches(probe, {"param_grads": {k: v.grad for k, v in leaves.items()}},
                         name="DCGANDiscriminator(3)(x)", labels=ProbeLabels(param="gradient of D's {param}"),
                         rtol=1e-6, atol=1e-9)
