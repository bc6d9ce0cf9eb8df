"""Public tests for gan.py: the networks, the two losses, the discriminator step, training on a ring of Gaussians."""

import pytest
import torch

from autograder.testing import assert_close


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(1)
def test_networks_match_oracle(submission, oracle, weights, rng):
    """Generator and Discriminator compute the handout's MLPs (D gives one logit per row)."""
    G, D = submission.gan.Generator(3, 8, 2), submission.gan.Discriminator(2, 8)
    sd_g, sd_d = weights.load(G), weights.load(D)
    z, x = _t(rng, 5, 3), _t(rng, 5, 2)
    assert_close(G(z), oracle.generator(sd_g, z), rtol=1e-6, atol=1e-9, name="G(z)")
    assert_close(D(x), oracle.discriminator(sd_d, x), rtol=1e-6, atol=1e-9, name="D(x)")


@pytest.mark.points(2)
def test_losses_match_log_sigmoid(submission, oracle, rng):
    """discriminator_loss = -log D(x) - log(1 - D(G(z))); generator_loss is the non-saturating -log D(G(z))."""
    real, fake = 3 * _t(rng, 7), 3 * _t(rng, 5)
    assert_close(submission.gan.discriminator_loss(real, fake), oracle.bce_real_fake(real, fake), rtol=1e-7,
                 name="discriminator_loss")
    assert_close(submission.gan.generator_loss(fake), oracle.non_saturating(fake), rtol=1e-7,
                 name="generator_loss")


@pytest.mark.points(2)
def test_discriminator_step_does_not_touch_the_generator(submission, oracle, weights, check, rng):
    """discriminator_step takes one Adam step on D only: G's weights stay, and no gradient reaches G."""
    G, D = submission.gan.Generator(2, 8, 2), submission.gan.Discriminator(2, 8)
    sd_g, sd_d = weights.load(G), weights.load(D)
    opt_g, opt_d = submission.gan.make_optimizers(G, D, 0.01)
    real, z = _t(rng, 6, 2), _t(rng, 6, 2)
    loss = submission.gan.discriminator_step(G, D, opt_d, real, z)
    fake = oracle.generator(sd_g, z)
    assert_close(float(loss), float(oracle.bce_real_fake(oracle.discriminator(sd_d, real),
                                                         oracle.discriminator(sd_d, fake))),
                 rtol=1e-6, name="the returned loss")
    check.unchanged(G, sd_g, "the discriminator step changed the generator's")
    opt_g.step()  # moves G only if the discriminator step left gradients in it
    check.unchanged(G, sd_g, "the discriminator step left a gradient in the generator's")
    want = oracle.adam_step(sd_d, lambda p: oracle.bce_real_fake(oracle.discriminator(p, real),
                                                                  oracle.discriminator(p, fake)), 0.01)
    check.weights_close(D, want, "D after the step")


@pytest.mark.points(3)
def test_train_gan_covers_every_mode(submission, oracle, data):
    """train_gan on a ring of 8 Gaussians: the grader's samples sit on the modes, cover all 8 fairly and match held-out data."""
    x, _ = data.ring(4000, seed=0)
    submission.seed(0)
    G, D = submission.gan.Generator(2, 128, 2), submission.gan.Discriminator(2, 128)
    d_losses, g_losses = submission.gan.train_gan(G, D, x, steps=2000, batch_size=128, lr=1e-3, seed=0)
    assert len(d_losses) == len(g_losses) == 2000, "train_gan must return one loss per step for each network"
    z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(123), dtype=torch.float64)
    problems = oracle.ring_problems(oracle.generator(G.state_dict(), z), data.ring(2000, seed=99)[0])
    assert not problems, "; ".join(problems)
