"""Denoising diffusion probabilistic models (Ho et al., 2020) on 2-D data (torch).

- ``linear_beta_schedule``, ``cosine_beta_schedule``, ``compute_alpha_bars``: the noise schedules;
- ``q_sample``: x_t drawn from q(x_t | x_0) in closed form;
- ``posterior_mean_variance``: the posterior q(x_{t-1} | x_t, x_0);
- ``DenoiserMLP``, ``diffusion_loss``: the epsilon-prediction network and its loss;
- ``p_sample_step``, ``sample``: one reverse step and the full sampling loop;
- ``train_diffusion``: the training loop.

Time steps are 0-based: ``t = 0, 1, ..., T - 1``, and index ``t`` holds the
paper's step ``t + 1``. So ``betas[t]`` is the paper's beta_{t+1},
``alpha_bars[t] = prod_{s=0..t} (1 - betas[s])``, and "x_t" is the sample after
``t + 1`` noising steps. By convention ``alpha_bars[-1]`` (before step 0) is 1.
Schedules are float64 tensors of shape (T,).
No function modifies its inputs.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def linear_beta_schedule(num_steps, beta_start=1e-4, beta_end=0.02):
    """The linear schedule of Ho et al.: num_steps betas evenly spaced from beta_start to beta_end.

    Inputs:
    - num_steps: int T
    - beta_start, beta_end: floats, the first and the last beta

    Returns:
    - betas: float64 tensor (T,)
    """
    # BEGIN SOLUTION hint: handout §4.1 (the linear schedule, in float64)
    betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    # END SOLUTION
    return betas


def cosine_beta_schedule(num_steps, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal (2021).

        f(u) = cos((u / T + s) / (1 + s) * pi / 2) ** 2,   u = 0 .. T
        alpha_bar(u) = f(u) / f(0)
        betas[t] = min(1 - alpha_bar(t + 1) / alpha_bar(t), max_beta),   t = 0 .. T - 1

    Inputs:
    - num_steps: int T
    - s: float, the small offset
    - max_beta: float, the clip for the last betas

    Returns:
    - betas: float64 tensor (T,)
    """
    # BEGIN SOLUTION hint: handout §4.1 (the cosine schedule)
    u = torch.arange(num_steps + 1, dtype=torch.float64)
    f = torch.cos((u / num_steps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)
    # END SOLUTION
    return betas


def compute_alpha_bars(betas):
    """The cumulative products of the alphas.

    Inputs:
    - betas: float64 tensor (T,)

    Returns:
    - alpha_bars: float64 tensor (T,), alpha_bars[t] = prod_{s=0..t} (1 - betas[s])
    """
    # BEGIN SOLUTION hint: handout §4.1 (alpha_bar)
    alpha_bars = torch.cumprod(1 - betas, dim=0)
    # END SOLUTION
    return alpha_bars


def _expand(values, t, like):
    """values[t] for a (N,) int tensor t, shaped (N, 1, ..., 1) to broadcast against like."""
    return values.to(like.dtype)[t].reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(x0, t, noise, alpha_bars):
    """Draw x_t from q(x_t | x_0) in closed form (the "nice property" of the paper):

        x_t = sqrt(alpha_bars[t]) * x0 + sqrt(1 - alpha_bars[t]) * noise

    Inputs:
    - x0: tensor (N, D), clean data
    - t: int64 tensor (N,), one time step per example, in 0 .. T - 1
    - noise: tensor (N, D), standard normal noise
    - alpha_bars: float64 tensor (T,)

    Returns:
    - xt: tensor (N, D), of x0's dtype
    """
    # BEGIN SOLUTION hint: handout §4.2 (one time step per row)
    ab = _expand(alpha_bars, t, x0)
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    # END SOLUTION
    return xt


def posterior_mean_variance(x0, xt, t, betas):
    """The posterior q(x_{t-1} | x_t, x_0) = N(mean, var * I) (equations 6 and 7 of the paper):

        mean = sqrt(ab_prev) * betas[t] / (1 - ab[t]) * x0
             + sqrt(1 - betas[t]) * (1 - ab_prev) / (1 - ab[t]) * xt
        var  = (1 - ab_prev) / (1 - ab[t]) * betas[t]

    with ab = compute_alpha_bars(betas) and ab_prev = ab[t - 1], which is 1 for t = 0
    (so at t = 0 the mean is x0 and the variance 0).

    Inputs:
    - x0: tensor (N, D)
    - xt: tensor (N, D)
    - t: int64 tensor (N,), in 0 .. T - 1
    - betas: float64 tensor (T,)

    Returns a tuple of:
    - mean: tensor (N, D), of x0's dtype
    - var: tensor (N, 1), of x0's dtype
    """
    # BEGIN SOLUTION hint: handout §4.3 (and its convention at t = 0)
    ab = compute_alpha_bars(betas)
    ab_prev = torch.cat([torch.ones(1, dtype=ab.dtype), ab[:-1]])
    beta_t, ab_t, ab_prev_t = _expand(betas, t, x0), _expand(ab, t, x0), _expand(ab_prev, t, x0)
    mean = (ab_prev_t.sqrt() * beta_t / (1 - ab_t)) * x0 + ((1 - beta_t).sqrt() * (1 - ab_prev_t) / (1 - ab_t)) * xt
    var = (1 - ab_prev_t) / (1 - ab_t) * beta_t
    # END SOLUTION
    return mean, var


def timestep_embedding(t, dim):
    """Sinusoidal embedding of integer time steps (given).

    Inputs:
    - t: int64 tensor (N,)
    - dim: even int

    Returns:
    - emb: float32 tensor (N, dim): [sin(t * f_0) .. sin(t * f_{dim/2-1}), cos(t * f_0) ..],
      with f_i = 1000 ** (-i / (dim / 2))
    """
    half = dim // 2
    freqs = 1000.0 ** (-torch.arange(half, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class DenoiserMLP(nn.Module):
    """The noise-prediction network eps_theta(x_t, t) for low-dimensional data:

        h = silu(fc1(cat([x, timestep_embedding(t, emb_dim)], dim=1)))
        h = silu(fc2(h))
        h = silu(fc3(h))
        eps = out(h)

    Inputs: data_dim (D), hidden_dim (H), emb_dim (E, even).

    Attributes: emb_dim, fc1 (nn.Linear(D + E, H)), fc2 (H -> H), fc3 (H -> H), out (H -> D).
    """

    def __init__(self, data_dim=2, hidden_dim=128, emb_dim=16):
        super().__init__()
        # BEGIN SOLUTION hint: handout §4.4 (the attributes and their shapes)
        self.emb_dim = emb_dim
        self.fc1 = nn.Linear(data_dim + emb_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.fc3 = nn.Linear(hidden_dim, hidden_dim)
        self.out = nn.Linear(hidden_dim, data_dim)
        # END SOLUTION

    def forward(self, x, t):
        """x: tensor (N, D); t: int64 tensor (N,) -> predicted noise, tensor (N, D)."""
        # BEGIN SOLUTION hint: handout §4.4 (the network's input)
        emb = timestep_embedding(t, self.emb_dim).to(x.dtype)
        h = F.silu(self.fc1(torch.cat([x, emb], dim=1)))
        h = F.silu(self.fc2(h))
        h = F.silu(self.fc3(h))
        eps = self.out(h)
        # END SOLUTION
        return eps


def diffusion_loss(model, x0, t, noise, alpha_bars):
    """The simplified DDPM loss: predict the noise that was added.

        loss = mean over N and D of (model(q_sample(x0, t, noise), t) - noise) ** 2

    Inputs:
    - model: a module, model(x (N, D), t (N,)) -> (N, D)
    - x0: tensor (N, D); t: int64 tensor (N,); noise: tensor (N, D)
    - alpha_bars: float64 tensor (T,)

    Returns:
    - loss: scalar tensor
    """
    # BEGIN SOLUTION hint: handout §4.4 (what the network predicts)
    xt = q_sample(x0, t, noise, alpha_bars)
    loss = F.mse_loss(model(xt, t), noise)
    # END SOLUTION
    return loss


def p_sample_step(xt, t, eps, betas, z):
    """One reverse step x_t -> x_{t-1} (Algorithm 2 of the paper), with the posterior variance:

        mean = (xt - betas[t] / sqrt(1 - ab[t]) * eps) / sqrt(1 - betas[t])
        x_{t-1} = mean + sqrt(var_t) * z,   var_t = (1 - ab[t - 1]) / (1 - ab[t]) * betas[t]

    (ab = compute_alpha_bars(betas); var_0 = 0, so the last step adds no noise.)

    Inputs:
    - xt: tensor (N, D), the current samples
    - t: int, the current time step, in 0 .. T - 1 (the same for every row)
    - eps: tensor (N, D), the model's predicted noise at (xt, t)
    - betas: float64 tensor (T,)
    - z: tensor (N, D), standard normal noise

    Returns:
    - x_prev: tensor (N, D), of xt's dtype
    """
    # BEGIN SOLUTION hint: handout §4.5 (one reverse step)
    ab = compute_alpha_bars(betas)
    beta_t, ab_t = float(betas[t]), float(ab[t])
    ab_prev = float(ab[t - 1]) if t > 0 else 1.0
    mean = (xt - beta_t / math.sqrt(1 - ab_t) * eps) / math.sqrt(1 - beta_t)
    var = (1 - ab_prev) / (1 - ab_t) * beta_t
    x_prev = mean + math.sqrt(var) * z
    # END SOLUTION
    return x_prev


@torch.no_grad()
def sample(model, num_samples, data_dim, betas, seed=0):
    """Ancestral sampling: x_{T-1} ~ N(0, I), then p_sample_step for t = T - 1, ..., 0.

    The randomness comes from one torch.Generator seeded with seed, in this order:
    first x = randn(num_samples, data_dim), then, at each t from T - 1 down to 0,
    z = randn(num_samples, data_dim) (drawn at every t, also at t = 0, where it is
    multiplied by 0). Everything in float32 (the model's dtype).

    Inputs:
    - model: a module, model(x (N, D), t (N,) int64) -> (N, D)
    - num_samples: int N; data_dim: int D
    - betas: float64 tensor (T,)
    - seed: int

    Returns:
    - x: float32 tensor (N, D), the samples x_0
    """
    # BEGIN SOLUTION hint: handout §4.5; the docstring gives the order of the draws
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(num_samples, data_dim, generator=g)
    for t in range(len(betas) - 1, -1, -1):
        z = torch.randn(num_samples, data_dim, generator=g)
        eps = model(x, torch.full((num_samples,), t, dtype=torch.long))
        x = p_sample_step(x, t, eps, betas, z)
    # END SOLUTION
    return x


def train_diffusion(model, data, betas, steps=2000, batch_size=256, lr=2e-3, seed=0):
    """Train the noise-prediction model with Adam on random minibatches.

    At each step: a minibatch of batch_size rows of data drawn with replacement,
    t uniform in 0 .. T - 1 per example, standard normal noise, diffusion_loss, one
    Adam step. Seed torch with seed first (torch.manual_seed) so that a run is
    reproducible.

    Inputs:
    - model: a DenoiserMLP (float32)
    - data: float32 tensor (M, D), the training set
    - betas: float64 tensor (T,)
    - steps, batch_size: ints; lr: float, Adam's learning rate
    - seed: int

    Returns:
    - losses: list of steps floats, the loss at every step
    """
    # BEGIN SOLUTION hint: handout §4.6; the docstring gives the order of the draws
    torch.manual_seed(seed)
    alpha_bars = compute_alpha_bars(betas)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x0 = data[torch.randint(len(data), (batch_size,))]
        t = torch.randint(len(betas), (batch_size,))
        noise = torch.randn_like(x0)
        loss = diffusion_loss(model, x0, t, noise, alpha_bars)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # END SOLUTION
    return losses
