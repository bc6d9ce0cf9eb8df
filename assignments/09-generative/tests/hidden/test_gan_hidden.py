"""Hidden tests for gan.py: loss gradients, the generator step, zeroing gradients, the conditional GAN."""

import pytest
import torch

from autograder.testing import ProbeLabels, assert_close, assert_probe_matches


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


def _nets(submission, weights, conditional=False):
    if conditional:
        G, D = submission.gan.ConditionalGenerator(2, 8, 8, 2), submission.gan.ConditionalDiscriminator(2, 8, 8)
    else:
        G, D = submission.gan.Generator(2, 8, 2), submission.gan.Discriminator(2, 8)
    return G, D, weights.load(G), weights.load(D)


@pytest.mark.points(2)
def test_generator_loss_does_not_saturate(submission, rng):
    """generator_loss's gradient is (sigmoid(l) - 1) / M: it stays large where D confidently rejects the fakes."""
    fake = torch.cat([torch.tensor([-8.0, -6.0], dtype=torch.float64), 2 * _t(rng, 4)])
    probe = submission.autograd_probe(submission.gan.generator_loss, [fake])
    assert_close(probe["input_grads"][0], (torch.sigmoid(fake) - 1) / 6, rtol=1e-7, atol=1e-12,
                 name="d generator_loss / d logits")


@pytest.mark.points(1)
def test_discriminator_loss_gradient(submission, rng):
    """discriminator_loss's gradient: (sigmoid(r) - 1) / N for the real logits, sigmoid(f) / M for the fakes."""
    real, fake = 2 * _t(rng, 5), 2 * _t(rng, 3)
    probe = submission.autograd_probe(submission.gan.discriminator_loss, [real, fake])
    assert_probe_matches(probe, {"input_grads": [(torch.sigmoid(real) - 1) / 5, torch.sigmoid(fake) / 3]},
                         labels=ProbeLabels(inputs=("d/d real", "d/d fake")), rtol=1e-7, atol=1e-12)


@pytest.mark.points(2)
def test_generator_step(submission, oracle, weights, check, rng):
    """generator_step takes one Adam step on G with the non-saturating loss, through D; D's weights stay."""
    G, D, sd_g, sd_d = _nets(submission, weights)
    opt_g, _ = submission.gan.make_optimizers(G, D, 0.01)
    z = _t(rng, 6, 2)
    loss = submission.gan.generator_step(G, D, opt_g, z)
    assert_close(float(loss), float(oracle.non_saturating(oracle.discriminator(sd_d, oracle.generator(sd_g, z)))),
                 rtol=1e-6, name="the returned loss")
    check.unchanged(D, sd_d, "the generator step changed the discriminator's")
    want = oracle.adam_step(sd_g, lambda p: oracle.non_saturating(oracle.discriminator(sd_d, oracle.generator(p, z))),
                            0.01)
    check.weights_close(G, want, "G after the step")


@pytest.mark.points(2)
def test_alternating_steps_zero_the_gradients(submission, oracle, weights, check, rng):
    """A discriminator step after a generator step uses only its own gradients (D's are zeroed first)."""
    G, D, sd_g, sd_d = _nets(submission, weights)
    opt_g, opt_d = submission.gan.make_optimizers(G, D, 0.01)
    z1, real, z2 = _t(rng, 6, 2), _t(rng, 6, 2), _t(rng, 6, 2)
    submission.gan.generator_step(G, D, opt_g, z1)
    new_g = G.state_dict()
    check.unchanged(D, sd_d, "the generator step changed the discriminator's")
    submission.gan.discriminator_step(G, D, opt_d, real, z2)
    fake = oracle.generator(new_g, z2)
    want = oracle.adam_step(sd_d, lambda p: oracle.bce_real_fake(oracle.discriminator(p, real),
                                                                  oracle.discriminator(p, fake)), 0.01)
    check.weights_close(D, want, "D after the two steps")


@pytest.mark.points(1)
def test_discriminator_step_with_several_steps(submission, oracle, weights, check, rng):
    """Three discriminator steps in a row move D like three Adam steps on the discriminator loss, G unchanged."""
    G, D, sd_g, sd_d = _nets(submission, weights)
    _, opt_d = submission.gan.make_optimizers(G, D, 0.005)
    batches = [(_t(rng, 5, 2), _t(rng, 5, 2)) for _ in range(3)]
    for real, z in batches:
        submission.gan.discriminator_step(G, D, opt_d, real, z)
    leaves = {k: v.clone().requires_grad_() for k, v in sd_d.items()}
    opt = torch.optim.Adam(list(leaves.values()), lr=0.005, betas=(0.5, 0.999))
    for real, z in batches:
        opt.zero_grad()
        oracle.bce_real_fake(oracle.discriminator(leaves, real),
                             oracle.discriminator(leaves, oracle.generator(sd_g, z))).backward()
        opt.step()
    check.weights_close(D, {k: v.detach() for k, v in leaves.items()}, "D after three steps")
    check.unchanged(G, sd_g, "the discriminator steps changed the generator's")


@pytest.mark.points(1)
def test_conditional_networks_match_oracle(submission, oracle, weights, check, rng):
    """ConditionalGenerator and ConditionalDiscriminator append the one-hot label to their input."""
    G, D, sd_g, sd_d = _nets(submission, weights, conditional=True)
    z, x = _t(rng, 6, 2), _t(rng, 6, 2)
    y = torch.from_numpy(rng.integers(0, 8, size=6))
    assert_close(G(z, y), oracle.generator(sd_g, z, y), rtol=1e-6, atol=1e-9, name="G(z, labels)")
    assert_close(D(x, y), oracle.discriminator(sd_d, x, y), rtol=1e-6, atol=1e-9, name="D(x, labels)")


@pytest.mark.points(2)
def test_conditional_discriminator_step(submission, oracle, weights, check, rng):
    """discriminator_step of the conditional GAN feeds the labels to both networks; G stays unchanged."""
    G, D, sd_g, sd_d = _nets(submission, weights, conditional=True)
    _, opt_d = submission.gan.make_optimizers(G, D, 0.01)
    real, z = _t(rng, 6, 2), _t(rng, 6, 2)
    y, fy = (torch.from_numpy(rng.integers(0, 8, size=6)) for _ in range(2))
    submission.gan.discriminator_step(G, D, opt_d, real, z, y, fy)
    fake = oracle.generator(sd_g, z, fy)
    want = oracle.adam_step(sd_d, lambda p: oracle.bce_real_fake(oracle.discriminator(p, real, y),
                                                                  oracle.discriminator(p, fake, fy)), 0.01)
    check.weights_close(D, want, "D after the step")
    check.unchanged(G, sd_g, "the discriminator step changed the generator's")


@pytest.mark.points(2)
def test_conditional_gan_generates_the_asked_mode(submission, oracle, data, seed):
    """A conditional GAN trained on the ring (1000 steps) puts at least 90% of label k's samples near mode k."""
    x, y = data.ring(4000, seed=1)
    submission.seed(0)
    G = submission.gan.ConditionalGenerator(2, 8, 64, 2)
    D = submission.gan.ConditionalDiscriminator(2, 8, 64)
    submission.gan.train_gan(G, D, x, y, steps=1000, batch_size=128, lr=1e-3, seed=0)
    z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(seed))
    labels = torch.arange(2000) % 8
    samples = oracle.generator(G.state_dict(), z.double(), labels)
    d = torch.cdist(samples, oracle.ring_centres())
    right = float(((d.argmin(1) == labels) & (d.min(1).values < 0.25)).double().mean())
    assert right >= 0.9, f"{right:.1%} of the samples are near the mode of their label, expected at least 90%"
