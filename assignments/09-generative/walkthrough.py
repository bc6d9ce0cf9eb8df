# %% [markdown]
# Once `diffusion.py` passes its checks, train a small denoiser on the two-moons data and draw
# samples with your reverse process: they should land on the two moons.

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits, make_moons

import dcgan
import diffusion
import gan
import vae

data = torch.tensor(make_moons(2000, noise=0.05, random_state=0)[0], dtype=torch.float32)
betas = diffusion.linear_beta_schedule(100)
model = diffusion.DenoiserMLP(data_dim=2)
losses = diffusion.train_diffusion(model, data, betas, steps=1500, seed=0)
with torch.no_grad():
    samples = diffusion.sample(model, 1000, 2, betas, seed=1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(losses, lw=0.5)
ax1.set_xlabel("step")
ax1.set_ylabel("noise-prediction loss")
ax2.scatter(*data.T, s=2, alpha=0.3, label="data")
ax2.scatter(*samples.T, s=2, alpha=0.5, label="your samples")
ax2.legend()
plt.show()

# %% [markdown]
# Once `vae.py` passes its checks, train the VAE of the training test on the binarized digits
# (pixel >= 8 is 1) and look at what it makes: held-out digits beside their reconstructions (the
# decoder's pixel probabilities at the mean code), then a grid of samples from the prior.

# %%
digits = torch.tensor(load_digits().data >= 8, dtype=torch.float32)
torch.manual_seed(0)
vae_model = vae.VAE(64, 128, 8)
vae_losses = vae.train_vae(vae_model, digits[:1400], epochs=30, batch_size=64, lr=2e-3, seed=0)
with torch.no_grad():
    held_out = digits[1400:1416]
    mu, _ = vae_model.encode(held_out)
    reconstructions = torch.sigmoid(vae_model.decode(mu))
    held_out_elbo = vae.negative_elbo(digits[1400:], *vae_model(digits[1400:]))
samples = vae.sample_prior(vae_model, 32, seed=0)
fig = plt.figure(figsize=(14, 4.5))
ax = fig.add_subplot(1, 3, 1)
ax.plot(vae_losses)
ax.set_xlabel("epoch")
ax.set_ylabel("negative ELBO (nats)")
ax.set_title(f"held out: {float(held_out_elbo):.1f} nats")


def grid(images, rows, cols):
    """(rows * cols, 64) images as one (rows * 9, cols * 9) picture, 1-pixel gaps."""
    out = torch.full((rows * 9, cols * 9), 0.25)
    for k, image in enumerate(images):
        r, c = divmod(k, cols)
        out[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = image.reshape(8, 8)
    return out


pairs = torch.stack([held_out, reconstructions], dim=1).reshape(32, 64)
for position, images, title in [(2, pairs, "held-out digit | reconstruction"),
                                (3, samples, "samples from the prior")]:
    ax = fig.add_subplot(1, 3, position)
    ax.imshow(grid(images, 4, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# Once `gan.py` passes its checks, train the GAN of the training test on the ring of eight
# Gaussians: both losses per step, and 2,000 samples of the generator on the data.

# %%
ring, _ = gan.ring_of_gaussians(2000, seed=0)
torch.manual_seed(0)
G, D = gan.Generator(2, 128, 2), gan.Discriminator(2, 128)
d_losses, g_losses = gan.train_gan(G, D, ring, steps=2000, batch_size=128, lr=1e-3, seed=0)
with torch.no_grad():
    fake = G(torch.randn(2000, 2, generator=torch.Generator().manual_seed(1)))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
ax1.plot(d_losses, lw=0.5, label="discriminator")
ax1.plot(g_losses, lw=0.5, label="generator")
ax1.set_xlabel("step")
ax1.legend()
ax2.scatter(*ring.T, s=2, alpha=0.3, label="data")
ax2.scatter(*fake.T, s=2, alpha=0.5, label="generator")
ax2.set_aspect("equal")
ax2.legend()
plt.show()

# %% [markdown]
# Once `dcgan.py` passes its checks, train the DCGAN of the training test on the digits (scaled to
# [-1, 1]) with your `train_gan`, and look at its samples beside real digits. The same latent codes
# are decoded after 200 and after 800 steps.

# %%
images = dcgan.digit_images(load_digits().data)
torch.manual_seed(0)
G, D = dcgan.DCGANGenerator(16, 32), dcgan.DCGANDiscriminator(32)
codes = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
stages = []
for steps, round_ in ((200, 0), (600, 1)):
    d_losses, g_losses = gan.train_gan(G, D, images[:1400], steps=steps, batch_size=64, lr=5e-4, seed=round_)
    with torch.no_grad():
        stages.append(G(codes).reshape(32, 64))
fig = plt.figure(figsize=(14, 4.5))
for position, shown, title in [(1, images[1400:1432].reshape(32, 64), "real digits"),
                               (2, stages[0], "after 200 steps"), (3, stages[1], "after 800 steps")]:
    ax = fig.add_subplot(1, 3, position)
    ax.imshow(grid((shown + 1) / 2, 4, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
plt.tight_layout()
plt.show()
