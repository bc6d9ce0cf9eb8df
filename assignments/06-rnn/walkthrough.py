# %% [markdown]
# Once `rnn_numpy.py` passes its checks: how does the gradient of a loss on the last hidden state
# shrink (or grow) on its way back in time? `hidden_state_grad_norms` for a tanh RNN of 32 units
# over 60 steps, whose recurrent matrix is a random rotation scaled to a few spectral radii.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import rnn_numpy
import sequence

rng = np.random.default_rng(0)
N, T, D, H = 8, 60, 4, 32
x = rng.normal(0, 0.5, (N, T, D))
Wx = rng.normal(0, 0.5, (D, H))
rotation = np.linalg.qr(rng.normal(size=(H, H)))[0]
dh_last = rng.normal(size=(N, H))
for radius in (0.5, 0.9, 1.0, 1.2, 2.0):
    norms = rnn_numpy.hidden_state_grad_norms(x, np.zeros([N, H]), Wx, radius * rotation,
                                              np.zeros(H), dh_last)
    plt.semilogy(norms, label=f"spectral radius of Wh: {radius}")
plt.xlabel("time step t")
plt.ylabel("||dL/dh_t||")
plt.legend()
plt.show()

# %% [markdown]
# Once `cells.py` and `sequence.py` pass theirs: the long-range task (the label is in the first two
# of 50 tokens). Your `train_long_range` trains a classifier with `cell="lstm"` and with
# `cell="rnn"`; while it trains, a forward hook records, every 4 training steps, the loss of the
# model being trained on 512 sequences it never sees (chance: log 4 = 1.39).

# %%
X, y = sequence.make_long_range_data(1024, seed=1)
X_new, y_new = sequence.make_long_range_data(512, seed=2)


def train_and_record(cell, every=4):
    """train_long_range(X, y, cell), and the held-out loss every `every` training forward passes."""
    losses, steps = [], [0]

    def record(module, inputs, output):
        if isinstance(module, sequence.SequenceClassifier) and torch.is_grad_enabled():
            if steps[0] % every == 0:
                with torch.no_grad():  # this call does not record itself: no gradients
                    losses.append(float(F.cross_entropy(module(X_new), y_new)))
            steps[0] += 1

    hook = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        model = sequence.train_long_range(X, y, cell=cell, seed=0)
    finally:
        hook.remove()
    return model, losses


trained = {}
for cell in ("rnn", "lstm"):
    trained[cell], losses = train_and_record(cell)
    accuracy = float((trained[cell].predict(X_new) == y_new).float().mean())
    plt.plot(np.arange(len(losses)) * 4, losses, label=f"{cell}: accuracy {accuracy:.0%} at the end")
plt.axhline(np.log(4), color="k", ls="--", lw=0.8)
plt.xlabel("training step")
plt.ylabel("cross-entropy on new sequences")
plt.legend()
plt.show()

# %% [markdown]
# Why the difference: the gradient of the loss with respect to each input token, for the two
# trained models (mean norm over 512 sequences). The label depends on tokens 0 and 1 only.

# %%
for cell, model in trained.items():
    onehot = F.one_hot(X_new, 8).float().requires_grad_()
    states, _ = model.rnn(onehot)
    F.cross_entropy(model.head(states[:, -1]), y_new, reduction="sum").backward()
    plt.semilogy(onehot.grad.norm(dim=2).mean(dim=0), label=cell)
plt.xlabel("token position t")
plt.ylabel("mean ||dL/dx_t||")
plt.legend()
plt.show()
