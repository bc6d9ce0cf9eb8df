"""Generative adversarial networks (Goodfellow et al., 2014) on 2-D data (torch).

- ``Generator``, ``Discriminator``: small MLPs; the discriminator outputs logits;
- ``discriminator_loss``, ``generator_loss``: binary cross-entropy with logits; the
  generator's loss is the non-saturating one, -log D(G(z));
- ``make_optimizers``, ``discriminator_step``, ``generator_step``, ``train_gan``: alternating
  training, in which the discriminator's step never changes the generator (``train_gan``
  also trains dcgan.py's networks);
- ``ConditionalGenerator``, ``ConditionalDiscriminator``: the conditional GAN (Mirza &
  Osindero, 2014), where both networks also see the one-hot class label;
- ``ring_of_gaussians`` (given): the 2-D mixture of 8 Gaussians.

The step and training functions serve both kinds: with ``labels=None`` they call
``G(z)`` and ``D(x)``, otherwise ``G(z, labels)`` and ``D(x, labels)``. The handout's
section 2 gives the mathematics. No function modifies its inputs.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def ring_of_gaussians(num_samples, num_modes=8, radius=2.0, std=0.05, seed=0):
    """The 2-D mixture of num_modes Gaussians evenly placed on a circle (given).

    Mode k is centred at radius * (cos(2 pi k / num_modes), sin(2 pi k / num_modes)).

    Returns a tuple of:
    - x: float32 tensor (num_samples, 2)
    - labels: int64 tensor (num_samples,), the mode of each point
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(num_modes, (num_samples,), generator=g)
    angles = 2 * math.pi * labels.float() / num_modes
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return centres + std * torch.randn(num_samples, 2, generator=g), labels


class Generator(nn.Module):
    """G(z) = out(relu(fc2(relu(fc1(z))))).

    Inputs: latent_dim (Z), hidden_dim (H), out_dim (D).

    Attributes: latent_dim, fc1 (nn.Linear(Z, H)), fc2 (H -> H), out (H -> D).
    forward(z): z (N, Z) -> samples (N, D).
    """

    def __init__(self, latent_dim=2, hidden_dim=64, out_dim=2):
        super().__init__()
        # BEGIN SOLUTION hint: handout §2.1 (the attributes and their shapes)
        self.latent_dim = latent_dim
        self.fc1 = nn.Linear(latent_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.out = nn.Linear(hidden_dim, out_dim)
        # END SOLUTION

    def forward(self, z):
        # BEGIN SOLUTION hint: handout §2.1 (the layers in order)
        x = self.out(F.relu(self.fc2(F.relu(self.fc1(z)))))
        # END SOLUTION
        return x


class Discriminator(nn.Module):
    """D(x) = out(leaky_relu(fc2(leaky_relu(fc1(x), 0.2)), 0.2)), squeezed to one logit per row.

    Inputs: in_dim (D), hidden_dim (H).

    Attributes: fc1 (nn.Linear(D, H)), fc2 (H -> H), out (H -> 1).
    forward(x): x (N, D) -> logits (N,) (no sigmoid).
    """

    def __init__(self, in_dim=2, hidden_dim=64):
        super().__init__()
        # BEGIN SOLUTION hint: handout §2.1 (the attributes and their shapes)
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.out = nn.Linear(hidden_dim, 1)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION hint: handout §2.1 (the layers in order; one logit per row)
        h = F.leaky_relu(self.fc2(F.leaky_relu(self.fc1(x), 0.2)), 0.2)
        logits = self.out(h).squeeze(1)
        # END SOLUTION
        return logits


class ConditionalGenerator(Generator):
    """G(z, y) = Generator applied to cat([z, one_hot(y, num_classes)], dim=1).

    Inputs: latent_dim (Z), num_classes (C), hidden_dim (H), out_dim (D).

    Attributes: latent_dim (Z), num_classes, fc1 (nn.Linear(Z + C, H)), fc2 (H -> H), out (H -> D).
    forward(z, labels): z (N, Z), labels int64 (N,) -> samples (N, D).
    """

    def __init__(self, latent_dim=2, num_classes=8, hidden_dim=64, out_dim=2):
        super().__init__(latent_dim + num_classes, hidden_dim, out_dim)
        # BEGIN SOLUTION hint: handout §2.4 (the attributes)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        # END SOLUTION

    def forward(self, z, labels):
        # BEGIN SOLUTION hint: handout §2.4 (what the network sees)
        y = F.one_hot(labels, self.num_classes).to(z.dtype)
        x = super().forward(torch.cat([z, y], dim=1))
        # END SOLUTION
        return x


class ConditionalDiscriminator(Discriminator):
    """D(x, y) = Discriminator applied to cat([x, one_hot(y, num_classes)], dim=1).

    Inputs: in_dim (D), num_classes (C), hidden_dim (H).

    Attributes: num_classes, fc1 (nn.Linear(D + C, H)), fc2 (H -> H), out (H -> 1).
    forward(x, labels): x (N, D), labels int64 (N,) -> logits (N,).
    """

    def __init__(self, in_dim=2, num_classes=8, hidden_dim=64):
        super().__init__(in_dim + num_classes, hidden_dim)
        # BEGIN SOLUTION hint: handout §2.4 (the attributes)
        self.num_classes = num_classes
        # END SOLUTION

    def forward(self, x, labels):
        # BEGIN SOLUTION hint: handout §2.4 (what the network sees)
        y = F.one_hot(labels, self.num_classes).to(x.dtype)
        logits = super().forward(torch.cat([x, y], dim=1))
        # END SOLUTION
        return logits


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss (handout §2.2): real examples are labelled 1, generated ones 0,
    and each kind's binary cross-entropy is averaged over its batch.

    Inputs:
    - real_logits: tensor (N,), D's logits on real data
    - fake_logits: tensor (M,), D's logits on generated data

    Returns:
    - loss: scalar tensor
    """
    # BEGIN SOLUTION hint: handout §2.2 (the discriminator's loss)
    loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    # END SOLUTION
    return loss


def generator_loss(fake_logits):
    """The non-saturating generator loss, -log D(G(z)), averaged over the batch (handout §2.2).

    Inputs:
    - fake_logits: tensor (M,), D's logits on generated data

    Returns:
    - loss: scalar tensor
    """
    # BEGIN SOLUTION hint: handout §2.2 (the generator's loss)
    loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # END SOLUTION
    return loss


def make_optimizers(G, D, lr=1e-3):
    """One Adam optimizer per network, both with betas=(0.5, 0.999).

    Inputs:
    - G, D: the generator and the discriminator
    - lr: float

    Returns a tuple of:
    - opt_G: torch.optim.Adam over G's parameters only
    - opt_D: torch.optim.Adam over D's parameters only
    """
    # BEGIN SOLUTION hint: handout §2.3 (one optimizer per network)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    # END SOLUTION
    return opt_G, opt_D


def _call(net, x, labels):
    return net(x) if labels is None else net(x, labels)


def discriminator_step(G, D, opt_D, real, z, labels=None, fake_labels=None):
    """One update of the discriminator (handout §2.3): one step of opt_D on the
    discriminator_loss of D(real) and D(G(z)), from this batch's gradients only. The
    generator must not change, and no gradient may reach it.

    Inputs:
    - G, D: the networks; opt_D: D's optimizer
    - real: tensor (N, ...), a minibatch of data
    - z: tensor (M, Z), latent codes
    - labels: None, or int64 (N,), the labels of real (conditional GAN)
    - fake_labels: None, or int64 (M,), the labels to generate fake with (conditional GAN)

    Returns:
    - loss: float, the discriminator loss before the step
    """
    # BEGIN SOLUTION hint: handout §2.3 (what this step may change)
    fake = _call(G, z, fake_labels).detach()
    loss = discriminator_loss(_call(D, real, labels), _call(D, fake, fake_labels))
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    # END SOLUTION
    return loss.item()


def generator_step(G, D, opt_G, z, fake_labels=None):
    """One update of the generator (handout §2.3): one step of opt_G on the non-saturating
    generator_loss(D(G(z))), from this batch's gradients only. D's weights do not change.

    Inputs:
    - G, D: the networks; opt_G: G's optimizer
    - z: tensor (M, Z), latent codes
    - fake_labels: None, or int64 (M,), the labels to generate with (conditional GAN)

    Returns:
    - loss: float, the generator loss before the step
    """
    # BEGIN SOLUTION hint: handout §2.3 (what this step may change)
    loss = generator_loss(_call(D, _call(G, z, fake_labels), fake_labels))
    opt_G.zero_grad()
    loss.backward()
    opt_G.step()
    # END SOLUTION
    return loss.item()


def train_gan(G, D, data, labels=None, steps=2000, batch_size=128, lr=1e-3, seed=0):
    """Alternating GAN training: at every step one discriminator_step, then one generator_step.

    Seed torch with seed first (torch.manual_seed), then make_optimizers(G, D, lr). At each
    step: idx = torch.randint(len(data), (batch_size,)); real = data[idx]; then
    z = torch.randn(batch_size, G.latent_dim) for the discriminator step and a new z of the
    same shape for the generator step. In the conditional case (labels given) the real
    batch has labels[idx], and the fake batches are generated with those same labels.

    Inputs:
    - G, D: the networks (float32)
    - data: float32 tensor (M, ...), one example per row (points (M, 2), images (M, 1, 8, 8));
      labels: None or int64 tensor (M,)
    - steps, batch_size: ints; lr: float
    - seed: int

    Returns a tuple of:
    - d_losses: list of steps floats
    - g_losses: list of steps floats
    """
    # BEGIN SOLUTION hint: handout §2.3; the docstring gives the order of the draws
    torch.manual_seed(seed)
    opt_G, opt_D = make_optimizers(G, D, lr)
    d_losses, g_losses = [], []
    for _ in range(steps):
        idx = torch.randint(len(data), (batch_size,))
        y = None if labels is None else labels[idx]
        z = torch.randn(batch_size, G.latent_dim)
        d_losses.append(discriminator_step(G, D, opt_D, data[idx], z, y, y))
        z = torch.randn(batch_size, G.latent_dim)
        g_losses.append(generator_step(G, D, opt_G, z, y))
    # END SOLUTION
    return d_losses, g_losses
