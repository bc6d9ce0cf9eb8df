"""Public tests for dcgan.py: the transposed convolution, the DCGAN's networks, training on digits."""

import pytest
import torch

from autograder.testing import assert_close


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_conv_transpose2d_matches_torch(submission, oracle, rng):
    """conv_transpose2d (stride 2, padding 1) and its output size match torch's transposed convolution."""
    x, w, b = _t(rng, 2, 3, 3, 4), _t(rng, 3, 5, 4, 4), _t(rng, 5)
    want = oracle.conv_transpose2d(x, w, b, stride=2, padding=1)
    assert submission.dcgan.conv_transpose_output_size(3, 4, 2, 1) == want.shape[2], (
        "conv_transpose_output_size(3, kernel 4, stride 2, padding 1) is not the output's height")
    got = submission.dcgan.conv_transpose2d(x, w, b, 2, 1)
    assert tuple(got.shape) == tuple(want.shape), f"output shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    assert_close(got, want, rtol=1e-9, atol=1e-12, name="conv_transpose2d(x, w, b, stride=2, padding=1)")


@pytest.mark.points(2)
def test_dcgan_networks_match_oracle(submission, oracle, weights, rng):
    """DCGANGenerator maps z to 8x8 images in [-1, 1] and DCGANDiscriminator images to one logit each, as in the handout."""
    G, D = submission.dcgan.DCGANGenerator(5, 4), submission.dcgan.DCGANDiscriminator(4)
    sd_g, sd_d = weights.load(G), weights.load(D)
    z, x = 2 * _t(rng, 6, 5), _t(rng, 6, 1, 8, 8)
    assert_close(G(z), oracle.dcgan_generator(sd_g, z), rtol=1e-6, atol=1e-9, name="G(z)")
    assert_close(D(x), oracle.dcgan_discriminator(sd_d, x), rtol=1e-6, atol=1e-9, name="D(x)")


@pytest.mark.points(4)
def test_train_dcgan_on_digits(submission, oracle, weights, data, digit_judge):
    """train_gan trains the DCGAN on digits (800 steps): the grader's samples cover 8 digits and have real digits' pixel statistics."""
    train, _, _ = data.digit_images()
    G, D = submission.dcgan.DCGANGenerator(16, 32), submission.dcgan.DCGANDiscriminator(32)
    weights.dcgan_start(G)
    weights.dcgan_start(D)
    d_losses, _ = submission.gan.train_gan(G, D, train, steps=800, batch_size=64, lr=5e-4, seed=0)
    assert len(d_losses) == 800, f"train_gan returned {len(d_losses)} losses for 800 steps"
    z = torch.randn(1000, 16, generator=torch.Generator().manual_seed(5))
    samples = oracle.dcgan_generator(G.state_dict(), z.double())
    problems = digit_judge.problems(samples)
    assert not problems, "; ".join(problems)
