"""Shared helpers of assignment 09's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results independent of our reference solution:
  ``torch.distributions`` for the KL divergence and the Bernoulli log-likelihood,
  closed forms from the DDPM paper for the schedules and the posterior (in numpy,
  float64), functional float64 forwards of the handout's networks with copied
  weights, ``torch.optim.Adam`` for one training step, exact enumeration of tiny
  RBMs, and the energy distance between sample sets;
- ``weights``: random weights, in the student's parameter names, for a student module;
- ``data``: the data sets (binarized digits, two moons, the ring of Gaussians);
- ``check``: assertions on a student module's weights.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import distributions as dist

from autograder.testing import assert_close, sklearn_digits

State = dict[str, torch.Tensor]


def _linear(sd: State, name: str, x: torch.Tensor) -> torch.Tensor:
    return x @ sd[f"{name}.weight"].T.to(x.dtype) + sd[f"{name}.bias"].to(x.dtype)


class Oracle:
    """Reference results for assignment 09 (float64 unless said)."""

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

    def mode_counts(self, samples, radius=0.25):
        """(per-mode counts of samples within radius of a ring centre, fraction near any centre)."""
        d = torch.cdist(samples.double(), self.ring_centres())
        near = d.min(dim=1).values < radius
        return torch.bincount(d.argmin(dim=1)[near], minlength=8), float(near.double().mean())

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
    def two_moons(n, seed, noise=0.05):
        """Two moons, standardized with the fixed statistics of a large reference draw: float32 (n, 2)."""
        from sklearn.datasets import make_moons

        ref = make_moons(20000, noise=noise, random_state=12345)[0]
        x = make_moons(n, noise=noise, random_state=seed)[0]
        return torch.tensor((x - ref.mean(0)) / ref.std(0), dtype=torch.float32)

    @staticmethod
    def ring(n, seed, num_modes=8, radius=2.0, std=0.05):
        """The ring of num_modes Gaussians: (x float32 (n, 2), labels int64 (n,))."""
        g = np.random.default_rng(seed)
        labels = g.integers(0, num_modes, size=n)
        a = 2 * np.pi * labels / num_modes
        x = radius * np.stack([np.cos(a), np.sin(a)], axis=1) + std * g.standard_normal((n, 2))
        return torch.tensor(x, dtype=torch.float32), torch.from_numpy(labels)


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
def check() -> Check:
    """Assertions on a student module's weights (see ``Check``)."""
    return Check()
