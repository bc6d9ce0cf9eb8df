# %% [markdown]
# Once `diffusion.py` passes its checks, train a small denoiser on the two-moons data and draw
# samples with your reverse process: they should land on the two moons.

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import make_moons

import diffusion

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
