"""Shared helpers of assignment 09's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results independent of our reference solution:
  ``torch.distributions`` for the KL divergence and the Bernoulli log-likelihood,
  closed forms from the DDPM paper for the schedules and the posterior (in numpy,
  float64), functional float64 forwards of the handout's networks with copied
  weights (torch's own ``conv_transpose2d`` for the DCGAN), ``torch.optim.Adam`` for one
  training step, exact enumeration of tiny RBMs, the energy distance between sample sets,
  and the GAN bars (``ring_problems``);
- ``weights``: random weights, in the student's parameter names, for a student module;
- ``data``: the data sets (binarized digits, digit images, two moons, the ring of Gaussians);
- ``digit_judge``: the DCGAN bar: a digits classifier the grader trains on real digits, and
  pixel statistics of held-out digits;
- ``check``: assertions on a student module's weights.

The training bars judge samples that the grader draws itself, with its own noise and its own
forward pass of the handout's architecture holding the student's trained weights.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import distributions as dist

from autograder.testing import assert_close, sklearn_digits

State = dict[str, torch.Tensor]

# The VAE's bar: the held-out negative ELBO of binarized digits, in nats, at most (independent
# pixels, a decoder that ignores z: about 25; the reference: about 19.2).
VAE_HELD_OUT_BAR = 21.0

# The diffusion model's bar, on 1000 samples: the energy distance to held-out two moons, below,
# and the share of samples near the moons' noiseless curves, at least (the reference, over 4
# training and 2 sampling seeds: 0.006-0.023 and 51-61%; a Gaussian with the data's mean and
# covariance: 0.027-0.032 and 33-36%, so the energy distance alone lets it pass).
DIFFUSION_ENERGY_BAR = 0.03
DIFFUSION_NEAR_RADIUS = 0.15  # in the moons' own units (make_moons: radius 1, noise 0.05)
DIFFUSION_NEAR_BAR = 0.45

# The ring GAN's bar, on 2000 samples the grader draws (the reference, over 10 training seeds:
# at least 75% near a mode, every mode at least 4.3%, energy distance at most 0.03; a Gaussian
# fitted to the ring: 5% near a mode, energy distance 0.095).
RING_NEAR_RADIUS = 0.25    # a sample is "near" a mode within 5 of the modes' standard deviations
RING_NEAR_BAR = 0.6        # the share of samples near some mode, at least
RING_MODE_SHARE_BAR = 0.025  # every mode's share of all samples, at least (a fair share: 0.125)
RING_ENERGY_BAR = 0.05     # the energy distance to held-out ring samples, at most

# The DCGAN's bar, on 1000 images the grader draws (the reference, 800 steps, over 6 training
# seeds: every digit but one at least 4%, confidence 0.84-0.86, mid-grey share 0.16-0.19,
# edge distance 0.037-0.048; a Gaussian over the 64 pixels: confidence 0.81, mid-grey 0.31,
# edge distance 0.099).
DIGITS_MIN_CLASSES = 8       # digits the grader's classifier finds in at least ...
DIGITS_CLASS_SHARE = 0.04    # ... this share of the samples each
DIGITS_CONFIDENCE_BAR = 0.8  # the classifier's mean top probability, at least
DIGITS_MID_GREY = (0.10, 0.25)  # the share of pixels in (-0.5, 0.5) (real digits: 0.17)
DIGITS_EDGE_BAR = 0.07       # Wasserstein-1 distance of neighbouring-pixel differences, at most


def _linear(sd: State, name: str, x: torch.Tensor) -> torch.Tensor:
    return x @ sd[f"{name}.weight"].T.to(x.dtype) + sd[f"{name}.bias"].to(x.dtype)


class Oracle:
    """Reference results for assignment 09 (float64 unless said)."""

    VAE_HELD_OUT_BAR = VAE_HELD_OUT_BAR

    # ------------------------------------------------------------ VAE
    @staticmethod
    def kl(mu, logvar):
        """KL(N(mu, exp(logvar)) || N(0, 1)) summed over the last axis, from torch.distributions."""
        q = dist.Normal(mu, torch.exp(0.5 * logvar))
        p = dist.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        return dist.kl_divergence(q, p).sum(-1)

    @staticmethod
    def bernoulli_nll(x, logits):
        """-log p(x | logits) of independent Bernoulli pixels, summed over the last axis."""
        return -dist.Bernoulli(logits=logits, validate_args=False).log_prob(x).sum(-1)

    def negative_elbo(self, x, logits, mu, logvar):
        return (self.bernoulli_nll(x, logits) + self.kl(mu, logvar)).mean()

    @staticmethod
    def vae_encode(sd: State, x):
        h = torch.relu(_linear(sd, "enc_hidden", x))
        return _linear(sd, "enc_mu", h), _linear(sd, "enc_logvar", h)

    @staticmethod
    def vae_decode(sd: State, z):
        return _linear(sd, "dec_out", torch.relu(_linear(sd, "dec_hidden", z)))

    def vae_forward(self, sd: State, x, eps):
        mu, logvar = self.vae_encode(sd, x)
        return self.vae_decode(sd, mu + torch.exp(0.5 * logvar) * eps), mu, logvar

    def vae_test_loss(self, sd: State, x, num_draws=10, seed=0):
        """The mean negative ELBO of x (nats per example), averaged over num_draws eps draws."""
        sd = {k: v.double() for k, v in sd.items()}
        x = x.double()
        g = torch.Generator().manual_seed(seed)
        mu, _ = self.vae_encode(sd, x)
        total = 0.0
        for _ in range(num_draws):
            eps = torch.randn(mu.shape, generator=g, dtype=torch.float64)
            total += float(self.negative_elbo(x, *self.vae_forward(sd, x, eps)))
        return total / num_draws

    # ------------------------------------------------------------ GAN
    @staticmethod
    def generator(sd: State, z, labels=None, num_classes=8):
        if labels is not None:
            z = torch.cat([z, F.one_hot(labels, num_classes).to(z.dtype)], dim=1)
        h = torch.relu(_linear(sd, "fc2", torch.relu(_linear(sd, "fc1", z))))
        return _linear(sd, "out", h)

    @staticmethod
    def discriminator(sd: State, x, labels=None, num_classes=8):
        if labels is not None:
            x = torch.cat([x, F.one_hot(labels, num_classes).to(x.dtype)], dim=1)
        h = F.leaky_relu(_linear(sd, "fc2", F.leaky_relu(_linear(sd, "fc1", x), 0.2)), 0.2)
        return _linear(sd, "out", h)[:, 0]

    @staticmethod
    def bce_real_fake(real_logits, fake_logits):
        """-mean log sigmoid(real) - mean log(1 - sigmoid(fake)), written with log-sigmoid."""
        return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()

    @staticmethod
    def non_saturating(fake_logits):
        """-mean log sigmoid(fake) = -mean log D(G(z))."""
        return -F.logsigmoid(fake_logits).mean()

    @staticmethod
    def adam_step(params: State, loss_fn, lr, betas=(0.5, 0.999)) -> State:
        """One torch.optim.Adam step on float64 copies of params, minimising loss_fn(params)."""
        leaves = {k: v.detach().double().clone().requires_grad_() for k, v in params.items()}
        opt = torch.optim.Adam(list(leaves.values()), lr=lr, betas=betas)
        opt.zero_grad()
        loss_fn(leaves).backward()
        opt.step()
        return {k: v.detach() for k, v in leaves.items()}

    @staticmethod
    def ring_centres(num_modes=8, radius=2.0):
        a = 2 * np.pi * np.arange(num_modes) / num_modes
        return torch.tensor(radius * np.stack([np.cos(a), np.sin(a)], axis=1))

    def mode_counts(self, samples, radius=RING_NEAR_RADIUS):
        """(per-mode counts of samples within radius of a ring centre, fraction near any centre)."""
        d = torch.cdist(samples.double(), self.ring_centres())
        near = d.min(dim=1).values < radius
        return torch.bincount(d.argmin(dim=1)[near], minlength=8), float(near.double().mean())

    def ring_problems(self, samples, held_out) -> list[str]:
        """What keeps samples (N, 2) of a ring GAN below the bar; [] when they pass.

        Three criteria, each of which a collapsed or partial generator fails: most samples
        near a mode, every one of the 8 modes with a fair part of them, and the energy
        distance to held-out ring samples.
        """
        counts, near = self.mode_counts(samples)
        shares = counts.double() / len(samples)
        energy = self.energy_distance(samples, held_out)
        problems = []
        if near < RING_NEAR_BAR:
            problems.append(f"{near:.1%} of the samples are near a mode, expected at least {RING_NEAR_BAR:.0%}")
        starved = [k for k in range(8) if shares[k] < RING_MODE_SHARE_BAR]
        if starved:
            problems.append(f"mode(s) {starved} get less than {RING_MODE_SHARE_BAR:.1%} of the samples each "
                            f"(shares {[round(float(v), 3) for v in shares]}): the generator misses modes")
        if not energy <= RING_ENERGY_BAR:
            problems.append(f"energy distance {energy:.3f} to held-out data, expected at most {RING_ENERGY_BAR}")
        return problems

    # ------------------------------------------------------------ DCGAN
    @staticmethod
    def conv_transpose2d(x, weight, bias=None, stride=1, padding=0):
        """torch's own transposed convolution (banned in the student's files, not here)."""
        bias = None if bias is None else bias.to(x.dtype)
        return F.conv_transpose2d(x, weight.to(x.dtype), bias, stride=stride, padding=padding)

    def dcgan_generator(self, sd: State, z):
        """The handout's DCGAN generator with the weights sd: z (N, Z) -> (N, 1, 8, 8)."""
        channels = sd["up1.weight"].shape[0]
        h = torch.relu(_linear(sd, "fc", z)).reshape(len(z), channels, 2, 2)
        h = torch.relu(self.conv_transpose2d(h, sd["up1.weight"], sd["up1.bias"], 2, 1))
        return torch.tanh(self.conv_transpose2d(h, sd["up2.weight"], sd["up2.bias"], 2, 1))

    @staticmethod
    def dcgan_discriminator(sd: State, x):
        """The handout's DCGAN discriminator with the weights sd: x (N, 1, 8, 8) -> logits (N,)."""
        h = x
        for name in ("conv1", "conv2"):
            h = F.leaky_relu(F.conv2d(h, sd[f"{name}.weight"].to(x.dtype), sd[f"{name}.bias"].to(x.dtype),
                                      stride=2, padding=1), 0.2)
        return _linear(sd, "out", h.flatten(1))[:, 0]

    # ------------------------------------------------------------ diffusion
    @staticmethod
    def linear_betas(T, beta_start, beta_end) -> np.ndarray:
        return np.array([beta_start + (beta_end - beta_start) * i / (T - 1) for i in range(T)])

    @staticmethod
    def cosine_betas(T, s=0.008, max_beta=0.999) -> np.ndarray:
        def f(u):
            return math.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2
        return np.array([min(1 - f(t + 1) / f(t), max_beta) for t in range(T)])

    @staticmethod
    def alpha_bars(betas) -> np.ndarray:
        """prod_{s <= t} (1 - beta_s), by an explicit loop."""
        out, acc = [], 1.0
        for b in np.asarray(betas, dtype=np.float64):
            acc *= 1.0 - b
            out.append(acc)
        return np.array(out)

    def posterior(self, x0, xt, t, betas):
        """(mean, var) of q(x_{t-1} | x_t, x_0) by Gaussian conditioning (Bayes), not eq. 7.

        x_{t-1} | x_0 ~ N(sqrt(ab_prev) x0, (1 - ab_prev)), x_t | x_{t-1} ~ N(sqrt(1 - beta) x_{t-1}, beta):
        precision = 1 / (1 - ab_prev) + (1 - beta) / beta,
        mean = var * (sqrt(ab_prev) x0 / (1 - ab_prev) + sqrt(1 - beta) xt / beta).
        At t = 0 (ab_prev = 1) the posterior is the point x0.
        """
        ab = self.alpha_bars(betas)
        x0, xt = np.asarray(x0, dtype=np.float64), np.asarray(xt, dtype=np.float64)
        mean, var = np.zeros_like(x0), np.zeros((len(x0), 1))
        for i, ti in enumerate(np.asarray(t)):
            beta = betas[ti]
            if ti == 0:
                mean[i] = x0[i]
                continue
            ab_prev = ab[ti - 1]
            v = 1.0 / (1.0 / (1 - ab_prev) + (1 - beta) / beta)
            mean[i] = v * (math.sqrt(ab_prev) * x0[i] / (1 - ab_prev) + math.sqrt(1 - beta) * xt[i] / beta)
            var[i] = v
        return mean, var

    @staticmethod
    def timestep_embedding(t, dim):
        half = dim // 2
        freqs = 1000.0 ** (-torch.arange(half, dtype=torch.float32) / half)
        angles = t.float()[:, None] * freqs[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    def denoiser(self, sd: State, x, t, emb_dim):
        h = torch.cat([x, self.timestep_embedding(t, emb_dim).to(x.dtype)], dim=1)
        for name in ("fc1", "fc2", "fc3"):
            h = F.silu(_linear(sd, name, h))
        return _linear(sd, "out", h)

    def reverse_step(self, xt, t, eps, betas, z):
        """Algorithm 2 with sigma_t^2 = the posterior variance (float64 numpy closed form)."""
        ab = self.alpha_bars(betas)
        ab_prev = ab[t - 1] if t > 0 else 1.0
        var = (1 - ab_prev) / (1 - ab[t]) * betas[t]
        mean = (xt - betas[t] / math.sqrt(1 - ab[t]) * eps) / math.sqrt(1 - betas[t])
        return mean + math.sqrt(var) * z

    @staticmethod
    def moons_near_fraction(samples, radius=DIFFUSION_NEAR_RADIUS) -> float:
        """The share of standardized two-moons samples within radius of the noiseless moons."""
        mean, std = Data.moons_standardization()
        x = samples.double() * torch.from_numpy(std) + torch.from_numpy(mean)
        u = torch.linspace(0.0, math.pi, 1000, dtype=torch.float64)
        upper = torch.stack([torch.cos(u), torch.sin(u)], 1)
        curve = torch.cat([upper, torch.stack([1 - torch.cos(u), 0.5 - torch.sin(u)], 1)])
        return float((torch.cdist(x, curve).min(dim=1).values < radius).double().mean())

    def moons_problems(self, samples, held_out) -> list[str]:
        """What keeps samples (N, 2) of a two-moons model below the bar; [] when they pass."""
        problems = []
        energy = self.energy_distance(samples, held_out)
        if not energy < DIFFUSION_ENERGY_BAR:
            problems.append(f"energy distance {energy:.4f} to held-out data, expected below {DIFFUSION_ENERGY_BAR}")
        near = self.moons_near_fraction(samples)
        if near < DIFFUSION_NEAR_BAR:
            problems.append(f"{near:.0%} of the samples lie within {DIFFUSION_NEAR_RADIUS} of the moons, expected "
                            f"at least {DIFFUSION_NEAR_BAR:.0%}: the samples are spread off the data")
        return problems

    @staticmethod
    def energy_distance(x, y):
        """2 E|X - Y| - E|X - X'| - E|Y - Y'| (V-statistic), float64."""
        x, y = x.double(), y.double()
        return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())

    # ------------------------------------------------------------ RBM
    @staticmethod
    def binary_states(n) -> torch.Tensor:
        return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)

    def rbm_joint(self, W, b, c):
        """(vs, hs, log_p) with log_p[i, j] = log p(v_i, h_j), by brute force over every (v, h)."""
        vs, hs = self.binary_states(W.shape[0]), self.binary_states(W.shape[1])
        neg_energy = vs @ W @ hs.T + (vs @ b)[:, None] + (hs @ c)[None, :]
        return vs, hs, neg_energy - torch.logsumexp(neg_energy.reshape(-1), dim=0)

    def rbm_log_z(self, W, b, c):
        vs, hs = self.binary_states(W.shape[0]), self.binary_states(W.shape[1])
        return torch.logsumexp((vs @ W @ hs.T + (vs @ b)[:, None] + (hs @ c)[None, :]).reshape(-1), dim=0)

    def rbm_neg_free_energy(self, v, W, b, c):
        """log sum_h exp(-E(v, h)) for each row of v, by brute force over h."""
        hs = self.binary_states(W.shape[1])
        return torch.logsumexp(v @ W @ hs.T + (v @ b)[:, None] + (hs @ c)[None, :], dim=1)

    def rbm_mean_log_likelihood(self, data, W, b, c):
        """Exact mean log p(v) of the rows of data."""
        W, b, c, data = W.double(), b.double(), c.double(), data.double()
        return float((self.rbm_neg_free_energy(data, W, b, c) - self.rbm_log_z(W, b, c)).mean())

    # leak-check: off: this oracle restates the handout's specification, independently written
    @staticmethod
    def gibbs(v, W, b, c, seed):
        """The handout's block-Gibbs step, with its pinned order of uniform draws."""
        g = torch.Generator().manual_seed(seed)
        p_h = torch.sigmoid(v @ W + c)
        h = (torch.rand(p_h.shape, generator=g, dtype=W.dtype) < p_h).to(W.dtype)
        p_v = torch.sigmoid(h @ W.T + b)
        return (torch.rand(p_v.shape, generator=g, dtype=W.dtype) < p_v).to(W.dtype), h
    # leak-check: on

    def cd1(self, v0, W, b, c, seed):
        """(dW, db, dc): data statistics minus those of the reconstruction gibbs(v0, seed)."""
        v1, _ = self.gibbs(v0, W, b, c, seed)
        ph0, ph1 = torch.sigmoid(v0 @ W + c), torch.sigmoid(v1 @ W + c)
        return (v0.T @ ph0 - v1.T @ ph1) / len(v0), (v0 - v1).mean(0), (ph0 - ph1).mean(0)


class Weights:
    """Random weights for a student module, keyed by the student's parameter names."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def like(self, module, scale=1.0, dtype=torch.float64) -> State:
        """Random values for every entry of ``module.state_dict()`` (a handle): weights with
        standard deviation scale / sqrt(fan_in), biases 0.2 * scale."""
        out = {}
        for k, v in module.state_dict().items():
            shape = tuple(v.shape)
            if k.endswith("bias"):
                a = 0.2 * scale * self.rng.standard_normal(shape)
            else:
                fan_in = shape[-1] if len(shape) > 1 else 1
                a = scale * self.rng.standard_normal(shape) / math.sqrt(fan_in)
            out[k] = torch.tensor(a, dtype=dtype)
        return out

    def load(self, module, scale=1.0, dtype=torch.float64) -> State:
        """Convert ``module`` to ``dtype``, load random weights into it, return them."""
        if dtype == torch.float64:
            module.double()
        sd = self.like(module, scale, dtype=dtype)
        module.load_state_dict(sd)
        return sd

    def dcgan_start(self, module) -> State:
        """The handout's initialisation of a DCGAN network, drawn here and loaded (float32).

        He-normal weights (standard deviation sqrt(2 / fan-in)) and zero biases. The fan-in
        of a linear layer is its input size, of a convolution C_in * k * k, and of a stride-2
        transposed convolution (``up*``, weight (C_in, C_out, k, k)) C_in * (k / 2) ** 2.
        """
        sd = {}
        for k, v in module.state_dict().items():
            shape = tuple(v.shape)
            if k.endswith("bias"):
                sd[k] = torch.zeros(shape)
                continue
            if k.startswith("up"):
                fan_in = shape[0] * (shape[2] / 2) ** 2
            else:
                fan_in = math.prod(shape[1:])
            sd[k] = torch.tensor(self.rng.standard_normal(shape) * math.sqrt(2 / fan_in), dtype=torch.float32)
        module.load_state_dict(sd)
        return sd


class Check:
    """Assertions on a student module's weights (its ``state_dict()``, fetched by value)."""

    @staticmethod
    def weights_close(module, want: State, what: str, rtol=1e-6, atol=1e-9) -> None:
        """Every entry of ``want`` matches the module's weight of that name."""
        got = module.state_dict()
        for k, v in want.items():
            assert_close(got[k], v, rtol=rtol, atol=atol, name=f"{what}: {k}")

    @staticmethod
    def unchanged(module, before: State, message: str) -> None:
        """The module's weights equal ``before`` exactly; ``message`` names what changed them."""
        for k, v in module.state_dict().items():
            assert torch.equal(v, before[k]), f"{message} {k}"


class Data:
    """The assignment's data sets, generated here from fixed seeds."""

    @staticmethod
    def binary_digits():
        """scikit-learn's 8x8 digits, binarized (pixel >= 8): float32 (1797, 64) of 0. and 1."""
        return torch.tensor(sklearn_digits()[0] >= 8, dtype=torch.float32)

    @staticmethod
    def digit_images():
        """scikit-learn's digits as images in [-1, 1], split once (numpy seed 0):
        (train float32 (1400, 1, 8, 8), train labels int64 (1400,), held-out float32 (397, 1, 8, 8))."""
        pixels, labels = sklearn_digits()
        order = np.random.default_rng(0).permutation(len(pixels))
        images = torch.tensor(pixels[order] / 8.0 - 1.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
        return images[:1400], torch.from_numpy(labels[order][:1400]), images[1400:]

    @staticmethod
    @functools.cache
    def moons_standardization(noise=0.05) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of a large reference draw of two moons: the fixed standardization."""
        from sklearn.datasets import make_moons

        ref = make_moons(20000, noise=noise, random_state=12345)[0]
        return ref.mean(0), ref.std(0)

    @staticmethod
    def two_moons(n, seed, noise=0.05):
        """Two moons, standardized with the fixed statistics of a large reference draw: float32 (n, 2)."""
        from sklearn.datasets import make_moons

        mean, std = Data.moons_standardization(noise)
        x = make_moons(n, noise=noise, random_state=seed)[0]
        return torch.tensor((x - mean) / std, dtype=torch.float32)

    @staticmethod
    def ring(n, seed, num_modes=8, radius=2.0, std=0.05):
        """The ring of num_modes Gaussians: (x float32 (n, 2), labels int64 (n,))."""
        g = np.random.default_rng(seed)
        labels = g.integers(0, num_modes, size=n)
        a = 2 * np.pi * labels / num_modes
        x = radius * np.stack([np.cos(a), np.sin(a)], axis=1) + std * g.standard_normal((n, 2))
        return torch.tensor(x, dtype=torch.float32), torch.from_numpy(labels)


class DigitJudge:
    """The DCGAN bar: a digits classifier trained here on the real training digits, and the
    pixel statistics of the held-out digits. ``problems(samples)`` says what keeps generated
    images below the bar.

    The classifier (scikit-learn's MLP, 64 hidden units, 97.7% on the held-out digits) finds
    which digit each sample is and how sure it is; a generator that collapses to a few digits
    fails the coverage. The pixel statistics compare the share of mid-grey pixels and the
    distribution of differences between neighbouring pixels with the held-out digits': a
    Gaussian over the pixels, which has the data's means and covariances, has blurred, noisy
    strokes and fails both.
    """

    def __init__(self, data: Data):
        from sklearn.neural_network import MLPClassifier

        train, labels, self.held_out = data.digit_images()
        self.classifier = MLPClassifier((64,), max_iter=500, random_state=0).fit(
            train.reshape(len(train), -1).double().numpy(), labels.numpy())
        self.real_edges = self.edges(self.held_out)

    @staticmethod
    def edges(images) -> np.ndarray:
        """Absolute differences between horizontally and vertically neighbouring pixels, pooled."""
        im = np.asarray(images, dtype=np.float64).reshape(-1, 8, 8)
        return np.concatenate([np.abs(np.diff(im, axis=1)).ravel(), np.abs(np.diff(im, axis=2)).ravel()])

    @staticmethod
    def wasserstein1(a: np.ndarray, b: np.ndarray) -> float:
        """The Wasserstein-1 distance between two 1-D samples, from 200 matched quantiles."""
        q = np.linspace(0.0025, 0.9975, 200)
        return float(np.abs(np.quantile(a, q) - np.quantile(b, q)).mean())

    def statistics(self, samples) -> dict[str, object]:
        """The bar's numbers for images (N, 1, 8, 8) in [-1, 1]."""
        x = np.asarray(samples, dtype=np.float64).reshape(len(samples), 64)
        probs = self.classifier.predict_proba(x)
        shares = np.bincount(probs.argmax(1), minlength=10) / len(x)
        return {"shares": shares, "confidence": float(probs.max(1).mean()),
                "mid_grey": float((np.abs(x) < 0.5).mean()),
                "edges": self.wasserstein1(self.edges(x), self.real_edges)}

    def problems(self, samples) -> list[str]:
        """What keeps the images below the bar; [] when they pass."""
        if not np.all(np.isfinite(np.asarray(samples, dtype=np.float64))):
            return ["the images hold NaN or infinite values"]
        s = self.statistics(samples)
        problems = []
        found = int((s["shares"] >= DIGITS_CLASS_SHARE).sum())
        if found < DIGITS_MIN_CLASSES:
            problems.append(f"only {found} digit(s) make up {DIGITS_CLASS_SHARE:.0%} of the samples each, expected "
                            f"at least {DIGITS_MIN_CLASSES} (shares {np.round(s['shares'], 3).tolist()}): "
                            "the generator collapsed to a few digits")
        if s["confidence"] < DIGITS_CONFIDENCE_BAR:
            problems.append(f"the grader's digits classifier is {s['confidence']:.2f} sure on average, expected at "
                            f"least {DIGITS_CONFIDENCE_BAR}: the samples do not look like digits")
        low, high = DIGITS_MID_GREY
        if not low <= s["mid_grey"] <= high:
            problems.append(f"{s['mid_grey']:.1%} of the pixels are mid-grey (in (-0.5, 0.5)), expected {low:.0%} to "
                            f"{high:.0%} (real digits: 17%): strokes and background are not separated")
        if s["edges"] > DIGITS_EDGE_BAR:
            problems.append(f"the differences between neighbouring pixels are {s['edges']:.3f} (Wasserstein-1) away "
                            f"from real digits', expected at most {DIGITS_EDGE_BAR}: noisy or blurred strokes")
        return problems


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results (see ``Oracle``)."""
    return Oracle()


@pytest.fixture
def weights(rng: np.random.Generator) -> Weights:
    """Random weights for student modules, drawn from the test's ``rng``."""
    return Weights(rng)


@pytest.fixture(scope="session")
def data() -> Data:
    """The assignment's data sets (see ``Data``)."""
    return Data()


@pytest.fixture(scope="session")
def digit_judge(data: Data) -> DigitJudge:
    """The DCGAN bar (see ``DigitJudge``), its classifier trained once per grading run."""
    return DigitJudge(data)


@pytest.fixture(scope="session")
def check() -> Check:
    """Assertions on a student module's weights (see ``Check``)."""
    return Check()
